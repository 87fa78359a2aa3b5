"""The official OSS Python SDKs list a bucket of the emulator: run by
tests/cross/listing_oracle.rs, which knows what the bucket holds and judges the output.

oss2 (V1 signatures, its iterators, path style because the endpoint is an IP) and
alibabacloud-oss-v2 (V4 signatures, its paginators, `use_path_style`) each list with their
defaults, as a user would write it: both ask for `encoding-type=url` and decode what comes
back. Only public API is used.

Prints one JSON object: for each scenario, the keys (and common prefixes) in the order the
SDK yielded them, or the error it raised.
"""

import json
import sys


def oss2_scenarios(endpoint, ak, secret, bucket_name):
    import oss2

    bucket = oss2.Bucket(oss2.Auth(ak, secret), endpoint, bucket_name)

    def walk(iterator):
        keys, prefixes = [], []
        for info in iterator:
            (prefixes if info.is_prefix() else keys).append(info.key)
        return {"keys": keys, "prefixes": prefixes}

    out = {
        # max_keys defaults to 100: 26 pages over 2,600 keys.
        "oss2_v2_all": walk(oss2.ObjectIteratorV2(bucket)),
        "oss2_v2_1000": walk(oss2.ObjectIteratorV2(bucket, max_keys=1000)),
        "oss2_v2_odd_delimiter": walk(
            oss2.ObjectIteratorV2(bucket, prefix="odd/", delimiter="/", max_keys=7)
        ),
        "oss2_v2_start_after": walk(
            oss2.ObjectIteratorV2(bucket, prefix="many/", start_after="many/part-1999", max_keys=1000)
        ),
        "oss2_v1_all": walk(oss2.ObjectIterator(bucket, max_keys=1000)),
        "oss2_v1_root_delimiter": walk(oss2.ObjectIterator(bucket, delimiter="/", max_keys=2)),
    }
    # One object's fields, as oss2 parses them.
    result = bucket.list_objects_v2(prefix="hello.txt")
    o = result.object_list[0]
    out["oss2_fields"] = {
        "key": o.key,
        "last_modified": o.last_modified,
        "etag": o.etag,
        "type": o.type,
        "size": o.size,
        "storage_class": o.storage_class,
    }
    # Without encoding-type a key holding control characters makes the body invalid XML:
    # oss2's own integration test expects this to fail against real OSS.
    try:
        bucket.list_objects_v2(prefix="ctl/", encoding_type=None)
        out["oss2_unencoded_control"] = {"error": None}
    except Exception as e:  # noqa: BLE001 - which exception is the finding
        out["oss2_unencoded_control"] = {"error": type(e).__name__}
    return out


def v2_scenarios(endpoint, ak, secret, bucket_name):
    import alibabacloud_oss_v2 as oss

    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(ak, secret)
    cfg.region = "cn-test"
    cfg.endpoint = endpoint
    cfg.use_path_style = True
    cfg.retry_max_attempts = 1
    client = oss.Client(cfg)

    def walk_v2(**kwargs):
        keys, prefixes, pages = [], [], 0
        paginator = client.list_objects_v2_paginator()
        for page in paginator.iter_page(oss.ListObjectsV2Request(bucket=bucket_name, **kwargs)):
            pages += 1
            keys += [o.key for o in page.contents or []]
            prefixes += [p.prefix for p in page.common_prefixes or []]
        return {"keys": keys, "prefixes": prefixes, "pages": pages}

    def walk_v1(**kwargs):
        keys, prefixes, pages = [], [], 0
        paginator = client.list_objects_paginator()
        for page in paginator.iter_page(oss.ListObjectsRequest(bucket=bucket_name, **kwargs)):
            pages += 1
            keys += [o.key for o in page.contents or []]
            prefixes += [p.prefix for p in page.common_prefixes or []]
        return {"keys": keys, "prefixes": prefixes, "pages": pages}

    out = {
        "v2_v2_all": walk_v2(),
        "v2_v2_1000": walk_v2(max_keys=1000),
        "v2_v2_odd_delimiter": walk_v2(prefix="odd/", delimiter="/", max_keys=7),
        "v2_v2_start_after": walk_v2(prefix="many/", start_after="many/part-1999", max_keys=1000),
        "v2_v1_all": walk_v1(max_keys=1000),
        "v2_v1_root_delimiter": walk_v1(delimiter="/", max_keys=2),
    }
    page = client.list_objects_v2(oss.ListObjectsV2Request(bucket=bucket_name, prefix="hello.txt"))
    o = page.contents[0]
    out["v2_fields"] = {
        "key": o.key,
        "last_modified": int(o.last_modified.timestamp()),
        "etag": o.etag,
        "type": o.object_type,
        "size": o.size,
        "storage_class": o.storage_class,
    }
    return out


def main():
    endpoint, ak, secret, bucket_name = sys.argv[1:5]
    out = {}
    out.update(oss2_scenarios(endpoint, ak, secret, bucket_name))
    out.update(v2_scenarios(endpoint, ak, secret, bucket_name))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
