"""The exceptions oss_resume raises.

Every failure of a download is an :class:`Error`; each subclass is a situation a caller
acts on. ``str(error)`` is the whole story, each cause once (``"could not read the
object's metadata: 404 NoSuchKey ..."``). Every instance has:

- ``retryable`` (bool): whether calling the same download again may succeed without
  changing anything (a transient remote failure whose retries ran out, a cancellation, a
  lock held by a run that may finish, a discarded changed or corrupt download). With the
  checkpoint on (the default), the next call resumes.
- ``request_id`` (str or None): the OSS request id involved, to quote to support.

KeyboardInterrupt and exceptions raised by a ``progress`` callback or a credentials
provider are not wrapped: they propagate as they are (a provider's becomes the
``__cause__`` of a :class:`CredentialsError`).
"""

from typing import Any, Optional, Tuple

__all__ = [
    "Error",
    "InvalidArgument",
    "CredentialsError",
    "ServiceError",
    "ObjectArchived",
    "TransportError",
    "ObjectChanged",
    "CrcMismatch",
    "LocalIOError",
    "InsufficientSpace",
    "CheckpointError",
    "Locked",
    "ForeignFile",
    "Cancelled",
]


class Error(Exception):
    """Base class of every oss_resume failure."""

    retryable: bool
    request_id: Optional[str]

    def __init__(self, text: str, /, **attrs: Any) -> None:
        super().__init__(text)
        self.retryable = bool(attrs.pop("retryable", False))
        self.request_id = attrs.pop("request_id", None)
        for name, value in attrs.items():
            setattr(self, name, value)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class InvalidArgument(Error, ValueError):
    """An argument (of the client or the download) is unusable; nothing was requested.

    ``argument`` names it; the message says what is wrong and how to fix it.
    """

    argument: str


class CredentialsError(Error):
    """No credentials could be had to sign a request: the credentials provider raised (its
    exception is ``__cause__``) or returned something unusable."""


class ServiceError(Error):
    """OSS answered with an error: ``status`` (HTTP), ``code`` (``NoSuchKey``,
    ``AccessDenied``...), ``message``, ``request_id``, ``ec`` (OSS's detailed code),
    ``operation`` (``GET bucket/key``), ``advice`` (what to do about it), and ``part``
    (``(index, first_byte, last_byte)`` when a part's GET failed, else None)."""

    status: int
    code: str
    message: str
    ec: Optional[str]
    operation: str
    advice: str
    part: Optional[Tuple[int, int, int]]


class ObjectArchived(Error):
    """The object is in an archive storage class; restore it first. ``code`` is OSS's."""

    code: str


class TransportError(Error):
    """A request failed without an OSS error answer, after its retries: connection,
    timeout, TLS, or a response that breaks the protocol (a wrong range, a cut body).
    ``part`` as in :class:`ServiceError`."""

    part: Optional[Tuple[int, int, int]]


class ObjectChanged(Error):
    """The object changed during the download (or since its checkpoint). Nothing was
    stitched from two versions; the partial data was discarded, so the next call downloads
    the new version (``on_change="restart"`` does that by itself). ``detail`` says what
    differs; ``part`` as in :class:`ServiceError`."""

    detail: str
    part: Optional[Tuple[int, int, int]]


class CrcMismatch(Error):
    """The downloaded bytes' CRC-64 (``actual``) differs from OSS's (``expected``). Nothing
    reached the destination and the partial data and checkpoint were deleted, so a retry
    downloads everything again (it can neither loop on nor accept the bad data)."""

    expected: int
    actual: int


class LocalIOError(Error, OSError):
    """A local file operation failed (disk full, permission denied, I/O error); never
    retried as a network error. Also an :class:`OSError`: ``errno`` and ``filename`` are
    set; ``op`` names the step (``lock``, ``create_temp``, ``preallocate``, ``write``,
    ``rename``, ``sync``, ``sync_directory``, ``checkpoint``...), ``part`` the part whose
    bytes were being written."""

    op: str
    part: Optional[Tuple[int, int, int]]


class InsufficientSpace(LocalIOError):
    """The filesystem has less free space than the download needs (``needed``,
    ``available`` bytes); nothing was requested past HEAD."""

    needed: int
    available: int


class CheckpointError(Error):
    """The checkpoint at ``path`` cannot be used and must not be discarded silently: it
    belongs to another download, or a newer version wrote it. ``restart=True`` discards it."""

    path: str


class Locked(Error):
    """Another run is downloading to the same ``destination`` (its lock file is
    ``lock_path``, its process id ``pid`` when known)."""

    destination: str
    lock_path: str
    pid: Optional[int]


class ForeignFile(Error):
    """Something this download did not make sits at one of its side files' names (``path``,
    e.g. the lock ``{filename}.lock`` is a directory or a link; ``found`` says what). It was
    left alone and nothing was requested: move it away, or ``restart=True`` removes it."""

    path: str
    found: str


class Cancelled(Error):
    """The download was cancelled through its ``cancel=`` token. ``checkpoint_saved`` says
    whether the progress was saved (the next call resumes from it)."""

    checkpoint_saved: bool
