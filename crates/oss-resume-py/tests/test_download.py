"""Downloads that succeed: byte-exact, every way of signing, progress, the GIL, asyncio."""

import asyncio
import threading
import time

import oss_resume
import pytest
from conftest import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    BUCKET,
    MIB,
    OBJECTS,
    REGION,
    STS_ACCESS_KEY_ID,
    STS_SECRET,
    STS_TOKEN,
    leftovers,
)


def test_byte_exact_with_parts_in_parallel(client, emulator, tmp_path):
    dest = tmp_path / "medium.bin"
    report = client.download(BUCKET, "dir/medium.bin", dest, part_size=1 * MIB, threads=4)
    assert dest.read_bytes() == emulator.expected("dir/medium.bin")
    size = OBJECTS["dir/medium.bin"][0]
    assert report.bytes_total == size == report.bytes_transferred
    assert report.parts_total == 6 and report.part_size == MIB
    assert report.bytes_resumed == 0 and not report.resumed
    assert report.crc64_verified and report.crc64 is not None
    assert report.checkpoint == "fresh" and report.etag.startswith('"')
    assert report.elapsed > 0 and report.request_id
    # The checkpoint, the temp file and the lock are gone; only the file is left.
    assert leftovers(tmp_path, "medium.bin") == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["medium.bin"]


def test_one_part_one_thread_fast_mode_without_checkpoint(client, emulator, tmp_path):
    dest = str(tmp_path / "small.bin")
    report = client.download(
        BUCKET, "small.bin", dest, threads=1, checkpoint=False, durability="fast"
    )
    assert open(dest, "rb").read() == emulator.expected("small.bin")
    assert report.checkpoint == "disabled" and report.parts_total == 1


def test_signature_v1_and_every_form_of_credentials(emulator, tmp_path):
    forms = [
        (ACCESS_KEY_ID, ACCESS_KEY_SECRET),
        [ACCESS_KEY_ID, ACCESS_KEY_SECRET, None],
        oss_resume.Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET),
    ]
    for i, credentials in enumerate(forms):
        for version in (1, "v4"):
            client = oss_resume.Client(
                emulator.endpoint, region=REGION, credentials=credentials,
                signature_version=version,
            )
            dest = tmp_path / ("small-%d-%s.bin" % (i, version))
            client.download(BUCKET, "small.bin", dest)
            assert dest.read_bytes() == emulator.expected("small.bin")


def test_environment_credentials(emulator, tmp_path, monkeypatch):
    monkeypatch.setenv("OSS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("OSS_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)
    monkeypatch.delenv("OSS_SESSION_TOKEN", raising=False)
    client = oss_resume.Client(emulator.endpoint, region=REGION)
    assert "LTAI5tPyTestAccessKey" in repr(client)
    client.download(BUCKET, "small.bin", tmp_path / "s.bin")
    assert (tmp_path / "s.bin").read_bytes() == emulator.expected("small.bin")


def _without_environment_keys(monkeypatch, tmp_path):
    """No OSS_*/ALIBABA_CLOUD_* keys, no profile files, no metadata service: only what
    the test then sets is there for the default chain to find."""
    for name in ("OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET", "OSS_SESSION_TOKEN",
                 "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                 "ALIBABA_CLOUD_SECURITY_TOKEN", "ALIBABA_CLOUD_PROFILE",
                 "ALIBABA_CLOUD_CREDENTIALS_URI", "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
                 "ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_ECS_METADATA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ALIBABA_CLOUD_CONFIG_FILE", str(tmp_path / "absent-config.json"))
    monkeypatch.setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", str(tmp_path / "absent.ini"))
    monkeypatch.setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")


def test_default_chain_reads_the_cli_profile(emulator, tmp_path, monkeypatch):
    _without_environment_keys(monkeypatch, tmp_path)
    config = tmp_path / "config.json"
    config.write_text(
        '{"current": "ak", "profiles": [{"name": "ak", "mode": "AK", '
        '"access_key_id": "%s", "access_key_secret": "%s"}]}'
        % (ACCESS_KEY_ID, ACCESS_KEY_SECRET))
    monkeypatch.setenv("ALIBABA_CLOUD_CONFIG_FILE", str(config))
    client = oss_resume.Client(emulator.endpoint, region=REGION)
    assert "default credentials chain" in repr(client)
    assert ACCESS_KEY_SECRET not in repr(client)
    client.download(BUCKET, "small.bin", tmp_path / "s.bin")
    assert (tmp_path / "s.bin").read_bytes() == emulator.expected("small.bin")


