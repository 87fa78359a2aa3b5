"""Drives alibabacloud-oss-v2's Downloader for `cargo xtask bench`.

    python ossv2_download.py ENDPOINT BUCKET KEY OUT PART_SIZE PARALLEL CHECKPOINT_DIR

download_file(part_size, parallel_num, enable_checkpoint=True) with the SDK's defaults
otherwise. The keys are dummies (the bench server ignores Authorization; the SDK still
signs with V4). CHECKPOINT_DIR is made if missing (the SDK refuses a missing one) and gets
a trailing slash: the SDK writes its checkpoint into os.path.dirname(checkpoint_dir), so
'/x/ckpt' would write into '/x/'.
"""
import os
import sys

import alibabacloud_oss_v2 as oss


def main():
    if len(sys.argv) != 8:
        sys.exit("usage: ossv2_download.py ENDPOINT BUCKET KEY OUT PART_SIZE PARALLEL CHECKPOINT_DIR")
    endpoint, bucket_name, key, out, part_size, parallel, checkpoint_dir = sys.argv[1:]
    os.makedirs(checkpoint_dir, exist_ok=True)
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        "bench-access-key-id", "bench-access-key-secret"
    )
    cfg.region = "cn-hangzhou"
    cfg.endpoint = endpoint
    cfg.use_path_style = True
    client = oss.Client(cfg)
    client.downloader().download_file(
        oss.GetObjectRequest(bucket=bucket_name, key=key),
        filepath=out,
        part_size=int(part_size),
        parallel_num=int(parallel),
        enable_checkpoint=True,
        checkpoint_dir=os.path.join(checkpoint_dir, ""),
    )


if __name__ == "__main__":
    main()
