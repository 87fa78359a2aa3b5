//! The workspace's layering (docs/architecture.md, "The arrows"), checked on `cargo
//! metadata`: dependency edges between workspace crates point down the layers, the pure
//! crates stay pure, rustls has the ring provider only, and xtask depends on no workspace
//! crate.
//!
//! Two sources, each used where it is exact:
//! - edges between workspace crates and "zero dependencies" come from each package's
//!   manifest (`packages[].dependencies`: kind, optional, features), so a dev-dependency is
//!   never mistaken for a normal one;
//! - closures ("oss-sign pulls in no tokio") come from the resolve graph. `cargo metadata`
//!   resolves features for the whole workspace at once (dev-dependencies included), so a
//!   closure there is a superset of what a user of one crate gets: a pass is sound; a
//!   failure prints the path, and `cargo tree -p <crate> -e normal -i <package>` shows
//!   whether the crate itself or a feature another crate turns on brings it in.
//!
//! `--filter-platform <host>` keeps `cargo metadata` from downloading other platforms'
//! packages (it works offline after a build); a dependency only another platform pulls in
//! is caught by that platform's CI job.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

/// The layers (docs/architecture.md, "The crates"; this table is the authority and that
/// page's table copies it): each workspace crate and the crates its arrows point to. A normal
/// dependency A -> B is allowed when B is reachable from A along these arrows (pointing
/// down, possibly skipping a layer, as oss-resume -> oss-crc does).
const DIAGRAM: &[(&str, &[&str])] = &[
    ("ossget", &["oss-resume"]),
    // The C library: a C ABI over oss-resume, no download logic of its own.
    ("oss-resume-c", &["oss-resume"]),
    (
        "oss-resume",
        &["oss-credentials", "oss-http", "oss-ckpt", "oss-parts"],
    ),
    // Credential providers need HTTP (STS, the metadata service) and oss-http's TLS trust;
    // the ProvideCredentials trait they implement stays in oss-sign.
    ("oss-credentials", &["oss-http", "oss-sign"]),
    // The Python binding: marshalling, errors, cancellation and progress over oss-resume's
    // public API; no download logic of its own, so nothing below oss-resume directly.
    ("oss-resume-py", &["oss-resume"]),
    ("oss-http", &["oss-sign", "oss-crc", "oss-parts"]),
    ("oss-ckpt", &["oss-parts", "oss-crc"]),
    ("oss-sign", &[]),
    ("oss-crc", &[]),
    ("oss-parts", &[]),
    // Dev/test only; it uses oss-sign (signature verification), oss-crc and oss-parts
    // (human sizes on its command line).
    ("oss-emulator", &["oss-sign", "oss-crc", "oss-parts"]),
    // Runs cargo and the built binaries; depends on no workspace crate at all.
    ("xtask", &[]),
    // This crate: dev-dependencies only.
    ("oss-resume-tests", &[]),
];

/// Crates that may appear as a dev-dependency of any workspace crate but never as a normal
/// one (test infrastructure).
const TEST_ONLY: &[&str] = &["oss-emulator"];

/// Packages that mean an async runtime, an HTTP stack, a TLS stack or sockets (our own
/// HTTP stack, oss-http, included).
const RUNTIME_OR_NETWORK: &[&str] = &[
    "tokio",
    "tokio-util",
    "mio",
    "socket2",
    "async-std",
    "smol",
    "async-executor",
    "async-global-executor",
    "futures-executor",
    "hyper",
    "hyper-util",
    "h2",
    "reqwest",
    "openssl",
    "openssl-sys",
    "native-tls",
    "rustls",
    "hyper-rustls",
    "tokio-rustls",
    "oss-http",
];

/// What the metadata says, indexed.
struct Metadata {
    /// Workspace package name -> its manifest entry.
    members: BTreeMap<String, Value>,
    /// Package id -> package name (every package in the resolve).
    names: HashMap<String, String>,
    /// Package id -> resolve node.
    nodes: HashMap<String, Value>,
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// The host triple, from `cargo -vV`.
fn host_triple() -> String {
    let out = cargo().arg("-vV").output().expect("running `cargo -vV`");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .unwrap_or_else(|| panic!("`cargo -vV` printed no `host:` line:\n{text}"))
        .trim()
        .to_owned()
}

/// The workspace's metadata, read once per test process: every test here checks the same
/// graph, and each `cargo metadata` run costs a resolve.
fn metadata() -> &'static Metadata {
    static METADATA: OnceLock<Metadata> = OnceLock::new();
    METADATA.get_or_init(read_metadata)
}

