//! The default chain: its order (each provider wins once those before it are gone), what its
//! errors say, and malformed profile files.

use std::path::Path;

use oss_credentials::{CredentialsError, DefaultChain, Environment, FetchCredentials};
use oss_emulator::CredentialService;

use crate::common::{AK, Env, OIDC_PROVIDER, OIDC_TOKEN, ROLE_ARN, SECRET, bare_env, chain, http};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn config_json(endpoint: &str) -> String {
    format!(
        r#"{{"current": "role", "profiles": [
            {{"name": "ak", "mode": "AK", "access_key_id": "{AK}", "access_key_secret": "{SECRET}"}},
            {{"name": "role", "mode": "RamRoleArn", "access_key_id": "{AK}", "access_key_secret": "{SECRET}",
              "ram_role_arn": "{ROLE_ARN}", "ram_session_name": "cli-session", "expired_seconds": 900,
              "sts_endpoint": "{endpoint}"}},
            {{"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "role",
              "ram_role_arn": "acs:ram::1234567890123456:role/second", "sts_endpoint": "{endpoint}"}},
            {{"name": "uri", "mode": "CredentialsURI", "credentials_uri": "{endpoint}/-/credentials"}},
            {{"name": "external", "mode": "External", "process_command": "/bin/false"}},
            {{"name": "typo", "mode": "RamRoleArn", "access_key_id": "{AK}", "access_key_secret": "{SECRET}",
              "ram_role_arn": "{ROLE_ARN}", "expired_seconds": "an hour"}}
        ], "meta_path": ""}}"#
    )
}

fn ini(endpoint: &str) -> String {
    let _ = endpoint;
    format!(
        "[default]\ntype = access_key\naccess_key_id = LTAIini\naccess_key_secret = {SECRET}\n\n[role]\ntype = ram_role_arn\naccess_key_id = {AK}\naccess_key_secret = {SECRET}\nrole_arn = {ROLE_ARN}\nrole_session_name = ini-session\n"
    )
}

async fn source(env: Environment, metadata: &str) -> Result<String, CredentialsError> {
    let chain = DefaultChain::builder(env)
        .metadata_endpoint(metadata)
        .http(http())
        .build();
    chain.fetch().await.map(|f| f.source)
}

