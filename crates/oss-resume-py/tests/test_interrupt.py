"""Stopping a download and resuming it: KeyboardInterrupt (raised by the progress callback,
or a real SIGINT), an exception in the callback, asyncio cancellation, and `kill -9` of a
child process; each resume is byte-exact and re-fetches little."""

import asyncio
import os
import signal
import subprocess
import threading

import oss_resume
import pytest
from conftest import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    BUCKET,
    MIB,
    OBJECTS,
    PYTHON,
    REGION,
    THROTTLE,
    leftovers,
)

SIZE = OBJECTS["big.bin"][0]
THREADS = 4


def refetch_bound(kills: int) -> int:
    """What a stop may cost, as oss-resume's crash tests bound it: the transfer of 250 ms at
    the throttled rate (commit interval, aggregator lag on a loaded machine), a 256 KiB
    network chunk in hand per worker, and 512 KiB of socket slack."""
    return kills * (THROTTLE * 250 // 1000 + THREADS * 256 * 1024 + 512 * 1024)


def resume_and_check(client, emulator, dest, relayed_before, stops):
    report = client.download(BUCKET, "big.bin", dest, part_size=MIB, threads=THREADS)
    assert report.resumed and report.checkpoint == "resumed"
    assert 0 < report.bytes_resumed < SIZE
    assert report.bytes_transferred == SIZE - report.bytes_resumed
    assert dest.read_bytes() == emulator.expected("big.bin")
    assert leftovers(dest.parent, dest.name) == []
    refetched = emulator.relayed() - relayed_before - SIZE
    print("re-fetched %d bytes after %d stop(s) (bound %d)" % (refetched, stops, refetch_bound(stops)))
    assert refetched <= refetch_bound(stops), (refetched, refetch_bound(stops))
    return report


def test_keyboard_interrupt_from_progress_saves_and_the_same_call_resumes(
    slow_client, slow_emulator, tmp_path
):
    dest = tmp_path / "big.bin"
    before = slow_emulator.relayed()
    last = []

    def progress(p):
        last.append(p.bytes_done)
        if p.bytes_done >= SIZE // 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        slow_client.download(BUCKET, "big.bin", dest, part_size=MIB, threads=THREADS,
                             progress=progress)
    # Cancelled, drained and saved before the exception came out.
    assert not dest.exists()
    assert leftovers(tmp_path, "big.bin") == ["big.bin.cp", "big.bin.oss-tmp"]
    report = resume_and_check(slow_client, slow_emulator, dest, before, 1)
    assert report.bytes_resumed >= last[-1]


def test_sigint_during_download(slow_client, slow_emulator, tmp_path):
    dest = tmp_path / "big.bin"
    before = slow_emulator.relayed()
    assert threading.current_thread() is threading.main_thread()
    timer = threading.Timer(0.6, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            slow_client.download(BUCKET, "big.bin", dest, part_size=MIB, threads=THREADS)
    finally:
        timer.cancel()
    assert (tmp_path / "big.bin.cp").exists() and not dest.exists()
    resume_and_check(slow_client, slow_emulator, dest, before, 1)


def test_an_exception_in_progress_cancels_and_propagates(slow_client, slow_emulator, tmp_path):
    dest = tmp_path / "big.bin"
    before = slow_emulator.relayed()

    class Stop(Exception):
        pass

    def progress(p):
        if p.bytes_done >= SIZE // 3:
            raise Stop("enough")

    with pytest.raises(Stop, match="enough"):
        slow_client.download(BUCKET, "big.bin", dest, part_size=MIB, threads=THREADS,
                             progress=progress)
    assert (tmp_path / "big.bin.cp").exists()
    resume_and_check(slow_client, slow_emulator, dest, before, 1)


def test_asyncio_cancellation_saves_the_checkpoint(slow_client, slow_emulator, tmp_path):
    dest = tmp_path / "big.bin"
    before = slow_emulator.relayed()

    async def main():
        task = asyncio.ensure_future(slow_client.download_async(
            BUCKET, "big.bin", dest, part_size=MIB, threads=THREADS))
        await asyncio.sleep(0.6)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # By the time CancelledError came out, the download had stopped and saved.
        assert (tmp_path / "big.bin.cp").exists() and not dest.exists()

    asyncio.run(main())
    resume_and_check(slow_client, slow_emulator, dest, before, 1)


CHILD = """
import sys, oss_resume
endpoint, dest = sys.argv[1], sys.argv[2]
client = oss_resume.Client(endpoint, region=%r, credentials=(%r, %r))
def progress(p):
    print(p.bytes_done, flush=True)
client.download(%r, "big.bin", dest, part_size=%d, threads=%d, progress=progress,
                progress_interval=0.05)
print("finished", flush=True)
""" % (REGION, ACCESS_KEY_ID, ACCESS_KEY_SECRET, BUCKET, MIB, THREADS)


def test_kill_9_of_a_child_process_then_resume(slow_client, slow_emulator, tmp_path):
    dest = tmp_path / "big.bin"
    before = slow_emulator.relayed()
    child = subprocess.Popen(
        [PYTHON, "-c", CHILD, slow_emulator.endpoint, str(dest)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        for line in child.stdout:
            if line.startswith("finished"):
                pytest.fail("the child finished before it could be killed")
            if int(line) >= SIZE // 2:
                break
        child.send_signal(signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL
    finally:
        child.kill()
        child.wait()
    assert not dest.exists() and (tmp_path / "big.bin.cp").exists()
    resume_and_check(slow_client, slow_emulator, dest, before, 1)