def test_default_chain_with_nothing_configured_names_the_fix(emulator, tmp_path,
                                                             monkeypatch):
    _without_environment_keys(monkeypatch, tmp_path)
    client = oss_resume.Client(emulator.endpoint, region=REGION)
    with pytest.raises(oss_resume.Error) as e:
        client.download(BUCKET, "small.bin", tmp_path / "s.bin")
    assert "credentials" in str(e.value).lower(), str(e.value)
    assert not (tmp_path / "s.bin").exists()


def test_anonymous(emulator, tmp_path):
    client = oss_resume.Client(emulator.endpoint, anonymous=True)
    client.download(BUCKET, "small.bin", tmp_path / "s.bin")
    assert (tmp_path / "s.bin").read_bytes() == emulator.expected("small.bin")


def test_sts_credentials_from_a_provider_asked_for_every_request(sts_emulator, tmp_path):
    class Provider:
        """oss2's and oss-v2's providers look like this: get_credentials() returns an
        object with access_key_id, access_key_secret and security_token."""

        calls = 0

        def get_credentials(self):
            Provider.calls += 1
            return type("Creds", (), {
                "access_key_id": STS_ACCESS_KEY_ID,
                "access_key_secret": STS_SECRET,
                "security_token": STS_TOKEN,
            })()

    client = oss_resume.Client(sts_emulator.endpoint, region=REGION, credentials=Provider())
    dest = tmp_path / "m.bin"
    report = client.download(BUCKET, "dir/medium.bin", dest, part_size=2 * MIB)
    assert dest.read_bytes() == sts_emulator.expected("dir/medium.bin")
    # Asked before every request: the HEAD and each GET (a GET covers a run of parts).
    assert Provider.calls >= 2
    # Without the token the same key is refused.
    plain = oss_resume.Client(
        sts_emulator.endpoint, region=REGION, credentials=(STS_ACCESS_KEY_ID, STS_SECRET)
    )
    with pytest.raises(oss_resume.ServiceError) as refused:
        plain.download(BUCKET, "small.bin", tmp_path / "x.bin")
    assert refused.value.status == 403


def test_secrets_never_shown(emulator):
    creds = oss_resume.Credentials(ACCESS_KEY_ID, "very-secret-value", "token-value")
    client = oss_resume.Client(emulator.endpoint, region=REGION, credentials=creds)
    for text in (repr(creds), str(creds), repr(client)):
        assert "very-secret-value" not in text and "token-value" not in text
    assert creds.access_key_id == ACCESS_KEY_ID and creds.has_security_token


def test_progress_is_rate_bounded_and_ends_at_the_size(slow_client, slow_emulator, tmp_path):
    seen = []
    started = time.monotonic()
    report = slow_client.download(
        BUCKET, "big.bin", tmp_path / "b.bin", part_size=2 * MIB, progress=seen.append,
        progress_interval=0.2,
    )
    elapsed = time.monotonic() - started
    assert (tmp_path / "b.bin").read_bytes() == slow_emulator.expected("big.bin")
    assert seen, "no progress call"
    last = seen[-1]
    assert last.bytes_done == last.bytes_total == report.bytes_total
    assert last.parts_done == last.parts_total == report.parts_total
    # At most one call per interval, plus the final one.
    assert len(seen) <= elapsed / 0.2 + 2, (len(seen), elapsed)
    assert len(seen) >= 2, "a download of about 1.5 s reported once"
    done = [p.bytes_done for p in seen]
    assert done == sorted(done)


def test_progress_runs_on_the_calling_thread(slow_client, tmp_path):
    threads = set()
    slow_client.download(
        BUCKET, "other.bin", tmp_path / "o.bin",
        progress=lambda p: threads.add(threading.get_ident()), progress_interval=0.05,
    )
    assert threads == {threading.get_ident()}