/// Everything configured; each provider wins once the ones before it are removed.
#[tokio::test]
async fn the_order_of_the_default_chain() {
    let env = Env::start().await;
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("oidc-token");
    std::fs::write(&token_file, OIDC_TOKEN).unwrap();
    write(
        &home.path().join(".aliyun/config.json"),
        &config_json(&env.endpoint()),
    );
    write(
        &home.path().join(".alibabacloud/credentials.ini"),
        &ini(&env.endpoint()),
    );
    let full = bare_env(home.path())
        .var("OSS_ACCESS_KEY_ID", "LTAIoss")
        .var("OSS_ACCESS_KEY_SECRET", "s")
        .var("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIali")
        .var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s")
        .var("ALIBABA_CLOUD_ROLE_ARN", ROLE_ARN)
        .var("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER)
        .var(
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
            token_file.to_str().unwrap(),
        )
        .var("ALIBABA_CLOUD_STS_ENDPOINT", env.endpoint())
        .var("ALIBABA_CLOUD_CREDENTIALS_URI", env.uri());
    let m = env.endpoint();
    assert_eq!(
        source(full.clone(), &m).await.unwrap(),
        "env (OSS_ACCESS_KEY_ID)"
    );
    let e = full
        .clone()
        .without("OSS_ACCESS_KEY_ID")
        .without("OSS_ACCESS_KEY_SECRET");
    assert_eq!(
        source(e.clone(), &m).await.unwrap(),
        "env (ALIBABA_CLOUD_ACCESS_KEY_ID)"
    );
    let e = e
        .without("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .without("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
    assert!(
        source(e.clone(), &m)
            .await
            .unwrap()
            .starts_with("oidc_role_arn")
    );
    let e = e
        .without("ALIBABA_CLOUD_ROLE_ARN")
        .without("ALIBABA_CLOUD_OIDC_PROVIDER_ARN")
        .without("ALIBABA_CLOUD_OIDC_TOKEN_FILE");
    let s = source(e.clone(), &m).await.unwrap();
    assert!(s.starts_with("cli_profile `role` (RamRoleArn)"), "{s}");
    let e = e.var("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true");
    let s = source(e.clone(), &m).await.unwrap();
    assert!(s.starts_with("ini_profile `default` (access_key)"), "{s}");
    std::fs::remove_file(home.path().join(".alibabacloud/credentials.ini")).unwrap();
    let s = source(e.clone(), &m).await.unwrap();
    assert!(s.starts_with("ecs_ram_role"), "{s}");
    let e = e.var("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
    let s = source(e.clone(), &m).await.unwrap();
    assert!(s.starts_with("credentials_uri"), "{s}");
    // Nothing left: the error lists every provider and why.
    let e = e.without("ALIBABA_CLOUD_CREDENTIALS_URI");
    let err = source(e, &m).await.unwrap_err();
    let text = err.to_string();
    for name in [
        "env",
        "oidc_role_arn",
        "cli_profile",
        "ini_profile",
        "ecs_ram_role",
        "credentials_uri",
    ] {
        assert!(text.contains(&format!("{name} (")), "{name} in {text}");
    }
    assert!(
        text.contains("disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED"),
        "{text}"
    );
}

#[tokio::test]
async fn the_chain_sticks_to_its_provider_and_skips_a_silent_metadata_service() {
    let env = Env::start().await;
    let home = tempfile::tempdir().unwrap();
    let vars = bare_env(home.path()).var("ALIBABA_CLOUD_CREDENTIALS_URI", env.uri());
    // No metadata service at this address: skipped (quickly), the URI wins.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let chain_ = DefaultChain::builder(vars)
        .metadata_endpoint(format!("http://127.0.0.1:{port}"))
        .http(http())
        .build();
    assert!(
        chain_
            .fetch()
            .await
            .unwrap()
            .source
            .starts_with("credentials_uri")
    );
    chain_.fetch().await.unwrap();
    assert_eq!(
        env.emu
            .credential_requests(CredentialService::CredentialsUri),
        2
    );
    assert_eq!(env.emu.credential_requests(CredentialService::Imds), 0);
    assert_eq!(
        chain_.providers(),
        [
            "env",
            "oidc_role_arn",
            "cli_profile",
            "ini_profile",
            "ecs_ram_role",
            "credentials_uri"
        ]
    );
}

#[tokio::test]
async fn profiles_by_name() {
    let env = Env::start().await;
    let home = tempfile::tempdir().unwrap();
    write(
        &home.path().join(".aliyun/config.json"),
        &config_json(&env.endpoint()),
    );
    write(
        &home.path().join(".alibabacloud/credentials.ini"),
        &ini(&env.endpoint()),
    );
    let m = env.endpoint();
    // --profile: only that profile, even with keys in the environment.
    let vars = bare_env(home.path())
        .var("OSS_ACCESS_KEY_ID", "LTAIoss")
        .var("OSS_ACCESS_KEY_SECRET", "s");
    let pick = |name: &str| {
        DefaultChain::builder(vars.clone())
            .profile(name)
            .metadata_endpoint(&m)
            .http(http())
            .build()
    };
    let f = pick("ak").fetch().await.unwrap();
    assert_eq!(f.credentials.access_key_id(), Some(AK));
    let f = pick("chained").fetch().await.unwrap();
    assert_eq!(
        env.emu.issued_credentials().len(),
        2,
        "two AssumeRoles for a chained role"
    );
    assert!(f.source.contains("role/second"), "{}", f.source);
    pick("uri").fetch().await.unwrap();
    // Not in config.json but in the INI file.
    let f = pick("default").fetch().await.unwrap();
    assert!(
        f.source.starts_with("ini_profile `default`"),
        "{}",
        f.source
    );
    assert_eq!(f.credentials.access_key_id(), Some("LTAIini"));
    // In neither: an error listing what both files have, never another identity.
    let e = pick("nope").fetch().await.unwrap_err();
    let text = chain(&e);
    assert!(
        text.contains("no profile `nope`") && text.contains("ak, role, chained"),
        "{text}"
    );
    // ALIBABA_CLOUD_PROFILE naming a missing profile stops the chain too (the SDKs would
    // silently use the metadata service).
    let vars = bare_env(home.path()).var("ALIBABA_CLOUD_PROFILE", "nope");
    let e = DefaultChain::builder(vars)
        .metadata_endpoint(&m)
        .http(http())
        .build()
        .fetch()
        .await
        .unwrap_err();
    assert!(matches!(e, CredentialsError::ChainStopped { .. }), "{e:?}");
    assert_eq!(env.emu.credential_requests(CredentialService::Imds), 0);
}

#[tokio::test]
async fn malformed_files_name_file_profile_and_field() {
    let env = Env::start().await;
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join(".aliyun/config.json");
    let m = env.endpoint();
    let run = |vars: Environment| {
        let m = m.clone();
        async move {
            DefaultChain::builder(vars)
                .metadata_endpoint(m)
                .http(http())
                .build()
                .fetch()
                .await
                .unwrap_err()
        }
    };
    let vars = bare_env(home.path());
    write(&config, "{ not json");
    let e = run(vars.clone()).await;
    let text = chain(&e);
    assert!(
        text.contains("config.json") && text.contains("not valid JSON"),
        "{text}"
    );
    // Configured but broken stops the chain: the metadata service was not asked.
    assert_eq!(env.emu.credential_requests(CredentialService::Imds), 0);
    write(&config, &config_json(&env.endpoint()));
    let e = run(vars.clone().var("ALIBABA_CLOUD_PROFILE", "external")).await;
    let text = chain(&e);
    assert!(
        text.contains("profile `external`, field `mode`: `External` is not supported"),
        "{text}"
    );
    let e = run(vars.clone().var("ALIBABA_CLOUD_PROFILE", "typo")).await;
    let text = chain(&e);
    assert!(
        text.contains("profile `typo`, field `expired_seconds`: expected a number"),
        "{text}"
    );
    assert!(!text.contains(SECRET));
    // The INI file: a line that is not `key = value`.
    std::fs::remove_file(&config).unwrap();
    write(
        &home.path().join(".alibabacloud/credentials.ini"),
        "[default]\ntype access_key\n",
    );
    let e = run(vars.clone()).await;
    let text = chain(&e);
    assert!(
        text.contains("credentials.ini") && text.contains("line 2"),
        "{text}"
    );
    write(
        &home.path().join(".alibabacloud/credentials.ini"),
        "[default]\ntype = rsa_key_pair\n",
    );
    let text = chain(&run(vars.clone()).await);
    assert!(
        text.contains("field `type`: `rsa_key_pair` is not supported"),
        "{text}"
    );
    // Half of the OIDC variables.
    std::fs::remove_file(home.path().join(".alibabacloud/credentials.ini")).unwrap();
    let e = run(vars.var("ALIBABA_CLOUD_ROLE_ARN", ROLE_ARN)).await;
    let text = chain(&e);
    assert!(
        text.contains("stopped at oidc_role_arn")
            && text.contains(
                "set ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE too"
            ),
        "{text}"
    );
}
