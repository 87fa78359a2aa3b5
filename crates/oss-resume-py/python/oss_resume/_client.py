"""``oss_resume.Client``: the native client plus the two ways to wait for a download."""

from typing import TYPE_CHECKING, Any, Callable, Optional

from . import _native
from ._errors import InvalidArgument
from ._native import Progress, Report, Transfer

if TYPE_CHECKING:
    import asyncio

ProgressCallback = Callable[[Progress], Any]

_DOWNLOAD_OPTIONS = """
        Options (keyword only):

        - ``part_size`` (int, bytes): size of each ranged part, 1 B .. 5 GiB; default
          8 MiB, raised only when an object would need more than 10,000 parts.
        - ``threads`` (int): parts downloaded at once, one connection each (default 4).
        - ``checkpoint`` (bool): record progress in ``checkpoint_path`` so the next call
          with the same arguments resumes (default True). Deleted when the download
          completes.
        - ``checkpoint_path`` (path): default ``{filename}.cp``.
        - ``version_id`` (str): a version of the object (versioned buckets). Without it
          the version HEAD reports is pinned for every part.
        - ``headers`` (dict): sent on HEAD and every part GET (``x-oss-request-payer``,
          ``x-oss-traffic-limit``, SSE-C headers...). Headers the downloader controls
          (``Range``, ``Authorization``, ``If-Match``...) are refused.
        - ``bandwidth_limit`` (int, bytes/s): one limit for all the parts together.
        - ``durability``: ``"durable"`` (default: data fsynced as it goes and before the
          rename, so even a power cut never leaves a wrong file) or ``"fast"`` (never
          fsync; a process kill still resumes).
        - ``on_change``: ``"fail"`` (default: raise ObjectChanged) or ``"restart"``
          (start over on the new version) when the object changes.
        - ``restart`` (bool): discard the checkpoint found, unread, and start over.
        - ``verify_on_resume`` (bool): re-read the bytes a checkpoint says are done and
          check their CRC-64 before trusting them.
        - ``retries`` (int): retries of a failing part in a row without progress
          (default 5).
        - ``cancel`` (CancelToken): ``token.cancel()`` from any thread stops the download
          with Cancelled, its checkpoint saved.
        - ``progress`` (callable): called as ``progress(Progress)`` at most every
          ``progress_interval`` seconds (default 0.1) and once at the end, on the thread
          that waits. An exception it raises cancels the download (checkpoint saved) and
          propagates.
"""


class Client(_native.Client):
    """An OSS client: endpoint, region, how to sign, and one connection pool for every
    download started from it. Thread-safe; make one and share it.

    ``Client(endpoint=None, *, region=None, credentials=None, anonymous=False,
    signature_version=4, path_style=False, cname=False, headers=None, user_agent=None,
    connect_timeout=None, stall_timeout=None)``

    - ``endpoint``: ``"https://oss-cn-hangzhou.aliyuncs.com"``, a bare host (https), or
      ``"http://127.0.0.1:9000"``; derived from ``region`` when omitted.
    - ``region``: the bucket's region, e.g. ``"cn-hangzhou"`` (signature V4 needs it unless
      the endpoint names it).
    - ``credentials``: None (``OSS_ACCESS_KEY_ID``/``OSS_ACCESS_KEY_SECRET``/optional
      ``OSS_SESSION_TOKEN`` when set, otherwise the default credentials chain ossget uses:
      ``ALIBABA_CLOUD_*`` variables, the Alibaba Cloud CLI profile (``ALIBABA_CLOUD_PROFILE``),
      ``~/.alibabacloud/credentials.ini``, OIDC, a credentials URI, the ECS RAM role; see
      docs/credentials.md), a :class:`Credentials`,
      a tuple ``(id, secret[, security_token])``, or a *provider*: any object with a
      ``get_credentials()`` method, asked before every request, returning one of those or
      an object with ``access_key_id``, ``access_key_secret`` and ``security_token``
      attributes (oss2's and alibabacloud-oss-v2's providers work as they are).
    - ``anonymous``: unsigned requests (public-read objects).
    - ``signature_version``: 4 (default) or 1.
    - ``path_style`` / ``cname``: addressing (virtual-hosted by default; path style is
      chosen by itself for IP and localhost endpoints).
    - ``headers``: sent with every request of every download.
    - ``connect_timeout`` / ``stall_timeout``: seconds (defaults 10 and 30).

    Bad settings raise :class:`InvalidArgument` here, before any request.
    """

    def download(
        self,
        bucket: str,
        key: str,
        filename: Any,
        *,
        progress: Optional[ProgressCallback] = None,
        progress_interval: float = 0.1,
        **options: Any,
    ) -> Report:
        """Downloads ``bucket``/``key`` to ``filename`` and returns a :class:`Report`.

        The bytes go to ``{filename}.oss-tmp``; ``filename`` is touched only by the final
        rename, after the CRC-64 of what was written matched OSS's. The GIL is released for
        the whole transfer, which runs on the module's own threads. Ctrl-C
        (KeyboardInterrupt) cancels the download, saves the checkpoint and re-raises; the
        same call then resumes.
        """
        _check_interval(progress_interval)
        transfer = self.start(bucket, key, filename, **options)
        return transfer.wait(progress, progress_interval)

    async def download_async(
        self,
        bucket: str,
        key: str,
        filename: Any,
        *,
        progress: Optional[ProgressCallback] = None,
        progress_interval: float = 0.1,
        **options: Any,
    ) -> Report:
        """:meth:`download` for asyncio: the event loop is never blocked, ``progress`` is
        called on the loop's thread, and cancelling the task cancels the download (its
        checkpoint saved before CancelledError propagates)."""
        _check_interval(progress_interval)
        transfer = self.start(bucket, key, filename, **options)
        return await wait_async(transfer, progress, progress_interval)


