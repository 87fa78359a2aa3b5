"""Type stubs of the extension module ``oss_resume._native`` (src/*.rs)."""

import os
from typing import Any, Callable, Iterable, Literal, Mapping, Optional, Tuple, Union

from typing_extensions import TypedDict, Unpack

__version__: str

_Path = Union[str, "os.PathLike[str]"]
_Headers = Union[Mapping[str, str], Iterable[Tuple[str, str]]]

class Credentials:
    """An access key (id and secret), with a security token for STS credentials.
    ``repr()`` shows the id only."""

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        security_token: Optional[str] = None,
    ) -> None: ...
    @staticmethod
    def from_env() -> "Credentials": ...
    @property
    def access_key_id(self) -> Optional[str]: ...
    @property
    def has_security_token(self) -> bool: ...

class CancelToken:
    """``cancel()`` from any thread stops every download given this token."""

    def __init__(self) -> None: ...
    def cancel(self) -> None: ...
    @property
    def cancelled(self) -> bool: ...

class Progress:
    """A download's progress, as the ``progress`` callback receives it."""

    @property
    def bytes_done(self) -> int: ...
    @property
    def bytes_total(self) -> int: ...
    @property
    def parts_done(self) -> int: ...
    @property
    def parts_total(self) -> int: ...
    @property
    def bytes_resumed(self) -> int: ...
    @property
    def bytes_per_sec(self) -> float: ...
    @property
    def part_size(self) -> int: ...
    @property
    def retries(self) -> int: ...

class Report:
    """What a finished download reports."""

    @property
    def bytes_total(self) -> int: ...
    @property
    def bytes_transferred(self) -> int: ...
    @property
    def bytes_resumed(self) -> int: ...
    @property
    def retries(self) -> int: ...
    @property
    def restarts(self) -> int: ...
    @property
    def parts_total(self) -> int: ...
    @property
    def part_size(self) -> int: ...
    @property
    def crc64_verified(self) -> bool: ...
    @property
    def checkpoint(self) -> str:
        """``"disabled"``, ``"fresh"``, ``"resumed"`` or ``"already-complete"``."""
    @property
    def checkpoint_detail(self) -> Optional[str]: ...
    @property
    def resumed(self) -> bool: ...
    @property
    def warnings(self) -> list[str]: ...
    @property
    def elapsed(self) -> float: ...
    @property
    def etag(self) -> str: ...
    @property
    def version_id(self) -> Optional[str]: ...
    @property
    def crc64(self) -> Optional[int]: ...
    @property
    def last_modified(self) -> Optional[float]: ...
    @property
    def request_id(self) -> Optional[str]: ...

class Transfer:
    """A running download (``Client.start()``). Dropping it cancels the download."""

    def wait(
        self,
        progress: Optional[Callable[[Progress], Any]] = None,
        progress_interval: float = 0.1,
    ) -> Report: ...
    def cancel(self) -> None: ...
    def done(self) -> bool: ...
    def join(self, timeout: float) -> bool: ...
    def poll_progress(self) -> Optional[Progress]: ...
    def result(self) -> Report: ...
    def add_done_callback(self, callback: Callable[[], Any]) -> None: ...

class Client:
    def __init__(
        self,
        endpoint: Optional[str] = None,
        *,
        region: Optional[str] = None,
        credentials: Any = None,
        anonymous: bool = False,
        signature_version: Union[int, str, None] = None,
        path_style: bool = False,
        cname: bool = False,
        headers: Optional[_Headers] = None,
        user_agent: Optional[str] = None,
        connect_timeout: Optional[float] = None,
        stall_timeout: Optional[float] = None,
    ) -> None: ...
    def start(
        self, bucket: str, key: str, filename: _Path, **options: Unpack[DownloadOptions]
    ) -> Transfer: ...

class DownloadOptions(TypedDict, total=False):
    """The keyword options of ``start()``, ``download()`` and ``download_async()`` (their
    defaults are in ``Client.download.__doc__``)."""

    part_size: Optional[int]
    threads: int
    checkpoint: bool
    checkpoint_path: Optional[_Path]
    version_id: Optional[str]
    headers: Optional[_Headers]
    bandwidth_limit: Optional[int]
    durability: Literal["durable", "fast"]
    on_change: Literal["fail", "restart"]
    restart: bool
    verify_on_resume: bool
    retries: Optional[int]
    cancel: Optional[CancelToken]
