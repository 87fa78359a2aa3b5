//! An oracle we did not write: Alibaba Cloud's official `alibabacloud-credentials` package
//! (Python, from PyPI, pinned in `tests/oracle/requirements.txt`) obtains credentials from the
//! emulator's STS (`AssumeRole`, signed by the package; `AssumeRoleWithOIDC`), metadata
//! service (hardened mode) and credentials URI, and what it obtained downloads an object from
//! the emulator's OSS. So the emulated services are what real clients expect, and the tests
//! of our providers against them mean something.
//!
//! The package is installed by this test into a virtual environment under
//! `target/py-oracle/` (created once, reused while the requirements are unchanged; about 20 s
//! the first time). It needs `python3` with `venv` and PyPI; `OSS_RESUME_SKIP_PY_ORACLE=1`
//! skips the test, loudly, on a machine without them.

use oss_emulator::{
    BucketSpec, CredentialService, Emulator, ImdsSettings, ObjectSpec, OidcTrust, StsSettings,
};
use oss_resume::{Client, Credentials};
use serde_json::Value;

use crate::support::py_oracle::{self, workspace};
use crate::support::scratch::Scratch;

const AK: &str = "LTAI5tPythonOracle";
const SECRET: &str = "PythonOracleSecret0123456789";
const ROLE_ARN: &str = "acs:ram::1234567890123456:role/python-oracle";
const OIDC_PROVIDER: &str = "acs:ram::1234567890123456:oidc-provider/python-oracle";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL29pZGMuZXhhbXBsZSJ9.c2ln";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_package_obtains_credentials_from_the_emulator() {
    if py_oracle::skipped("the Python credentials oracle") {
        return;
    }
    let python = tokio::task::spawn_blocking(py_oracle::python)
        .await
        .unwrap();
    let emu = Emulator::new();
    emu.add_credentials(oss_emulator::Credentials::new(AK, SECRET));
    emu.add_bucket(BucketSpec::new("oracle")).unwrap();
    emu.put_object("oracle", "obj", ObjectSpec::synthetic(50_000, 1))
        .unwrap();
    emu.enable_sts(
        StsSettings::new().oidc(
            OidcTrust::new()
                .provider_arn(OIDC_PROVIDER)
                .token(OIDC_TOKEN),
        ),
    );
    emu.enable_imds(ImdsSettings::new("PythonOracleRole").hardened_only(true));
    emu.enable_credentials_uri();
    let server = emu.start_server().await.unwrap();
    let endpoint = server.endpoint().to_owned();
    let scratch = Scratch::new("py-oracle");
    let token_file = scratch.path("oidc-token");
    std::fs::write(&token_file, OIDC_TOKEN).unwrap();

    let mut cmd = tokio::process::Command::new(&python);
    cmd.arg(workspace().join("tests/oracle/credentials_oracle.py"))
        .args([&endpoint, AK, SECRET, ROLE_ARN, OIDC_PROVIDER])
        .arg(&token_file)
        .env("HOME", scratch.dir())
        .kill_on_drop(true);
    // The package reads these at import; none may point it anywhere else.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ALIBABA_CLOUD_")
            || name.to_string_lossy().ends_with("_proxy")
            || name.to_string_lossy().ends_with("_PROXY")
        {
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
    let issued = emu.issued_credentials();
    for (name, via) in [
        ("ram_role_arn", CredentialService::AssumeRole),
        ("oidc", CredentialService::AssumeRoleWithOidc),
        ("ecs_ram_role", CredentialService::Imds),
        ("credentials_uri", CredentialService::CredentialsUri),
    ] {
        let c = &got[name];
        let id = c["access_key_id"].as_str().unwrap();
        assert!(
            issued.iter().any(|i| i.access_key_id == id && i.via == via),
            "{name}: {id} was not issued by {via:?}: {issued:?}"
        );
        // What the official client obtained signs an OSS download.
        let creds = Credentials::new(id, c["access_key_secret"].as_str().unwrap())
            .unwrap()
            .with_security_token(c["security_token"].as_str().unwrap())
            .unwrap();
        let client = Client::builder()
            .endpoint(&endpoint)
            .region("cn-test")
            .credentials(creds)
            .build()
            .unwrap();
        client
            .download("oracle", "obj", scratch.path(&format!("{name}.bin")))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // The package signed AssumeRole itself (HMAC-SHA1, GET, its own layout): verified.
    assert_eq!(emu.credential_requests(CredentialService::AssumeRole), 1);
    // Hardened mode: token, role name, token, credentials (the package fetches a token per GET).
    assert_eq!(emu.credential_requests(CredentialService::Imds), 4);
}
