//! The checked-in C header `include/oss_resume.h` is what cbindgen makes of the crate now:
//! a change to an exported function, type or doc comment that did not regenerate the header
//! fails here, with the command that regenerates it.

use std::path::Path;

/// Set to regenerate the header instead of comparing.
const UPDATE: &str = "OSSR_UPDATE_HEADER";

#[test]
fn header_is_current() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .unwrap_or_else(|e| panic!("reading cbindgen.toml: {e}"));
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen could not generate the header: {e}"));
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let generated = String::from_utf8(generated).expect("cbindgen writes UTF-8");

    let path = crate_dir.join("include/oss_resume.h");
    if std::env::var_os(UPDATE).is_some() {
        std::fs::write(&path, &generated)
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{} is stale (or missing): the crate's exported API or its doc comments changed.\n\
         Regenerate it and commit the result:\n\n    \
         {UPDATE}=1 cargo test -p oss-resume-c --test header_current\n",
        path.display()
    );
}
