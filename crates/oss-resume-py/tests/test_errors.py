"""Each exception: when it is raised, its class, its attributes, and that it is an
oss_resume.Error (or, for the provider's and the callback's, propagated as raised)."""

import threading

import oss_resume
import pytest
from conftest import ACCESS_KEY_ID, BUCKET, MIB, REGION


def test_hierarchy():
    for name in oss_resume.__all__:
        cls = getattr(oss_resume, name)
        if isinstance(cls, type) and issubclass(cls, Exception):
            assert issubclass(cls, oss_resume.Error)
    assert issubclass(oss_resume.InvalidArgument, ValueError)
    assert issubclass(oss_resume.LocalIOError, OSError)
    assert issubclass(oss_resume.InsufficientSpace, oss_resume.LocalIOError)


def test_invalid_argument_before_any_request(client, tmp_path):
    cases = [
        (dict(threads=0), "threads"),
        (dict(part_size=-1), "part_size"),
        (dict(part_size=6 << 30), "part_size"),
        (dict(durability="sometimes"), "durability"),
        (dict(on_change="ignore"), "on_change"),
        (dict(headers={"Range": "bytes=0-1"}), "headers"),
    ]
    for options, argument in cases:
        with pytest.raises(oss_resume.InvalidArgument) as e:
            client.download(BUCKET, "small.bin", tmp_path / "x.bin", **options)
        assert e.value.argument == argument, (options, e.value.argument, str(e.value))
        assert not e.value.retryable
    with pytest.raises(oss_resume.InvalidArgument) as e:
        client.download("Bad_Bucket", "small.bin", tmp_path / "x.bin")
    assert e.value.argument == "bucket"
    assert list(tmp_path.iterdir()) == []


def test_invalid_client_settings():
    with pytest.raises(oss_resume.InvalidArgument) as e:
        oss_resume.Client()
    assert e.value.argument == "endpoint"
    with pytest.raises(oss_resume.InvalidArgument) as e:
        oss_resume.Client("http://127.0.0.1:9", credentials=("id", "s"), anonymous=True)
    assert e.value.argument == "anonymous"
    with pytest.raises(oss_resume.InvalidArgument) as e:
        oss_resume.Client("https://files.example.com", credentials=("id", "s"))
    assert e.value.argument == "region" and "region" in str(e.value)
    with pytest.raises(oss_resume.InvalidArgument) as e:
        oss_resume.Client("http://127.0.0.1:9", credentials=("id with space", "s"))
    assert e.value.argument == "credentials"
    with pytest.raises(oss_resume.InvalidArgument) as e:
        oss_resume.Client("http://127.0.0.1:9", credentials=("id", "s"), signature_version=2)
    assert e.value.argument == "signature_version"
    with pytest.raises(TypeError):
        oss_resume.Client("http://127.0.0.1:9", credentials=42)


def test_service_error_carries_oss_answer(client, tmp_path):
    with pytest.raises(oss_resume.ServiceError) as e:
        client.download(BUCKET, "no/such/key", tmp_path / "x.bin")
    err = e.value
    assert (err.status, err.code) == (404, "NoSuchKey")
    assert err.request_id and err.operation.startswith("HEAD")
    assert not err.retryable and err.part is None and "key" in err.advice
    assert "NoSuchKey" in str(err) and err.request_id in str(err)


def test_service_error_for_a_wrong_secret(emulator, tmp_path):
    client = oss_resume.Client(emulator.endpoint, region=REGION,
                               credentials=(ACCESS_KEY_ID, "wrong-secret"))
    with pytest.raises(oss_resume.ServiceError) as e:
        client.download(BUCKET, "small.bin", tmp_path / "x.bin")
    assert (e.value.status, e.value.code) == (403, "SignatureDoesNotMatch")
    assert "wrong-secret" not in str(e.value)


def test_transport_error_after_the_retries(tmp_path):
    client = oss_resume.Client("http://127.0.0.1:9", anonymous=True, connect_timeout=1)
    with pytest.raises(oss_resume.TransportError) as e:
        client.download(BUCKET, "small.bin", tmp_path / "x.bin", retries=0)
    assert e.value.retryable and "127.0.0.1:9" in str(e.value)


