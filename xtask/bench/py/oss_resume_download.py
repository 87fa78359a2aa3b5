"""Drives oss_resume (this repository's Python package) for `cargo xtask bench`.

    python oss_resume_download.py ENDPOINT BUCKET KEY OUT PART_SIZE THREADS STATE_DIR

Client.download with the checkpoint on (kept in STATE_DIR, made if missing), fast mode
(never fsync, like the Python SDK peers; the durable column adds `sync OUT`), signature V4
with dummy keys (the bench server ignores Authorization; every request is still signed),
the CRC-64 checked against x-oss-hash-crc64ecma. The bench builds the release wheel and
installs it into its venv.
"""
import os
import sys

import oss_resume


def main():
    if len(sys.argv) != 8:
        sys.exit("usage: oss_resume_download.py ENDPOINT BUCKET KEY OUT PART_SIZE THREADS STATE_DIR")
    endpoint, bucket_name, key, out, part_size, threads, state_dir = sys.argv[1:]
    os.makedirs(state_dir, exist_ok=True)
    client = oss_resume.Client(
        endpoint,
        region="cn-hangzhou",
        credentials=("bench-access-key-id", "bench-access-key-secret"),
    )
    client.download(
        bucket_name,
        key,
        out,
        part_size=int(part_size),
        threads=int(threads),
        checkpoint=True,
        checkpoint_path=os.path.join(state_dir, "checkpoint"),
        durability="fast",
    )


if __name__ == "__main__":
    main()
