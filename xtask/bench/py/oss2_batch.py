"""The Python loop over oss2 for `cargo xtask bench --many-objects`.

    python oss2_batch.py ENDPOINT BUCKET PREFIX OUT THREADS

What a Python user writes to fetch a prefix with the official SDK: list it with
ObjectIteratorV2 and hand each key to a pool of THREADS workers calling
get_object_to_file (oss2 checks each object's CRC-64 against x-oss-hash-crc64ecma when
the server sends it). Anonymous: the bench emulator is public-read. An IP endpoint makes
oss2 use path-style URLs. Keys land under OUT without PREFIX, as rclone and s5cmd put them.
"""
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import oss2


def main():
    if len(sys.argv) != 6:
        sys.exit("usage: oss2_batch.py ENDPOINT BUCKET PREFIX OUT THREADS")
    endpoint, bucket_name, prefix, out, threads = sys.argv[1:]
    threads = int(threads)
    # oss2's pool holds 10 connections by default; never let it cap the thread count.
    oss2.defaults.connection_pool_size = max(oss2.defaults.connection_pool_size, threads)
    bucket = oss2.Bucket(oss2.AnonymousAuth(), endpoint, bucket_name)

    def fetch(key):
        path = os.path.join(out, key[len(prefix):])
        os.makedirs(os.path.dirname(path) or out, exist_ok=True)
        bucket.get_object_to_file(key, path)

    keys = (o.key for o in oss2.ObjectIteratorV2(bucket, prefix=prefix) if not o.key.endswith("/"))
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(fetch, keys):
            pass


if __name__ == "__main__":
    main()
