"""Resumable, parallel, verified downloads from Alibaba Cloud OSS.

The Rust engine of ``ossget`` (oss-resume) from Python::

    import oss_resume

    client = oss_resume.Client(region="cn-hangzhou")   # OSS_* keys, else the default chain
    report = client.download("examplebucket", "big/file.bin", "file.bin",
                             progress=lambda p: print(p.bytes_done, "/", p.bytes_total))
    print(report.bytes_total, "bytes,", report.bytes_resumed, "resumed")

Parts are fetched in parallel, each pinned to the object's ETag; the bytes are checked
against OSS's CRC-64 before the file is renamed into place; progress is kept in a
crash-safe checkpoint, so Ctrl-C, a crash or a reboot resumes where it stopped.

- :class:`Client` — ``download()`` (blocking, releases the GIL) and ``download_async()``.
- :class:`Credentials`, :class:`CancelToken`, :class:`Progress`, :class:`Report`.
- Exceptions: :class:`Error` and its subclasses (``oss_resume._errors``).
- :mod:`oss_resume.oss2` — ``resumable_download()``, a drop-in for oss2's.
"""

from . import _errors
from ._client import Client
from ._errors import *  # noqa: F401,F403 - the exception classes, listed in _errors.__all__
from ._native import CancelToken, Credentials, Progress, Report, Transfer, __version__

__all__ = [
    "Client",
    "Credentials",
    "CancelToken",
    "Progress",
    "Report",
    "Transfer",
    "__version__",
    *_errors.__all__,
]
