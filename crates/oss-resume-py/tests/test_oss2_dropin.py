"""oss_resume.oss2.resumable_download with real oss2.Bucket objects: V1, V4 and STS auth,
anonymous, oss2's progress signature, the store's directory, oss2's exceptions, and what
it refuses."""

import os

import oss2
import oss_resume
import pytest
from oss_resume.oss2 import resumable_download
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


@pytest.fixture
def store(tmp_path):
    return oss2.ResumableDownloadStore(root=str(tmp_path / "home"))


def buckets(emulator):
    return {
        "v1": oss2.Bucket(oss2.Auth(ACCESS_KEY_ID, ACCESS_KEY_SECRET), emulator.endpoint, BUCKET),
        "v4": oss2.Bucket(oss2.AuthV4(ACCESS_KEY_ID, ACCESS_KEY_SECRET), emulator.endpoint,
                          BUCKET, region=REGION),
        "anonymous": oss2.Bucket(oss2.AnonymousAuth(), emulator.endpoint, BUCKET),
    }


@pytest.mark.parametrize("auth", ["v1", "v4", "anonymous"])
def test_dropin_with_oss2_bucket(emulator, store, tmp_path, auth):
    bucket = buckets(emulator)[auth]
    dest = tmp_path / "medium.bin"
    calls = []
    result = resumable_download(
        bucket, "dir/medium.bin", str(dest), part_size=MIB, num_threads=3,
        progress_callback=lambda done, total: calls.append((done, total)), store=store,
    )
    assert result is None  # as oss2's
    assert dest.read_bytes() == emulator.expected("dir/medium.bin")
    size = OBJECTS["dir/medium.bin"][0]
    assert calls and calls[-1] == (size, size)
    assert all(isinstance(a, int) and b == size for a, b in calls)
    assert leftovers(tmp_path, "medium.bin") == []
    assert os.listdir(store.dir) == []  # the checkpoint is deleted on success


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_dropin_with_sts_auth(sts_emulator, store, tmp_path, version):
    auth = oss2.StsAuth(STS_ACCESS_KEY_ID, STS_SECRET, STS_TOKEN, auth_version=version)
    bucket = oss2.Bucket(auth, sts_emulator.endpoint, BUCKET, region=REGION)
    dest = tmp_path / "small.bin"
    resumable_download(bucket, "small.bin", str(dest), store=store)
    assert dest.read_bytes() == sts_emulator.expected("small.bin")


def test_same_file_as_oss2_itself(emulator, store, tmp_path):
    bucket = buckets(emulator)["v1"]
    ours, theirs = tmp_path / "ours.bin", tmp_path / "theirs.bin"
    resumable_download(bucket, "dir/medium.bin", str(ours), store=store)
    oss2.resumable_download(bucket, "dir/medium.bin", str(theirs), multiget_threshold=1,
                            part_size=MIB, store=store)
    assert ours.read_bytes() == theirs.read_bytes()


def test_checkpoint_lives_in_the_store_under_oss2s_record_name(slow_emulator, store, tmp_path):
    bucket = oss2.Bucket(oss2.Auth(ACCESS_KEY_ID, ACCESS_KEY_SECRET), slow_emulator.endpoint,
                         BUCKET)
    dest = tmp_path / "big.bin"

    def stop(done, total):
        if done >= total // 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        resumable_download(bucket, "big.bin", str(dest), part_size=MIB, num_threads=4,
                           progress_callback=stop, store=store)
    record = store.make_store_key(BUCKET, "big.bin", os.path.abspath(str(dest)))
    assert os.listdir(store.dir) == [record + ".oss-resume"]
    assert not dest.exists()
    # The same call resumes (the defaults would make another part size: keep it).
    seen = []
    resumable_download(bucket, "big.bin", str(dest), part_size=MIB, num_threads=4,
                       progress_callback=lambda d, t: seen.append(d), store=store)
    assert dest.read_bytes() == slow_emulator.expected("big.bin")
    assert seen[0] >= OBJECTS["big.bin"][0] // 2  # it started from the checkpoint
    assert os.listdir(store.dir) == []


def test_oss2_defaults_are_read_at_call_time(emulator, store, tmp_path, monkeypatch):
    monkeypatch.setattr(oss2.defaults, "multiget_part_size", 2 * MIB)
    seen = []
    resumable_download(buckets(emulator)["v1"], "dir/medium.bin", str(tmp_path / "m.bin"),
                       store=store, progress_callback=lambda d, t: seen.append(d))
    assert (tmp_path / "m.bin").read_bytes() == emulator.expected("dir/medium.bin")


def test_oss2_exceptions_for_oss_answers(emulator, store, tmp_path):
    with pytest.raises(oss2.exceptions.NoSuchKey) as e:
        resumable_download(buckets(emulator)["v1"], "no/such/key", str(tmp_path / "x"),
                           store=store)
    assert e.value.status == 404 and e.value.code == "NoSuchKey" and e.value.request_id
    assert isinstance(e.value.__cause__, oss_resume.ServiceError)
    wrong = oss2.Bucket(oss2.Auth(ACCESS_KEY_ID, "wrong"), emulator.endpoint, BUCKET)
    with pytest.raises(oss2.exceptions.ServerError) as e:
        resumable_download(wrong, "small.bin", str(tmp_path / "x"), store=store)
    assert e.value.status == 403


def test_versioned_params_and_what_is_refused(emulator, store, tmp_path):
    bucket = buckets(emulator)["v1"]
    with pytest.raises(oss_resume.InvalidArgument) as e:
        resumable_download(bucket, "small.bin", str(tmp_path / "x"), store=store,
                           params={"response-content-type": "text/plain"})
    assert e.value.argument == "params"
    v2 = oss2.Bucket(oss2.AuthV2(ACCESS_KEY_ID, ACCESS_KEY_SECRET), emulator.endpoint, BUCKET)
    with pytest.raises(oss_resume.InvalidArgument, match="AuthV2"):
        resumable_download(v2, "small.bin", str(tmp_path / "x"), store=store)
    no_region = oss2.Bucket(oss2.AuthV4(ACCESS_KEY_ID, ACCESS_KEY_SECRET), emulator.endpoint,
                            BUCKET)
    with pytest.raises(oss_resume.InvalidArgument, match="region"):
        resumable_download(no_region, "small.bin", str(tmp_path / "x"), store=store)

    class CustomStore:
        def get(self, key):
            return None

    with pytest.raises(oss_resume.InvalidArgument) as e:
        resumable_download(bucket, "small.bin", str(tmp_path / "x"), store=CustomStore())
    assert e.value.argument == "store"
    with pytest.raises(oss_resume.InvalidArgument) as e:
        resumable_download(bucket, "small.bin", str(tmp_path / "x"), store=store,
                           headers={"If-Match": '"abc"'})
    assert list(p.name for p in tmp_path.iterdir()) == ["home"]


def test_request_payer_header_is_sent(emulator, store, tmp_path):
    resumable_download(buckets(emulator)["v4"], "small.bin", str(tmp_path / "s.bin"),
                       store=store, headers={"x-oss-request-payer": "requester"})
    assert (tmp_path / "s.bin").read_bytes() == emulator.expected("small.bin")
