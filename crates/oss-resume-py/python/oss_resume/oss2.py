"""A drop-in for ``oss2.resumable_download``: the same call, oss-resume's engine.

Switching is one import line::

    # from oss2 import resumable_download
    from oss_resume.oss2 import resumable_download

    resumable_download(bucket, "big/file.bin", "file.bin", num_threads=4,
                       progress_callback=lambda done, total: print(done, total))

It takes the same arguments (by position and by name), reads the endpoint, the bucket
name, the addressing and the auth (``oss2.Auth``, ``AuthV4`` with the bucket's region,
``StsAuth``, ``ProviderAuth*``, ``AnonymousAuth``) off the ``oss2.Bucket``, reads the
``oss2.defaults`` it reads at call time, returns None, and raises the ``oss2.exceptions``
oss2 would for OSS's answers, a CRC mismatch and network failures (with oss_resume's
exception, which has the full story, as ``__cause__``).

Where it differs from oss2 2.19 (on purpose):

- Every object takes the resumable path, whatever ``multiget_threshold`` says: bytes go to
  ``{filename}.oss-tmp`` and ``filename`` is replaced only by the final rename after the
  CRC-64 check (oss2 writes objects under 100 MiB straight into ``filename``). A lock file
  ``{filename}.lock`` keeps two runs off the same file.
- The checkpoint is oss-resume's crash-safe binary file, kept in the store's directory
  (``~/.py-oss-download`` by default, as oss2) under oss2's record name plus
  ``.oss-resume``, so it never collides with an oss2 record; it is deleted on success. A
  store without a ``dir`` (a custom ``get``/``put``/``delete`` store) is refused: the
  checkpoint is a file, not a JSON value.
- Durable by default: data is fsynced as it goes, so a power cut never leaves a wrong
  file; pass ``durability="fast"`` to never fsync, as oss2 does.
- The CRC-64 is always checked when OSS sends one, whatever ``bucket.enable_crc`` says.
- Retries: transient failures are retried inside the part (oss2 retries nothing here).
- ``progress_callback(consumed, total)`` reports bytes actually on disk, at most every
  0.1 s and once at the end, on the calling thread (oss2: at each part's start).
- Refused with ``oss_resume.InvalidArgument`` where oss2 silently does something else:
  ``params`` other than ``versionId`` (oss2 sends them along), a ``CryptoBucket`` (oss2
  downloads the ciphertext), ``AuthV2`` (oss-resume signs V1 and V4 only), a bucket with
  ``proxies``, and ``AuthV4`` without ``region``.
- ``headers`` are all sent, on HEAD and every part GET (oss2 keeps only
  ``x-oss-request-payer`` and ``x-oss-traffic-limit`` and drops the rest); headers the
  downloader controls (``Range``, ``If-Match``, ``Authorization``...) are refused.
- Timeouts are oss-resume's (connect 10 s, a body stalled 30 s), not ``bucket.timeout``.
- Ctrl-C saves the checkpoint before KeyboardInterrupt propagates.
"""

import os
from typing import Any, Callable, Mapping, Optional

from . import _errors
from ._client import Client

__all__ = ["resumable_download"]

_CHECKPOINT_SUFFIX = ".oss-resume"


def resumable_download(
    bucket: Any,
    key: Any,
    filename: Any,
    multiget_threshold: Optional[int] = None,
    part_size: Optional[int] = None,
    progress_callback: Optional[Callable[[int, int], Any]] = None,
    num_threads: Optional[int] = None,
    store: Any = None,
    params: Optional[Mapping[str, Any]] = None,
    headers: Optional[Mapping[str, str]] = None,
    *,
    durability: str = "durable",
) -> None:
    """Downloads ``key`` of ``bucket`` (an ``oss2.Bucket``) to ``filename``, resuming a
    download this function left unfinished. See the module docs for how it differs from
    oss2's; ``multiget_threshold`` is accepted and not used (every object is downloaded
    through a temp file and verified)."""
    import oss2  # the caller passes an oss2.Bucket: oss2 is installed

    del multiget_threshold  # see the docstring
    key = _text(key)
    filename = os.fspath(filename)
    if part_size is None:
        part_size = oss2.defaults.multiget_part_size
    if num_threads is None:
        num_threads = oss2.defaults.multiget_num_threads
    version_id = _version_id(params)
    if store is None:
        store = oss2.ResumableDownloadStore()
    checkpoint_path = _checkpoint_path(store, bucket.bucket_name, key, filename, version_id)

    progress = None
    if progress_callback is not None:
        callback = progress_callback

        def progress(p: Any) -> None:
            callback(p.bytes_done, p.bytes_total)

    client = Client(**client_settings(bucket))
    try:
        client.download(
            bucket.bucket_name,
            key,
            filename,
            part_size=part_size,
            threads=num_threads,
            checkpoint=True,
            checkpoint_path=checkpoint_path,
            version_id=version_id,
            headers=dict(headers.items()) if headers else None,
            durability=durability,
            progress=progress,
        )
    except _errors.Error as e:
        translated = _as_oss2_error(oss2, e)
        if translated is None:
            raise
        raise translated from e


