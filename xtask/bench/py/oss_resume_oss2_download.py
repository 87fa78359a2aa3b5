"""Drives oss_resume.oss2.resumable_download, the drop-in for oss2's, for `cargo xtask bench`.

    python oss_resume_oss2_download.py ENDPOINT BUCKET KEY OUT PART_SIZE THREADS STORE_DIR

oss2_download.py with one line changed: the import. Same oss2.Bucket (oss2.Auth, V1,
dummy keys), same arguments, same store. The drop-in's own default applies: durable mode
(data fsynced as it goes and before the rename), so its page-cache column includes its
fsyncs, as aria2c's does.
"""
import sys

import oss2
from oss_resume.oss2 import resumable_download


def main():
    if len(sys.argv) != 8:
        sys.exit("usage: oss_resume_oss2_download.py ENDPOINT BUCKET KEY OUT PART_SIZE THREADS STORE_DIR")
    endpoint, bucket_name, key, out, part_size, threads, store_dir = sys.argv[1:]
    threads = int(threads)
    bucket = oss2.Bucket(
        oss2.Auth("bench-access-key-id", "bench-access-key-secret"), endpoint, bucket_name
    )
    resumable_download(
        bucket,
        key,
        out,
        multiget_threshold=1,
        part_size=int(part_size),
        num_threads=threads,
        store=oss2.ResumableDownloadStore(root=store_dir),
    )


if __name__ == "__main__":
    main()
