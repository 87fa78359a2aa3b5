"""Type stubs of ``_client.py``: ``download()`` forwards its keyword options to
``Client.start()`` (``DownloadOptions`` in ``_native.pyi`` spells them out)."""

import os
from typing import Any, Callable, Optional, Union

from typing_extensions import Unpack

from . import _native
from ._native import DownloadOptions, Progress, Report, Transfer

ProgressCallback = Callable[[Progress], Any]
_Path = Union[str, "os.PathLike[str]"]

class Client(_native.Client):
    def download(
        self,
        bucket: str,
        key: str,
        filename: _Path,
        *,
        progress: Optional[ProgressCallback] = None,
        progress_interval: float = 0.1,
        **options: Unpack[DownloadOptions],
    ) -> Report: ...
    async def download_async(
        self,
        bucket: str,
        key: str,
        filename: _Path,
        *,
        progress: Optional[ProgressCallback] = None,
        progress_interval: float = 0.1,
        **options: Unpack[DownloadOptions],
    ) -> Report: ...

async def wait_async(
    transfer: Transfer, progress: Optional[ProgressCallback], interval: float
) -> Report: ...