def client_settings(bucket: Any) -> dict:
    """``oss_resume.Client`` arguments for an ``oss2.Bucket``: its endpoint and addressing,
    and how its auth signs (the credentials provider itself, asked before every request, as
    oss2 asks it). Refuses what oss-resume cannot do as the bucket would."""
    name = type(bucket).__name__
    if name == "CryptoBucket":
        raise _errors.InvalidArgument(
            "invalid argument `bucket`: a CryptoBucket is client-side encrypted; oss2's "
            "resumable_download would save the ciphertext, oss_resume does not decrypt: "
            "download it with oss2's CryptoBucket.get_object_to_file",
            argument="bucket",
        )
    if getattr(bucket, "proxies", None):
        raise _errors.InvalidArgument(
            "invalid argument `bucket`: it has proxies, which oss_resume does not support; "
            "connect directly, or use oss2",
            argument="bucket",
        )
    url = getattr(bucket, "_make_url", None)
    settings: dict = {
        "endpoint": bucket.endpoint,
        "path_style": bool(getattr(url, "is_path_style", False)),
        "cname": bool(getattr(url, "is_cname", False)),
        "user_agent": "oss-resume-py-oss2",
    }
    auth = bucket.auth
    version = auth.auth_version() if hasattr(auth, "auth_version") else None
    if version == "":
        settings["anonymous"] = True
        return settings
    if version == "v1":
        settings["signature_version"] = 1
    elif version == "v4":
        region = getattr(bucket, "region", None)
        if not region:
            raise _errors.InvalidArgument(
                "invalid argument `bucket`: its auth signs V4, which needs the bucket's "
                "region; make it with oss2.Bucket(auth, endpoint, name, region='cn-hangzhou')",
                argument="bucket",
            )
        settings["signature_version"] = 4
        settings["region"] = region
    else:
        raise _errors.InvalidArgument(
            "invalid argument `bucket`: its auth (%s, signature %r) is not one oss_resume "
            "signs with; use oss2.Auth (V1), oss2.AuthV4, oss2.StsAuth or oss2.AnonymousAuth"
            % (type(auth).__name__, version),
            argument="bucket",
        )
    settings["credentials"] = _credentials_provider(auth)
    return settings


def _credentials_provider(auth: Any) -> Any:
    """The auth's credentials provider: its ``get_credentials()`` returns an object with
    ``access_key_id``, ``access_key_secret`` and ``security_token``, which is what
    ``oss_resume.Client(credentials=...)`` takes. ``StsAuth`` keeps its signer (with the
    provider) in a private attribute; oss2 2.x has kept that name."""
    inner = getattr(auth, "_StsAuth__auth", auth)
    provider = getattr(inner, "credentials_provider", None)
    if provider is None or not hasattr(provider, "get_credentials"):
        raise _errors.InvalidArgument(
            "invalid argument `bucket`: cannot find the credentials of its auth (%s)"
            % type(auth).__name__,
            argument="bucket",
        )
    return provider


def _version_id(params: Optional[Mapping[str, Any]]) -> Optional[str]:
    if not params:
        return None
    others = sorted(k for k in params if k != "versionId")
    if others:
        raise _errors.InvalidArgument(
            "invalid argument `params`: only versionId is supported, not %s; oss2 sends "
            "other query parameters along, oss_resume does not" % ", ".join(others),
            argument="params",
        )
    value = params.get("versionId")
    return None if value is None else _text(value)


def _checkpoint_path(
    store: Any, bucket_name: str, key: str, filename: str, version_id: Optional[str]
) -> str:
    directory = getattr(store, "dir", None)
    if not directory:
        raise _errors.InvalidArgument(
            "invalid argument `store`: oss_resume keeps its checkpoint in a file in the "
            "store's directory; pass an oss2.ResumableDownloadStore (it has .dir), not a "
            "custom get/put store",
            argument="store",
        )
    os.makedirs(directory, exist_ok=True)
    path = os.path.abspath(filename)
    if version_id is None:  # as oss2 calls it, so a store overriding it sees the same call
        record = store.make_store_key(bucket_name, key, path)
    else:
        record = store.make_store_key(bucket_name, key, path, version_id)
    return os.path.join(directory, record + _CHECKPOINT_SUFFIX)


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _as_oss2_error(oss2: Any, error: "_errors.Error") -> Optional[BaseException]:
    """The ``oss2.exceptions`` instance oss2 raises in the same situation, or None (then
    oss_resume's own exception propagates: local I/O errors are OSErrors in both)."""
    exceptions = oss2.exceptions
    request_id = error.request_id or ""
    if isinstance(error, _errors.ServiceError):
        details = {"Code": error.code, "Message": error.message, "RequestId": request_id}
        if error.ec:
            details["EC"] = error.ec
        table = getattr(exceptions, "_OSS_ERROR_TO_EXCEPTION", {})
        cls = table.get((error.status, error.code), exceptions.ServerError)
        return cls(error.status, {"x-oss-request-id": request_id}, b"", details)
    if isinstance(error, _errors.ObjectChanged):
        details = {"Code": "PreconditionFailed", "Message": str(error), "RequestId": request_id}
        return exceptions.PreconditionFailed(412, {"x-oss-request-id": request_id}, b"", details)
    if isinstance(error, _errors.CrcMismatch):
        return exceptions.InconsistentError(str(error), request_id)
    if isinstance(error, _errors.TransportError):
        return exceptions.RequestError(error)
    return None
