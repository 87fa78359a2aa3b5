//! An oracle we did not write: the official OSS Python SDKs — oss2's `ObjectIteratorV2` and
//! `ObjectIterator` (V1 signatures), alibabacloud-oss-v2's `list_objects_v2` and
//! `list_objects` paginators (V4 signatures) — list a bucket of the emulator holding every
//! awkward key (each printable ASCII punctuation character, space, `%`, `+`, Unicode,
//! control characters, keys ending in `/`) and 2,500 pattern keys (page boundaries at 100
//! and 1000, unpadded so byte order is not number order). Each listing must be exactly the
//! bucket's sorted keys, and oss-http's listing of the same requests must be the same. So
//! the emulator's listing is what real clients parse, and oss-http's tests against it mean
//! something. The SDKs are pinned in `tests/oracle/requirements.txt` and installed by
//! `support::py_oracle` (`OSS_RESUME_SKIP_PY_ORACLE=1` skips this, loudly).

use std::collections::BTreeSet;

use oss_emulator::{BucketSpec, Emulator, ObjectPattern, ObjectSpec};
use oss_http::{Client, Credentials, ListRequest, ListVersion, SignatureVersion};
use serde_json::Value;

use crate::support::py_oracle::{self, workspace};

const AK: &str = "LTAI5tListingOracle";
const SECRET: &str = "ListingOracleSecret0123456789";
const BUCKET: &str = "oracle-list";

/// Every key the bucket holds, sorted as OSS sorts them (bytewise).
fn fill(emu: &Emulator) -> Vec<String> {
    let mut keys = BTreeSet::new();
    for c in (0x20u8..0x7f).filter(|c| !c.is_ascii_alphanumeric()) {
        keys.insert(format!("odd/{}x", char::from(c)));
        keys.insert(format!("odd/{}/", char::from(c)));
    }
    for c in (0x01u8..0x20).chain([0x7f]) {
        keys.insert(format!("ctl/{}", char::from(c)));
    }
    for k in [
        "odd/a b+c%d%20e%2B.txt",
        "odd/%",
        "odd/+",
        "odd/dir/",
        "odd/dir/x",
        "odd/文件/报告 2024.txt",
        "odd/😀",
        "hello.txt",
        "many/dir/x",
    ] {
        keys.insert(k.to_owned());
    }
    for k in &keys {
        let body = if k == "hello.txt" {
            &b"hello"[..]
        } else {
            &b"."[..]
        };
        emu.put_object(BUCKET, k, ObjectSpec::bytes(body)).unwrap();
    }
    let pattern = ObjectPattern::parse("many/part-{0..2499}").unwrap().size(3);
    emu.add_objects(BUCKET, pattern).unwrap();
    keys.extend((0..2500).map(|n| format!("many/part-{n}")));
    keys.into_iter().collect()
}

/// What a listing of `keys` under `prefix`, after `start_after`, rolled up at `delimiter`,
/// yields: (keys, common prefixes), each in order.
fn expected(
    keys: &[String],
    prefix: &str,
    delimiter: &str,
    start_after: &str,
) -> (Vec<String>, Vec<String>) {
    let mut out_keys = Vec::new();
    let mut prefixes = BTreeSet::new();
    for k in keys
        .iter()
        .filter(|k| k.starts_with(prefix) && k.as_str() > start_after)
    {
        let rest = &k[prefix.len()..];
        match rest.find(delimiter).filter(|_| !delimiter.is_empty()) {
            Some(at) => {
                prefixes.insert(k[..prefix.len() + at + delimiter.len()].to_owned());
            }
            None => out_keys.push(k.clone()),
        }
    }
    (out_keys, prefixes.into_iter().collect())
}