fn read_metadata() -> Metadata {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // --locked: a test must not rewrite Cargo.lock (cargo test has updated it already).
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--locked"])
        .args(["--filter-platform", &host_triple()])
        .current_dir(&root)
        .output()
        .expect("running `cargo metadata`");
    assert!(
        out.status.success(),
        "`cargo metadata` failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata's JSON");
    let member_ids: BTreeSet<&str> = json["workspace_members"]
        .as_array()
        .expect("workspace_members")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut members = BTreeMap::new();
    let mut names = HashMap::new();
    for p in json["packages"].as_array().expect("packages") {
        let id = p["id"].as_str().expect("package id");
        let name = p["name"].as_str().expect("package name");
        names.insert(id.to_owned(), name.to_owned());
        if member_ids.contains(id) {
            members.insert(name.to_owned(), p.clone());
        }
    }
    let nodes = json["resolve"]["nodes"]
        .as_array()
        .expect("resolve.nodes (cargo metadata without --no-deps)")
        .iter()
        .map(|n| (n["id"].as_str().expect("node id").to_owned(), n.clone()))
        .collect();
    Metadata {
        members,
        names,
        nodes,
    }
}

/// `normal`, `dev` or `build`, as `cargo metadata` spells a dependency's kind.
fn kind_name(kind: &Value) -> &str {
    kind.as_str().unwrap_or("normal")
}

/// Every crate reachable from `from` along the diagram's arrows (not `from` itself).
fn reachable(from: &str) -> BTreeSet<&'static str> {
    let arrows: HashMap<&str, &[&str]> = DIAGRAM.iter().copied().collect();
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&'static str> = arrows.get(from).map(|a| a.to_vec()).unwrap_or_default();
    while let Some(c) = todo.pop() {
        if seen.insert(c) {
            todo.extend(arrows.get(c).copied().unwrap_or_default());
        }
    }
    seen
}

/// The workspace-crate edges declared in manifests: (from, to, kind, optional).
fn workspace_edges(md: &Metadata) -> Vec<(String, String, String, bool)> {
    let mut edges = Vec::new();
    for (name, pkg) in &md.members {
        for dep in pkg["dependencies"].as_array().expect("dependencies") {
            let dep_name = dep["name"].as_str().expect("dependency name");
            if md.members.contains_key(dep_name) && dep["path"].is_string() {
                edges.push((
                    name.clone(),
                    dep_name.to_owned(),
                    kind_name(&dep["kind"]).to_owned(),
                    dep["optional"].as_bool().unwrap_or(false),
                ));
            }
        }
    }
    edges
}

