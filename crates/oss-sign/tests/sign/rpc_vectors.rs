//! `fixtures/sts/sts-sign-vectors.json` (produced by running the official RPC signers; see
//! `fixtures/sts/README.md`) through oss-sign's `rpc` module: every intermediate string and
//! the signature, byte for byte, plus the documentation's own example (`meta.doc_anchor`).

use oss_sign::{Credentials, rpc};
use serde_json::Value;

const VECTORS: &str = include_str!("../../../../fixtures/sts/sts-sign-vectors.json");

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .expect("params is a list")
        .iter()
        .map(|p| {
            let p = p.as_array().expect("a [name, value] pair");
            (
                p[0].as_str().unwrap().to_owned(),
                p[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` missing in {v}"))
}

#[test]
fn every_vector_reproduces_the_official_signers() {
    let doc: Value = serde_json::from_str(VECTORS).unwrap();
    let vectors = doc["vectors"].as_array().unwrap();
    assert_eq!(
        vectors.len(),
        doc["meta"]["count"].as_u64().unwrap() as usize
    );
    for v in vectors {
        let name = text(v, "name");
        let inputs = &v["inputs"];
        let out = &v["outputs"];
        let method = text(inputs, "method");
        let params = pairs(&inputs["params"]);
        let secret = text(inputs, "access_key_secret");
        let canonical = rpc::canonicalized_query(&params);
        assert_eq!(
            canonical,
            text(out, "canonicalized_query_string"),
            "{name}: canonicalized query"
        );
        let mut keys: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        let want_keys: Vec<&str> = out["sorted_keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        assert_eq!(keys, want_keys, "{name}: sorted keys");
        let string = rpc::string_to_sign(method, &canonical);
        assert_eq!(
            string,
            text(out, "string_to_sign"),
            "{name}: string to sign"
        );
        assert_eq!(format!("{secret}&"), text(out, "hmac_key"), "{name}: key");
        let creds = Credentials::new(text(inputs, "access_key_id"), secret).unwrap();
        let signature = rpc::sign(method, &params, &creds).unwrap();
        assert_eq!(signature, text(out, "signature"), "{name}: signature");
        assert_eq!(
            rpc::signature(secret.as_bytes(), &string),
            signature,
            "{name}: server-side signature"
        );
        // The wire layout's Signature parameter is the same value, percent-encoded.
        let wire = text(&v["wire_example"], "query");
        assert!(
            wire.contains(&format!(
                "Signature={}",
                oss_sign::uri_encode(&signature, oss_sign::Slash::Escape)
            )),
            "{name}: wire example"
        );
    }
}

#[test]
fn the_documentation_example() {
    let doc: Value = serde_json::from_str(VECTORS).unwrap();
    let anchor = &doc["meta"]["doc_anchor"];
    let params = pairs(&anchor["params"]);
    let string = rpc::string_to_sign(text(anchor, "method"), &rpc::canonicalized_query(&params));
    assert_eq!(string, text(anchor, "string_to_sign"));
    let secret = text(anchor, "access_key_secret");
    assert_eq!(
        rpc::signature(secret.as_bytes(), &string),
        text(anchor, "documented_signature")
    );
}