Client.download.__doc__ = (Client.download.__doc__ or "") + _DOWNLOAD_OPTIONS
Client.download_async.__doc__ = (Client.download_async.__doc__ or "") + _DOWNLOAD_OPTIONS


async def wait_async(
    transfer: Transfer, progress: Optional[ProgressCallback], interval: float
) -> Report:
    """Waits on the running loop for ``transfer`` to end; see ``download_async``.

    The transfer wakes the loop when it ends (``add_done_callback`` with
    ``call_soon_threadsafe``, from the runtime's thread), so nothing polls; with a
    ``progress`` callback the loop also looks at the progress every ``interval`` seconds.
    ``asyncio.wait`` is used rather than awaiting the future itself because it does not
    cancel the future when the task is cancelled: the cancellation path still needs it.
    """
    # Imported here, not at the top: asyncio costs a blocking-only program a tenth of a
    # second (or more on a busy machine) at start-up.
    import asyncio

    loop = asyncio.get_running_loop()
    ended: "asyncio.Future[None]" = loop.create_future()

    def wake() -> None:
        try:
            loop.call_soon_threadsafe(_resolve, ended)
        except RuntimeError:
            pass  # the loop is closed: nobody is waiting any more

    transfer.add_done_callback(wake)
    # Below 10 ms (0 included): as often as there is news (the engine publishes every
    # 50 ms), never a busy loop on the event loop.
    timeout = max(interval, 0.01) if progress is not None else None
    try:
        while True:
            finished, _ = await asyncio.wait((ended,), timeout=timeout)
            if progress is not None:
                latest = transfer.poll_progress()
                if latest is not None:
                    progress(latest)
            if finished:
                break
    except BaseException:
        # CancelledError, or the progress callback's exception: stop the download and let
        # it save its checkpoint before the exception goes on. A second cancellation stops
        # the wait; the runtime finishes the cancellation by itself.
        transfer.cancel()
        try:
            await asyncio.shield(ended)
        except asyncio.CancelledError:
            pass
        raise
    return transfer.result()


def _check_interval(seconds: float) -> None:
    """Refuses a bad ``progress_interval`` before anything starts."""
    if not (isinstance(seconds, (int, float)) and seconds >= 0):
        raise InvalidArgument(
            "invalid argument `progress_interval`: %r is not a number of seconds >= 0; use "
            "e.g. 0.1" % (seconds,),
            argument="progress_interval",
        )


def _resolve(future: "asyncio.Future[None]") -> None:
    if not future.done():
        future.set_result(None)