/// Asserts two listings are equal, showing only where they first differ (they are thousands
/// of keys long).
fn same(got: &(Vec<String>, Vec<String>), want: &(Vec<String>, Vec<String>), what: &str) {
    for (part, got, want) in [("keys", &got.0, &want.0), ("prefixes", &got.1, &want.1)] {
        if got == want {
            continue;
        }
        let at = got.iter().zip(want).take_while(|(g, w)| g == w).count();
        panic!(
            "{what}: {part} differ at index {at} of {} listed / {} expected: listed {:?}, expected {:?}",
            got.len(),
            want.len(),
            got.get(at..(at + 3).min(got.len())),
            want.get(at..(at + 3).min(want.len())),
        );
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// oss-http's listing of the same request, both calls.
async fn ours(
    client: &Client,
    list: ListVersion,
    prefix: &str,
    delimiter: &str,
    start_after: &str,
    max_keys: u16,
) -> (Vec<String>, Vec<String>) {
    let request = ListRequest::new()
        .version(list)
        .prefix(prefix)
        .delimiter(delimiter)
        .start_after(start_after)
        .max_keys(max_keys);
    let mut lister = client.list_objects(BUCKET, request).unwrap();
    let (mut keys, mut prefixes) = (Vec::new(), Vec::new());
    while let Some(page) = lister.next_page().await.unwrap() {
        keys.extend(page.objects.into_iter().map(|o| o.key));
        prefixes.extend(page.common_prefixes);
    }
    (keys, prefixes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdks_list_the_emulator_as_oss_http_does() {
    if py_oracle::skipped("the Python listing oracle") {
        return;
    }
    let python = tokio::task::spawn_blocking(py_oracle::python)
        .await
        .unwrap();
    let emu = Emulator::new();
    emu.add_credentials(oss_emulator::Credentials::new(AK, SECRET));
    emu.add_bucket(BucketSpec::new(BUCKET)).unwrap();
    let all = fill(&emu);
    let server = emu.start_server().await.unwrap();
    let endpoint = server.endpoint().to_owned();

    let mut cmd = tokio::process::Command::new(&python);
    cmd.arg(workspace().join("tests/oracle/listing_oracle.py"))
        .args([&endpoint, AK, SECRET, BUCKET])
        .kill_on_drop(true);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("OSS_") || name.to_ascii_lowercase().ends_with("_proxy") {
            cmd.env_remove(name);
        }
    }
    let out = cmd.output().await.unwrap();
    assert!(
        out.status.success(),
        "the oracle failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();

    // (scenario, call, prefix, delimiter, start-after, max-keys oss-http uses)
    let scenarios = [
        ("all", ListVersion::V2, "", "", "", 100),
        ("1000", ListVersion::V2, "", "", "", 1000),
        ("odd_delimiter", ListVersion::V2, "odd/", "/", "", 7),
        (
            "start_after",
            ListVersion::V2,
            "many/",
            "",
            "many/part-1999",
            1000,
        ),
        ("all", ListVersion::V1, "", "", "", 1000),
        ("root_delimiter", ListVersion::V1, "", "/", "", 2),
    ];
    let client = Client::builder()
        .endpoint(&endpoint)
        .region("cn-test")
        .signature_version(SignatureVersion::V1)
        .credentials(Credentials::new(AK, SECRET).unwrap())
        .build()
        .unwrap();
    for (name, list, prefix, delimiter, start_after, max_keys) in scenarios {
        let want = expected(&all, prefix, delimiter, start_after);
        let call = match list {
            ListVersion::V2 => "v2",
            _ => "v1",
        };
        for sdk in ["oss2", "v2"] {
            let scenario = format!("{sdk}_{call}_{name}");
            let r = &got[&scenario];
            let listed = (strings(&r["keys"]), strings(&r["prefixes"]));
            same(&listed, &want, &scenario);
        }
        let mine = ours(&client, list, prefix, delimiter, start_after, max_keys).await;
        same(&mine, &want, &format!("oss-http {call} {name}"));
    }
    // The v2 paginator sends no max-keys by default: OSS's default page of 100.
    let pages = got["v2_v2_all"]["pages"].as_u64().unwrap();
    assert_eq!(pages, (all.len() as u64).div_ceil(100));

    // One object's fields as each SDK parsed them.
    let info = emu.object_info(BUCKET, "hello.txt").unwrap();
    let seconds = info
        .last_modified
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for (sdk, etag) in [
        ("oss2", info.etag.trim_matches('"').to_owned()),
        ("v2", info.etag.clone()),
    ] {
        let f = &got[format!("{sdk}_fields")];
        assert_eq!(f["key"], "hello.txt", "{sdk}");
        assert_eq!(f["last_modified"].as_u64(), Some(seconds), "{sdk}");
        assert_eq!(f["etag"].as_str(), Some(etag.as_str()), "{sdk}");
        assert_eq!(f["type"], "Normal", "{sdk}");
        assert_eq!(f["size"], 5, "{sdk}");
        assert_eq!(f["storage_class"], "Standard", "{sdk}");
    }
    // Control characters without encoding-type: invalid XML, refused as by real OSS.
    assert!(
        got["oss2_unencoded_control"]["error"].is_string(),
        "{}",
        got["oss2_unencoded_control"]
    );
}
