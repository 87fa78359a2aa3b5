//! An emulator serving OSS, STS (with an OIDC trust), the metadata service and a credentials
//! URI on one port, and the key pair it knows.

use std::path::Path;
use std::time::Duration;

use oss_credentials::{Environment, HttpSettings};
use oss_emulator::{
    BucketSpec, Credentials, Emulator, ImdsSettings, ObjectSpec, OidcTrust, RunningServer,
    StsSettings,
};

pub const AK: &str = "LTAI5tCredentialsTest";
pub const SECRET: &str = "CredentialsTestSecret0123456789";
pub const ROLE_ARN: &str = "acs:ram::1234567890123456:role/oss-reader";
pub const OIDC_PROVIDER: &str = "acs:ram::1234567890123456:oidc-provider/ack-rrsa";
/// A JWT whose `iss` is `https://oidc.example` (what the emulator trusts).
pub const OIDC_TOKEN: &str =
    "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL29pZGMuZXhhbXBsZSIsInN1YiI6IngifQ.c2ln";
pub const ROLE: &str = "EcsRamRoleTest";

pub struct Env {
    pub emu: Emulator,
    pub server: RunningServer,
}

impl Env {
    pub async fn start() -> Self {
        let emu = Emulator::new();
        emu.add_credentials(Credentials::new(AK, SECRET));
        emu.add_bucket(BucketSpec::new("bkt")).unwrap();
        emu.put_object("bkt", "obj", ObjectSpec::synthetic(100_000, 5))
            .unwrap();
        emu.enable_sts(
            StsSettings::new().oidc(
                OidcTrust::new()
                    .provider_arn(OIDC_PROVIDER)
                    .issuer("https://oidc.example"),
            ),
        );
        emu.enable_imds(ImdsSettings::new(ROLE).hardened_only(true));
        emu.enable_credentials_uri();
        let server = emu.start_server().await.unwrap();
        Self { emu, server }
    }

    pub fn endpoint(&self) -> String {
        self.server.endpoint().to_owned()
    }

    pub fn uri(&self) -> String {
        format!("{}/-/credentials", self.endpoint())
    }
}

/// Short timeouts for tests.
pub fn http() -> HttpSettings {
    HttpSettings {
        connect_timeout: Duration::from_millis(500),
        timeout: Duration::from_secs(5),
        ..HttpSettings::service()
    }
}

/// An environment with only a home directory (and the metadata service off unless a test
/// turns it on), so nothing of the machine's leaks in.
pub fn bare_env(home: &Path) -> Environment {
    Environment::new().home(home)
}

/// An error and its causes, `: `-separated.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}
