//! The golden-data guard: every file under `fixtures/` (README.md files excepted) has the
//! SHA-256 recorded in `tests/fixtures.sha256`, and no golden file is missing or
//! unrecorded. Golden data is never regenerated (docs/architecture.md, "Testing layers"): a test or a tool that
//! rewrites a signing vector or a checkpoint file would otherwise change the very thing the
//! crate tests compare against, and CI would stay green.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `path -> sha256` from the manifest (`sha256sum` format, `#` comments).
fn manifest() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(root().join("tests/fixtures.sha256"))
        .expect("reading tests/fixtures.sha256");
    let mut entries = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (hash, path) = line.split_once("  ").unwrap_or_else(|| {
            panic!(
                "tests/fixtures.sha256 line {}: `HASH  PATH` expected",
                n + 1
            )
        });
        assert!(
            hash.len() == 64 && hash.bytes().all(|c| c.is_ascii_hexdigit()),
            "tests/fixtures.sha256 line {}: `{hash}` is not a SHA-256",
            n + 1
        );
        assert!(
            entries
                .insert(path.to_owned(), hash.to_ascii_lowercase())
                .is_none(),
            "tests/fixtures.sha256 lists {path} twice"
        );
    }
    entries
}

/// Every file under `fixtures/` except README.md files, as `fixtures/...` paths.
fn golden_files() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("reading fixtures/") {
            let path = entry.expect("a fixtures/ entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.file_name().is_some_and(|n| n != "README.md") {
                out.push(path);
            }
        }
    }
    let root = root();
    let mut files = Vec::new();
    walk(&root.join("fixtures"), &mut files);
    let mut names: Vec<String> = files
        .iter()
        .map(|p| {
            p.strip_prefix(&root)
                .expect("under the root")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    names.sort();
    names
}

#[test]
fn golden_fixtures_are_unchanged() {
    let recorded = manifest();
    assert!(
        !recorded.is_empty(),
        "tests/fixtures.sha256 records nothing"
    );
    let mut problems = Vec::new();
    for (path, want) in &recorded {
        match std::fs::read(root().join(path)) {
            Ok(bytes) => {
                let got = sha256_hex(&bytes);
                if &got != want {
                    problems.push(format!(
                        "{path} CHANGED: sha256 {got} ({} bytes), recorded {want}. Golden data \
                         is never regenerated: restore it with `git checkout -- {path}` and \
                         find what rewrote it; a new format version or new vectors go in a \
                         NEW file, recorded in tests/fixtures.sha256 and its README.md",
                        bytes.len()
                    ));
                }
            }
            Err(e) => problems.push(format!(
                "{path} is recorded in tests/fixtures.sha256 but cannot be read ({e}); golden \
                 files are never deleted"
            )),
        }
    }
    for path in golden_files() {
        if !recorded.contains_key(&path) {
            problems.push(format!(
                "{path} is not recorded: add `<sha256>  {path}` to tests/fixtures.sha256 \
                 (`sha256sum {path}`) in the commit that adds it, with its origin in the \
                 directory's README.md"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "golden fixtures:\n  {}",
        problems.join("\n  ")
    );
}

/// `fixtures/sign/README.md` states the vectors' SHA-256 (they are a byte-for-byte copy of
/// the reference file the official SDKs produced); the manifest must agree with it.
#[test]
fn sign_vectors_match_the_hash_their_readme_states() {
    let readme = std::fs::read_to_string(root().join("fixtures/sign/README.md"))
        .expect("reading fixtures/sign/README.md");
    let stated = readme
        .split("sha256 `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .expect("fixtures/sign/README.md states the file's sha256 as `sha256 `HEX``");
    assert_eq!(
        manifest()
            .get("fixtures/sign/sign-vectors.json")
            .map(String::as_str),
        Some(stated),
        "fixtures/sign/README.md and tests/fixtures.sha256 disagree about sign-vectors.json"
    );
}
