"""Fixtures: standalone `oss-emulator` processes and what they serve.

The emulator is the binary cargo builds (`cargo build -p oss-emulator`); `cargo xtask ci`
passes its path in OSS_EMULATOR_BIN. Each one listens on a free loopback port and says
where on its first stdout line, `listening on http://127.0.0.1:PORT` (as xtask reads it).
Its buckets are public-read, so a plain unsigned GET (urllib: no code of ours) fetches the
bytes a download must reproduce; signed requests are still checked.
"""

import json
import os
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BUCKET = "py-bucket"
ACCESS_KEY_ID = "LTAI5tPyTestAccessKey"
ACCESS_KEY_SECRET = "py-test-access-key-secret"
STS_ACCESS_KEY_ID = "STS.PyTestTemporaryKey"
STS_SECRET = "py-test-sts-secret"
STS_TOKEN = "py-test-security-token"
REGION = "cn-hangzhou"

# Objects every emulator serves: key -> (size, seed).
OBJECTS = {
    "small.bin": (300_000, 11),
    "dir/medium.bin": (5 * 1024 * 1024 + 7, 12),
    "big.bin": (12 * 1024 * 1024, 13),
    "other.bin": (3 * 1024 * 1024, 14),
}
MIB = 1024 * 1024
# The throttled emulator's rate: slow enough that a test can interrupt a download.
THROTTLE = 8 * MIB


def emulator_binary() -> Path:
    given = os.environ.get("OSS_EMULATOR_BIN")
    candidates = [Path(given)] if given else [
        ROOT / "target" / "debug" / "oss-emulator",
        ROOT / "target" / "release" / "oss-emulator",
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    pytest.exit(
        "no oss-emulator binary at %s: build it with `cargo build -p oss-emulator` (or set "
        "OSS_EMULATOR_BIN)" % ", ".join(str(c) for c in candidates),
        returncode=2,
    )


class Emulator:
    """A running `oss-emulator` (killed by `close`)."""

    def __init__(self, *flags: str, credentials=(ACCESS_KEY_ID, ACCESS_KEY_SECRET), token=None):
        cmd = [str(emulator_binary()), "--listen", "127.0.0.1:0", "--crc64", "--public-read",
               "--access-key-id", credentials[0], "--access-key-secret", credentials[1]]
        if token is not None:
            cmd += ["--security-token", token]
        for key, (size, seed) in OBJECTS.items():
            cmd += ["--object", "%s/%s=%d,seed=%d" % (BUCKET, key, size, seed)]
        cmd += list(flags)
        self.process = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True
        )
        line = self._first_line()
        prefix = "listening on "
        if not line.startswith(prefix):
            self.close()
            raise RuntimeError("unexpected first line from oss-emulator: %r" % line)
        self.endpoint = line[len(prefix):].strip()
        self._expected = {}

    def _first_line(self) -> str:
        box = []
        reader = threading.Thread(target=lambda: box.append(self.process.stdout.readline()))
        reader.daemon = True
        reader.start()
        reader.join(60)
        if not box:
            self.close()
            raise RuntimeError("oss-emulator did not say where it listens within 60 s")
        return box[0]

    def url(self, key: str) -> str:
        return "%s/%s/%s" % (self.endpoint, BUCKET, key)

    def expected(self, key: str) -> bytes:
        """The object's bytes, by an unsigned GET (the bucket is public-read)."""
        if key not in self._expected:
            with urllib.request.urlopen(self.url(key), timeout=60) as r:
                self._expected[key] = r.read()
        return self._expected[key]

    def relayed(self) -> int:
        """Body bytes the emulator's proxy has written towards clients so far."""
        with urllib.request.urlopen(self.endpoint + "/-/stats", timeout=60) as r:
            return json.load(r)["proxy"]["body_bytes_to_client"]

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture(scope="session")
def emulator():
    """Access key ACCESS_KEY_ID; V4 signatures must be scoped to REGION."""
    e = Emulator("--region", REGION)
    yield e
    e.close()


@pytest.fixture(scope="session")
def slow_emulator():
    """As `emulator`, all traffic throttled to THROTTLE bytes/s."""
    e = Emulator("--region", REGION, "--throttle", str(THROTTLE))
    # The reference bytes are fetched before any test starts counting relayed bytes.
    for key in OBJECTS:
        e.expected(key)
    yield e
    e.close()


@pytest.fixture(scope="session")
def sts_emulator():
    """Only STS credentials (with their security token) are accepted."""
    e = Emulator(credentials=(STS_ACCESS_KEY_ID, STS_SECRET), token=STS_TOKEN)
    yield e
    e.close()


@pytest.fixture(scope="session")
def changing_emulator():
    """Replaces each object with a new version after 1 request for it: the HEAD pins the
    old version, the first GET meets the new one (a GET covers a run of parts, so a
    5 MiB object may need only one)."""
    e = Emulator("--replace-after", "1")
    yield e
    e.close()


@pytest.fixture(scope="session")
def corrupting_emulator():
    """Flips the first byte of every ranged response's body (headers stay right)."""
    e = Emulator("--corrupt-byte", "0")
    yield e
    e.close()


@pytest.fixture
def client(emulator):
    import oss_resume

    return oss_resume.Client(
        emulator.endpoint, region=REGION, credentials=(ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    )


@pytest.fixture
def slow_client(slow_emulator):
    import oss_resume

    return oss_resume.Client(
        slow_emulator.endpoint, region=REGION, credentials=(ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    )


def leftovers(directory: Path, name: str) -> list:
    """Files beside `name` in `directory` that a download made (temp, checkpoint, lock)."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(name + "."))


PYTHON = sys.executable
