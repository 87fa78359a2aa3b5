"""Drives oss2.resumable_download for `cargo xtask bench`.

    python oss2_download.py ENDPOINT BUCKET KEY OUT PART_SIZE THREADS STORE_DIR

That is the official Python SDK's equivalent of the C SDK's
oss_resumable_download_file(part_size, thread_num, enable_checkpoint=true), with CRC
checking on (oss2's default): the whole object's CRC-64 is compared against the server's
x-oss-hash-crc64ecma. The keys are dummies; the bench server ignores Authorization, but
oss2 still signs every request. An IP endpoint makes oss2 use path-style URLs.
"""
import sys

import oss2


def main():
    if len(sys.argv) != 8:
        sys.exit("usage: oss2_download.py ENDPOINT BUCKET KEY OUT PART_SIZE THREADS STORE_DIR")
    endpoint, bucket_name, key, out, part_size, threads, store_dir = sys.argv[1:]
    threads = int(threads)
    # oss2's pool holds 10 connections by default; never let it cap the thread count.
    oss2.defaults.connection_pool_size = max(oss2.defaults.connection_pool_size, threads)
    bucket = oss2.Bucket(
        oss2.Auth("bench-access-key-id", "bench-access-key-secret"), endpoint, bucket_name
    )
    oss2.resumable_download(
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