def test_credentials_error_has_the_providers_exception_as_cause(emulator, tmp_path):
    class Broken:
        def get_credentials(self):
            raise LookupError("vault sealed")

    client = oss_resume.Client(emulator.endpoint, region=REGION, credentials=Broken())
    with pytest.raises(oss_resume.CredentialsError) as e:
        client.download(BUCKET, "small.bin", tmp_path / "x.bin")
    assert isinstance(e.value.__cause__, LookupError)
    assert "vault sealed" not in str(e.value)  # it is shown as the cause, once


def test_object_changed(changing_emulator, tmp_path):
    client = oss_resume.Client(changing_emulator.endpoint, anonymous=True)
    with pytest.raises(oss_resume.ObjectChanged) as e:
        client.download(BUCKET, "dir/medium.bin", tmp_path / "x.bin", part_size=MIB,
                        threads=1)
    assert e.value.retryable and e.value.detail
    assert not (tmp_path / "x.bin").exists()


def test_crc_mismatch(corrupting_emulator, tmp_path):
    """Each part arrives with its first byte flipped and every header right: only the
    whole-file CRC-64 can tell, and nothing reaches the destination."""
    client = oss_resume.Client(corrupting_emulator.endpoint, anonymous=True)
    dest = tmp_path / "m.bin"
    with pytest.raises(oss_resume.CrcMismatch) as e:
        client.download(BUCKET, "dir/medium.bin", dest, part_size=MIB)
    assert e.value.expected != e.value.actual and e.value.retryable
    # The partial data and the checkpoint were deleted: a retry starts over; it can
    # neither loop on the bad data nor accept it.
    assert list(tmp_path.iterdir()) == []


def test_local_io_error_is_an_oserror(client, tmp_path):
    # A directory where the temp file goes: removing the stale "temp file" fails.
    (tmp_path / "x.bin.oss-tmp").mkdir()
    (tmp_path / "x.bin.oss-tmp" / "keep").write_bytes(b"")
    with pytest.raises(OSError) as e:
        client.download(BUCKET, "small.bin", tmp_path / "x.bin")
    err = e.value
    assert isinstance(err, oss_resume.LocalIOError)
    assert err.op == "remove" and err.errno is not None
    assert str(err.filename).endswith("x.bin.oss-tmp") and not err.retryable


def test_foreign_file_in_the_way(client, tmp_path):
    (tmp_path / "x.bin.lock").mkdir()  # not a lock file this download made
    with pytest.raises(oss_resume.ForeignFile) as e:
        client.download(BUCKET, "small.bin", tmp_path / "x.bin")
    assert str(e.value.path).endswith("x.bin.lock") and e.value.found
    assert (tmp_path / "x.bin.lock").is_dir()  # left alone


def test_checkpoint_of_another_download_is_refused(slow_client, tmp_path):
    checkpoint = tmp_path / "shared.cp"

    def stop(p):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        slow_client.download(BUCKET, "big.bin", tmp_path / "a.bin", progress=stop,
                             progress_interval=0.05, checkpoint_path=checkpoint)
    assert checkpoint.exists()
    with pytest.raises(oss_resume.CheckpointError) as e:
        slow_client.download(BUCKET, "other.bin", tmp_path / "b.bin",
                             checkpoint_path=checkpoint)
    assert str(checkpoint) in str(e.value.path)
    # restart=True discards it, as the message says.
    slow_client.download(BUCKET, "small.bin", tmp_path / "b.bin", checkpoint_path=checkpoint,
                         restart=True)


def test_locked_while_another_run_downloads_to_the_same_file(slow_client, tmp_path):
    dest = tmp_path / "big.bin"
    started = threading.Event()
    release = threading.Event()
    outcome = []

    def hold(p):
        started.set()
        release.wait(30)

    def first():
        try:
            outcome.append(slow_client.download(BUCKET, "big.bin", dest, progress=hold,
                                                progress_interval=0.01))
        except BaseException as e:  # noqa: B902 - handed to the main thread
            outcome.append(e)

    runner = threading.Thread(target=first)
    runner.start()
    try:
        assert started.wait(30)
        with pytest.raises(oss_resume.Locked) as e:
            slow_client.download(BUCKET, "big.bin", dest)
        assert e.value.retryable and e.value.pid == __import__("os").getpid()
        assert str(e.value.lock_path).endswith("big.bin.lock")
    finally:
        release.set()
        runner.join()
    assert not isinstance(outcome[0], BaseException), outcome