#[test]
fn workspace_edges_point_down_the_design_diagram() {
    let md = metadata();
    let known: BTreeSet<&str> = DIAGRAM.iter().map(|(n, _)| *n).collect();
    let mut problems = Vec::new();
    for name in md.members.keys() {
        if !known.contains(name.as_str()) {
            problems.push(format!(
                "workspace crate `{name}` is not in the layering diagram: place it in a layer \
                 (docs/architecture.md, \"The crates\") and add it to DIAGRAM in \
                 tests/cross/layering.rs"
            ));
        }
    }
    let edges = workspace_edges(md);
    for (from, to, kind, optional) in &edges {
        let edge = format!(
            "`{from}` -> `{to}` ({kind}{})",
            if *optional { ", optional" } else { "" }
        );
        let down = reachable(from).contains(to.as_str());
        if from == "xtask" {
            problems.push(format!(
                "{edge}: xtask must depend on no workspace crate (it runs cargo and the \
                 built binaries, so it still builds and names the failing step when a crate \
                 is broken)"
            ));
        } else if kind == "dev" {
            // Tests may use the emulator, lower crates, or the crate itself (for features);
            // a dev-dependency pointing up would make a lower crate's tests build the
            // layers above it.
            let ok = down
                || from == to
                || TEST_ONLY.contains(&to.as_str())
                || from == "oss-resume-tests";
            if !ok {
                problems.push(format!(
                    "{edge}: a dev-dependency pointing up (or across) the layers"
                ));
            }
        } else if TEST_ONLY.contains(&to.as_str()) {
            problems.push(format!(
                "{edge}: `{to}` is test infrastructure and may only be a dev-dependency"
            ));
        } else if !down {
            problems.push(format!(
                "{edge}: not an arrow of the layering diagram; `{from}` may depend on {:?} only",
                reachable(from)
            ));
        }
    }
    // The check must see the edges the diagram describes, or it proves nothing.
    for (from, to) in [
        ("ossget", "oss-resume"),
        ("oss-resume", "oss-http"),
        ("oss-resume", "oss-credentials"),
        ("oss-credentials", "oss-sign"),
        ("oss-http", "oss-sign"),
    ] {
        assert!(
            edges
                .iter()
                .any(|(f, t, k, _)| f == from && t == to && k == "normal"),
            "cargo metadata shows no normal edge {from} -> {to}; did the manifests change? \
             edges seen: {edges:?}"
        );
    }
    assert!(
        problems.is_empty(),
        "layering violations (docs/architecture.md: arrows only point down the layers):\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn oss_parts_has_no_dependencies_by_default() {
    let md = metadata();
    let parts = &md.members["oss-parts"];
    let default: BTreeSet<String> = parts["features"]["default"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let mut problems = Vec::new();
    for dep in parts["dependencies"].as_array().expect("dependencies") {
        let name = dep["name"].as_str().expect("name");
        match kind_name(&dep["kind"]) {
            "dev" => {}
            kind if !dep["optional"].as_bool().unwrap_or(false) => problems.push(format!(
                "`oss-parts` -> `{name}` ({kind}): oss-parts must have no dependencies \
                 (`cargo tree -p oss-parts -e normal` lists only itself)"
            )),
            kind => {
                let enabled_by_default = default.iter().any(|f| {
                    f == name || f == &format!("dep:{name}") || f.starts_with(&format!("{name}/"))
                });
                if enabled_by_default {
                    problems.push(format!(
                        "`oss-parts` -> `{name}` ({kind}, optional) is on by default; keep \
                         it behind a non-default feature"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The path from `start` to the first package named in `banned`, following normal edges
/// of the resolve graph; every such path, one per banned package found.
fn banned_paths(md: &Metadata, start: &str, banned: &dyn Fn(&str) -> bool) -> Vec<String> {
    let start_id = md
        .nodes
        .keys()
        .find(|id| md.names.get(*id).is_some_and(|n| n == start) && id.starts_with("path+"))
        .unwrap_or_else(|| panic!("`{start}` is not in the resolve graph"))
        .clone();
    let mut parent: HashMap<String, String> = HashMap::new();
    let mut queue = VecDeque::from([start_id.clone()]);
    let mut seen = BTreeSet::from([start_id.clone()]);
    let mut found = Vec::new();
    while let Some(id) = queue.pop_front() {
        let name = &md.names[&id];
        if id != start_id && banned(name) {
            let mut path = vec![name.clone()];
            let mut at = &id;
            while let Some(p) = parent.get(at) {
                path.push(md.names[p].clone());
                at = p;
            }
            path.reverse();
            found.push(path.join(" -> "));
        }
        for dep in md.nodes[&id]["deps"].as_array().expect("deps") {
            let normal = dep["dep_kinds"]
                .as_array()
                .expect("dep_kinds")
                .iter()
                .any(|k| k["kind"].is_null());
            let pkg = dep["pkg"].as_str().expect("pkg").to_owned();
            if normal && seen.insert(pkg.clone()) {
                parent.insert(pkg.clone(), id.clone());
                queue.push_back(pkg);
            }
        }
    }
    found
}

fn assert_closure_clean(md: &Metadata, krate: &str, banned: &[&str], why: &str) {
    let paths = banned_paths(md, krate, &|n| banned.contains(&n));
    assert!(
        paths.is_empty(),
        "{krate} must stay free of {why}, but its normal dependencies pull in:\n  {}\n\
         (`cargo tree -p {krate} -e normal -i <package>` shows whether {krate} itself or a \
         feature another workspace crate turns on brings it in)",
        paths.join("\n  ")
    );
}

#[test]
fn oss_sign_pulls_in_no_runtime_http_or_tls() {
    let md = metadata();
    assert_closure_clean(
        md,
        "oss-sign",
        RUNTIME_OR_NETWORK,
        "any async runtime, HTTP client, TLS stack or socket (another OSS tool can take \
         just this crate)",
    );
    // The closure walk must see oss-sign's real dependencies, or it proves nothing.
    let seen = banned_paths(md, "oss-sign", &|n| n == "ring");
    assert!(
        !seen.is_empty(),
        "oss-sign's closure has no ring: the walk is broken"
    );
}

#[test]
fn oss_ckpt_and_oss_parts_stay_free_of_networking() {
    let md = metadata();
    for krate in ["oss-ckpt", "oss-parts", "oss-crc"] {
        assert_closure_clean(
            md,
            krate,
            RUNTIME_OR_NETWORK,
            "networking (oss-parts and oss-ckpt stay free of networking)",
        );
    }
}

#[test]
fn rustls_uses_the_ring_provider_only() {
    let md = metadata();
    let mut problems = Vec::new();
    // No aws-lc anywhere under a library crate or the CLI: with two providers compiled in,
    // rustls cannot pick a default and panics at run time.
    for krate in [
        "oss-http",
        "oss-credentials",
        "oss-resume",
        "ossget",
        "oss-sign",
        "oss-ckpt",
    ] {
        for path in banned_paths(md, krate, &|n| n.starts_with("aws-lc")) {
            problems.push(format!("aws-lc in the normal dependencies: {path}"));
        }
    }
    let mut rustls_seen = false;
    for (id, node) in &md.nodes {
        let name = md.names[id].as_str();
        let features: BTreeSet<&str> = node["features"]
            .as_array()
            .expect("features")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let aws: Vec<&&str> = features
            .iter()
            .filter(|f| f.contains("aws") || **f == "fips" || **f == "prefer-post-quantum")
            .collect();
        if matches!(name, "rustls" | "hyper-rustls" | "tokio-rustls" | "rcgen") && !aws.is_empty() {
            problems.push(format!(
                "{id} has aws-lc features enabled: {aws:?} (set default-features = false and \
                 the ring feature in the root [workspace.dependencies])"
            ));
        }
        if name == "rustls" {
            rustls_seen = true;
            if !features.contains("ring") {
                problems.push(format!(
                    "{id} is built without the ring provider: {features:?}"
                ));
            }
        }
    }
    assert!(
        rustls_seen,
        "rustls is not in the resolve graph: the check is broken"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
