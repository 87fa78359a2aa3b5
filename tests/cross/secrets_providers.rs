//! The secrets rule for every credentials provider: the key pair, the OIDC token, and every
//! secret and security token the emulator's STS, metadata service and credentials URI issue
//! never reach an error, a `Debug`, a report, a checkpoint, the TRACE log, or `ossget -vvv`'s
//! output and `--json` — through successes, refreshes, a forced refresh after
//! `SecurityTokenExpired`, STS refusals, and malformed profile files that hold the secret.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use oss_emulator::{
    BucketSpec, CredentialFault, CredentialService, Emulator, ImdsSettings, ObjectSpec, OidcTrust,
    StsSettings,
};
use oss_resume::oss_credentials::{
    CachingProvider, CliProfileProvider, CredentialsUriProvider, DefaultChain, EcsRamRoleProvider,
    Environment, FetchCredentials, IniProfileProvider, OidcProvider,
};
use oss_resume::{Client, ProvideCredentials};

use crate::secrets::Outputs;
use crate::secrets_cli::ossget;
use crate::support::capture;
use crate::support::needles::{Needles, render_error};
use crate::support::scratch::Scratch;

const AK: &str = "LTAI5tProviderLeakTest";
const SECRET: &str = "ProviderLeak-Secret-Zx81-qq";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL29pZGMuZXhhbXBsZSIsInN1YiI6ImxlYWstdGVzdCJ9.bGVha3NpZw";
const ROLE_ARN: &str = "acs:ram::1234567890123456:role/leak";
const BUCKET: &str = "leak-providers";

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn config_json(endpoint: &str, token_file: &Path) -> String {
    format!(
        r#"{{"current": "role", "profiles": [
            {{"name": "ak", "mode": "AK", "access_key_id": "{AK}", "access_key_secret": "{SECRET}"}},
            {{"name": "role", "mode": "RamRoleArn", "access_key_id": "{AK}", "access_key_secret": "{SECRET}",
              "ram_role_arn": "{ROLE_ARN}", "sts_endpoint": "{endpoint}"}},
            {{"name": "oidc", "mode": "OIDC", "ram_role_arn": "{ROLE_ARN}",
              "oidc_provider_arn": "acs:ram::1234567890123456:oidc-provider/leak",
              "oidc_token_file": "{}", "sts_endpoint": "{endpoint}"}},
            {{"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "LeakRole"}},
            {{"name": "uri", "mode": "CredentialsURI", "credentials_uri": "{endpoint}/-/credentials"}},
            {{"name": "bad", "mode": "RamRoleArn", "access_key_id": "{AK}", "access_key_secret": "{SECRET}",
              "ram_role_arn": "{ROLE_ARN}", "expired_seconds": "{SECRET}"}}
        ]}}"#,
        token_file.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_provider_leaks_a_secret() {
    capture::install();
    let emu = Emulator::new();
    emu.add_credentials(oss_emulator::Credentials::new(AK, SECRET));
    emu.add_bucket(BucketSpec::new(BUCKET)).unwrap();
    emu.put_object(BUCKET, "obj", ObjectSpec::synthetic(150_000, 3))
        .unwrap();
    emu.enable_sts(StsSettings::new().oidc(OidcTrust::new().token(OIDC_TOKEN)));
    emu.enable_imds(ImdsSettings::new("LeakRole").hardened_only(true));
    emu.enable_credentials_uri();
    emu.set_credential_lifetime(Some(Duration::from_secs(1)));
    let server = emu.start_server().await.unwrap();
    let endpoint = server.endpoint().to_owned();
    let home = Scratch::new("leak-home");
    let token_file = home.path("oidc-token");
    std::fs::write(&token_file, OIDC_TOKEN).unwrap();
    write(
        &home.path(".aliyun/config.json"),
        &config_json(&endpoint, &token_file),
    );
    write(
        &home.path(".alibabacloud/credentials.ini"),
        &format!(
            "[default]\ntype = access_key\naccess_key_id = {AK}\naccess_key_secret = {SECRET}\n"
        ),
    );
    let broken_ini = home.path("broken.ini");
    write(&broken_ini, &format!("[broken]\n{SECRET}\n"));
    let env = Environment::new()
        .home(home.dir())
        .var("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
    let mut out = Outputs::default();

    let providers: Vec<(&str, Box<dyn FetchCredentials>)> = vec![
        (
            "env",
            Box::new(
                DefaultChain::builder(
                    Environment::new()
                        .var("ALIBABA_CLOUD_ACCESS_KEY_ID", AK)
                        .var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
                        .var("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
                )
                .build(),
            ),
        ),
        (
            "cli ak",
            Box::new(CliProfileProvider::new(env.clone()).profile("ak")),
        ),
        ("cli role", Box::new(CliProfileProvider::new(env.clone()))),
        (
            "cli oidc",
            Box::new(CliProfileProvider::new(env.clone()).profile("oidc")),
        ),
        (
            "cli uri",
            Box::new(CliProfileProvider::new(env.clone()).profile("uri")),
        ),
        (
            "cli ecs",
            Box::new(
                CliProfileProvider::new(env.clone())
                    .profile("ecs")
                    .metadata_endpoint(&endpoint),
            ),
        ),
        ("ini", Box::new(IniProfileProvider::new(env.clone()))),
        (
            "imds",
            Box::new(EcsRamRoleProvider::new(None).unwrap().endpoint(&endpoint)),
        ),
        (
            "uri",
            Box::new(
                CredentialsUriProvider::new(
                    format!("{endpoint}/-/credentials"),
                    oss_resume::oss_credentials::HttpSettings::service(),
                )
                .unwrap(),
            ),
        ),
        (
            "oidc env",
            Box::new(
                OidcProvider::from_env(
                    &Environment::new()
                        .var("ALIBABA_CLOUD_ROLE_ARN", ROLE_ARN)
                        .var(
                            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
                            "acs:ram::1:oidc-provider/p",
                        )
                        .var(
                            "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
                            token_file.to_str().unwrap(),
                        )
                        .var("ALIBABA_CLOUD_STS_ENDPOINT", &endpoint),
                    oss_resume::oss_credentials::HttpSettings::service(),
                )
                .unwrap(),
            ),
        ),
    ];
    for (label, provider) in providers {
        out.text(
            format!("{label}: provider Debug"),
            format!("{provider:?} {provider:#?}"),
        );
        let fetched = provider.fetch().await.unwrap();
        out.text(
            format!("{label}: fetched Debug"),
            format!("{fetched:?} {}", fetched.source),
        );
        let cached = CachingProvider::new(provider);
        let client = Client::builder()
            .endpoint(&endpoint)
            .region("cn-test")
            .credentials_provider(cached.clone())
            .build()
            .unwrap();
        let scratch = Scratch::new("leak-provider");
        // Part after part for longer than the 1 s credentials live: refreshed on the way.
        let report = client
            .download(BUCKET, "obj", scratch.path("obj"))
            .part_size(30_000)
            .bandwidth_limit(100_000)
            .checkpoint(true)
            .await
            .unwrap();
        out.text(format!("{label}: report"), format!("{report:?}"));
        out.text(
            format!("{label}: cached Debug"),
            format!("{cached:?} {cached:#?}"),
        );
        out.text(format!("{label}: client Debug"), format!("{client:?}"));
        out.files(label, &scratch);
    }

    // A forced refresh: OSS refuses the cached credentials (they were revoked) mid-download.
    let uri = CachingProvider::new(
        CredentialsUriProvider::new(
            format!("{endpoint}/-/credentials"),
            oss_resume::oss_credentials::HttpSettings::service(),
        )
        .unwrap(),
    );
    let first = uri.credentials().await.unwrap();
    emu.remove_credentials(first.access_key_id().unwrap());
    let client = Client::builder()
        .endpoint(&endpoint)
        .region("cn-test")
        .credentials_provider(uri.clone())
        .build()
        .unwrap();
    let scratch = Scratch::new("leak-forced");
    client
        .download(BUCKET, "obj", scratch.path("obj"))
        .await
        .unwrap();
    assert!(uri.fetches() >= 2);

    // Failures: an STS refusal, a wrong OIDC token, malformed profiles holding the secret.
    emu.add_credential_fault(
        CredentialService::AssumeRole,
        CredentialFault::Error {
            status: 403,
            code: "NoPermission".into(),
            message: "You are not authorized to do this action.".into(),
        },
        1,
    );
    let e = CliProfileProvider::new(env.clone())
        .fetch()
        .await
        .unwrap_err();
    out.text("sts refusal".into(), render_error(&e));
    for (label, provider) in [(
        "bad json field",
        CliProfileProvider::new(env.clone()).profile("bad"),
    )] {
        let e = provider.fetch().await.unwrap_err();
        assert!(e.to_string().contains("expired_seconds"), "{e}");
        out.text(label.into(), render_error(&e));
    }
    let e = IniProfileProvider::new(env.clone())
        .file(&broken_ini)
        .profile("broken")
        .fetch()
        .await
        .unwrap_err();
    out.text("bad ini".into(), render_error(&e));
    let e = CachingProvider::new(CliProfileProvider::new(env.clone()).profile("bad"))
        .credentials()
        .await
        .unwrap_err();
    out.text("sign error".into(), render_error(&e));
    std::fs::write(&token_file, format!("{OIDC_TOKEN}-rotated-wrong")).unwrap();
    let e = CliProfileProvider::new(env.clone())
        .profile("oidc")
        .fetch()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("refused"), "{e}");
    out.text("oidc refused".into(), render_error(&e));

    // The CLI, through the chain (the `role` profile), at -vvv with --json.
    std::fs::write(&token_file, OIDC_TOKEN).unwrap();
    let bin = tokio::task::spawn_blocking(ossget).await.unwrap();
    let scratch = Scratch::new("leak-cli-chain");
    let run = tokio::process::Command::new(bin)
        .args(["oss://leak-providers/obj", "obj", "-vvv", "--json"])
        .args(["--endpoint", &endpoint, "--region", "cn-test"])
        .args(["--part-size", "30000", "--limit-rate", "100KiB"])
        .current_dir(scratch.dir())
        .env_remove("OSS_ACCESS_KEY_ID")
        .env_remove("OSS_ACCESS_KEY_SECRET")
        .env_remove("OSS_ENDPOINT")
        .env_remove("OSS_REGION")
        .env("HOME", home.dir())
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("credentials from cli_profile `role`"),
        "{stderr}"
    );
    out.text(
        "cli stdout".into(),
        String::from_utf8_lossy(&run.stdout).into_owned(),
    );
    out.text("cli stderr".into(), stderr);
    let run = tokio::process::Command::new(ossget())
        .args([
            "oss://leak-providers/obj",
            "obj2",
            "-vvv",
            "--json",
            "--profile",
            "bad",
        ])
        .args(["--endpoint", &endpoint, "--region", "cn-test"])
        .current_dir(scratch.dir())
        .env("HOME", home.dir())
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    out.text(
        "cli bad stderr".into(),
        String::from_utf8_lossy(&run.stderr).into_owned(),
    );
    out.text(
        "cli bad stdout".into(),
        String::from_utf8_lossy(&run.stdout).into_owned(),
    );
    out.files("cli", &scratch);

    // Everything the emulator issued (secrets and tokens), the key pair and the OIDC token.
    let mut needles = Needles::default();
    needles.add("access key secret", SECRET);
    needles.add("OIDC token", OIDC_TOKEN);
    let issued = emu.issued_credentials();
    assert!(
        issued.len() >= 12,
        "{} credentials issued: too few refreshes",
        issued.len()
    );
    for (i, c) in issued.iter().enumerate() {
        let (secret, token) = emu.secret_of(&c.access_key_id).unwrap();
        needles.add(&format!("issued secret #{i}"), &secret);
        needles.add(&format!("issued token #{i}"), &token.unwrap());
    }
    out.assert_no_secret(&needles);
    let log = capture::captured();
    assert!(
        log.contains("credentials from"),
        "no oss-credentials event captured:\n{log}"
    );
    needles.assert_absent("the TRACE log", log.as_bytes());
    let _ = uri.provide_credentials();
}