def test_the_gil_is_released_for_the_whole_transfer(slow_client, tmp_path):
    """Another Python thread keeps running while download() waits: it counts while the
    download runs. Holding the GIL would leave it a few progress callbacks' worth."""
    running = threading.Event()
    stop = threading.Event()
    counts = []

    def count():
        n = 0
        running.set()
        while not stop.is_set():
            n += 1
        counts.append(n)

    counter = threading.Thread(target=count)
    counter.start()
    running.wait()
    started = time.monotonic()
    slow_client.download(BUCKET, "big.bin", tmp_path / "g.bin", checkpoint=False)
    elapsed = time.monotonic() - started
    stop.set()
    counter.join()
    assert elapsed > 0.5, "the throttled download was too quick to tell"
    # A loop of `n += 1` with an Event check runs millions of times a second; with the GIL
    # held by the waiting thread it would only run in the switch intervals of callbacks.
    assert counts[0] > 100_000 * elapsed, (counts[0], elapsed)


def test_async_download_and_concurrent_tasks(client, emulator, tmp_path):
    seen = []

    async def main():
        loop_thread = threading.get_ident()
        reports = await asyncio.gather(
            client.download_async(BUCKET, "dir/medium.bin", tmp_path / "a.bin",
                                  part_size=MIB, progress=lambda p: seen.append(
                                      threading.get_ident() == loop_thread)),
            client.download_async(BUCKET, "other.bin", tmp_path / "b.bin"),
        )
        return reports

    reports = asyncio.run(main())
    assert (tmp_path / "a.bin").read_bytes() == emulator.expected("dir/medium.bin")
    assert (tmp_path / "b.bin").read_bytes() == emulator.expected("other.bin")
    assert [r.bytes_total for r in reports] == [OBJECTS["dir/medium.bin"][0],
                                                OBJECTS["other.bin"][0]]
    assert seen and all(seen), "progress must run on the event loop's thread"


def test_async_download_does_not_block_the_loop(slow_client, tmp_path):
    ticks = []

    async def ticker(stop):
        while not stop.is_set():
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    async def main():
        stop = asyncio.Event()
        task = asyncio.ensure_future(ticker(stop))
        await slow_client.download_async(BUCKET, "big.bin", tmp_path / "t.bin",
                                         checkpoint=False)
        stop.set()
        await task

    asyncio.run(main())
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    # The download takes about 1.5 s; a blocked loop would show one gap that long. (The
    # bound leaves room for a loaded machine's scheduling delays.)
    assert len(ticks) > 20 and max(gaps) < 0.5, (len(ticks), max(gaps))


def test_cancel_token_from_another_thread(slow_client, tmp_path):
    token = oss_resume.CancelToken()
    threading.Timer(0.3, token.cancel).start()
    with pytest.raises(oss_resume.Cancelled) as cancelled:
        slow_client.download(BUCKET, "big.bin", tmp_path / "c.bin", cancel=token)
    assert cancelled.value.checkpoint_saved and cancelled.value.retryable
    assert token.cancelled
    assert (tmp_path / "c.bin.cp").exists() and not (tmp_path / "c.bin").exists()
    report = slow_client.download(BUCKET, "big.bin", tmp_path / "c.bin")
    assert report.resumed and report.bytes_resumed > 0


def test_progress_interval_zero_is_not_a_busy_loop(slow_client, tmp_path):
    """0 means "whenever there is news"; the waiting thread still sleeps between looks."""
    calls = []
    cpu, wall = time.process_time(), time.monotonic()
    slow_client.download(BUCKET, "other.bin", tmp_path / "z.bin", progress=calls.append,
                         progress_interval=0)
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    assert wall > 0.3
    # A spinning waiter would burn a whole core for the whole download.
    assert cpu < 0.5 * wall, (cpu, wall)
    assert calls[-1].bytes_done == OBJECTS["other.bin"][0]

    async def main():
        return await slow_client.download_async(
            BUCKET, "other.bin", tmp_path / "za.bin", progress=calls.append,
            progress_interval=0)

    cpu, wall = time.process_time(), time.monotonic()
    asyncio.run(main())
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    assert cpu < 0.5 * wall, (cpu, wall)


def test_negative_progress_interval_is_refused(client, tmp_path):
    with pytest.raises(oss_resume.InvalidArgument) as e:
        client.download(BUCKET, "small.bin", tmp_path / "n.bin", progress=print,
                        progress_interval=-1)
    assert e.value.argument == "progress_interval"
    with pytest.raises(oss_resume.InvalidArgument):
        asyncio.run(client.download_async(BUCKET, "small.bin", tmp_path / "n.bin",
                                          progress=print, progress_interval=-1))
    assert list(tmp_path.iterdir()) == []  # refused before anything started
