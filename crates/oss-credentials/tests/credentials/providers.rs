//! Each provider alone against the emulator, and the bad input each must name.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use oss_credentials::{
    CachingProvider, CredentialsError, CredentialsUriProvider, EcsRamRoleProvider, Environment,
    FetchCredentials, OidcProvider, RamRoleArnProvider, RoleSpec, StaticProvider, StsEndpoint,
};
use oss_emulator::{Clock, CredentialFault, CredentialService};
use oss_http::{AddressingStyle, ByteRange, Collect, GetRange};
use oss_sign::{Credentials, ProvideCredentials};

use crate::common::{AK, Env, OIDC_PROVIDER, OIDC_TOKEN, ROLE, ROLE_ARN, SECRET, chain, http};

fn key_pair() -> StaticProvider {
    StaticProvider::new(Credentials::new(AK, SECRET).unwrap(), "test key pair")
}

fn ram_role(env: &Env) -> RamRoleArnProvider {
    RamRoleArnProvider::with_http(
        Arc::new(key_pair()),
        RoleSpec::new(ROLE_ARN),
        StsEndpoint::custom(&env.endpoint()).unwrap(),
        http(),
    )
    .unwrap()
}

/// Downloads the test object with `provider`'s credentials: what the emulator issued works
/// on its OSS front-end.
async fn download_with(env: &Env, provider: CachingProvider) {
    let client = oss_http::Client::builder()
        .endpoint(env.endpoint())
        .region("cn-test")
        .credentials_provider(provider)
        .build()
        .unwrap();
    assert_eq!(client.addressing_style(), AddressingStyle::Path);
    let meta = client.head_object("bkt", "obj", None).await.unwrap();
    let pin = meta.pin();
    let mut sink = Collect::default();
    let get = GetRange::new("bkt", "obj", &pin, ByteRange::new(0, meta.size).unwrap());
    client.get_range(&get, &mut sink, None).await.unwrap();
}

#[tokio::test]
async fn ram_role_arn_assumes_the_role_and_its_credentials_work() {
    let env = Env::start().await;
    let fetched = ram_role(&env).fetch().await.unwrap();
    let id = fetched.credentials.access_key_id().unwrap().to_owned();
    let issued = env.emu.issued_credentials();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].access_key_id, id);
    assert_eq!(issued[0].via, CredentialService::AssumeRole);
    let left = fetched
        .credentials
        .expiry()
        .unwrap()
        .duration_since(SystemTime::now())
        .unwrap();
    assert!(
        left > Duration::from_secs(3500) && left <= Duration::from_secs(3601),
        "{left:?}"
    );
    assert!(fetched.source.contains(ROLE_ARN) && fetched.source.contains("test key pair"));
    download_with(&env, CachingProvider::new(ram_role(&env))).await;
}

#[tokio::test]
async fn role_chaining_signs_with_temporary_credentials_and_their_token() {
    let env = Env::start().await;
    let first = ram_role(&env);
    let second = RamRoleArnProvider::with_http(
        Arc::new(first),
        RoleSpec::new("acs:ram::1234567890123456:role/second"),
        StsEndpoint::custom(&env.endpoint()).unwrap(),
        http(),
    )
    .unwrap();
    let fetched = second.fetch().await.unwrap();
    assert_eq!(env.emu.issued_credentials().len(), 2);
    assert_eq!(
        env.emu.issued_credentials()[1].access_key_id,
        fetched.credentials.access_key_id().unwrap()
    );
}

#[tokio::test]
async fn sts_errors_carry_code_message_and_request_id() {
    let env = Env::start().await;
    env.emu.add_credential_fault(
        CredentialService::AssumeRole,
        CredentialFault::Error {
            status: 400,
            code: "InvalidParameter.RoleSessionName".into(),
            message: "The parameter RoleSessionName is wrongly formed.".into(),
        },
        1,
    );
    let e = ram_role(&env).fetch().await.unwrap_err();
    let CredentialsError::Service {
        status,
        code,
        message,
        request_id,
        ..
    } = &e
    else {
        panic!("{e:?}");
    };
    assert_eq!(*status, 400);
    assert_eq!(code.as_deref(), Some("InvalidParameter.RoleSessionName"));
    assert!(message.as_deref().unwrap().contains("wrongly formed"));
    assert!(request_id.as_deref().is_some_and(|r| !r.is_empty()));
    assert!(!e.is_retryable());
    // A wrong secret: STS's SignatureDoesNotMatch, and the secret is nowhere in the error.
    let wrong = RamRoleArnProvider::with_http(
        Arc::new(StaticProvider::new(
            Credentials::new(AK, "WrongSecretValue").unwrap(),
            "wrong pair",
        )),
        RoleSpec::new(ROLE_ARN),
        StsEndpoint::custom(&env.endpoint()).unwrap(),
        http(),
    )
    .unwrap();
    let e = wrong.fetch().await.unwrap_err();
    let text = format!("{} {e:?}", chain(&e));
    assert!(text.contains("SignatureDoesNotMatch"), "{text}");
    assert!(
        !text.contains("WrongSecretValue") && !text.contains("Signature="),
        "{text}"
    );
    // Throttling is retryable.
    env.emu.add_credential_fault(
        CredentialService::AssumeRole,
        CredentialFault::Error {
            status: 400,
            code: "Throttling.User".into(),
            message: "Request was denied due to user flow control.".into(),
        },
        1,
    );
    assert!(ram_role(&env).fetch().await.unwrap_err().is_retryable());
    // Settings STS would refuse are refused before any request.
    let mut role = RoleSpec::new(ROLE_ARN);
    role.duration = Duration::from_secs(600);
    let e = RamRoleArnProvider::new(key_pair(), role, StsEndpoint::global()).unwrap_err();
    assert!(e.to_string().contains("900 s"), "{e}");
}

#[tokio::test]
async fn oidc_reads_the_token_file_at_every_refresh() {
    let env = Env::start().await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{OIDC_TOKEN}\n")).unwrap();
    let vars = Environment::new()
        .var("ALIBABA_CLOUD_ROLE_ARN", ROLE_ARN)
        .var("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER)
        .var(
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
            token_file.to_str().unwrap(),
        )
        .var("ALIBABA_CLOUD_ROLE_SESSION_NAME", "ci-job")
        .var("ALIBABA_CLOUD_STS_ENDPOINT", env.endpoint());
    let oidc = OidcProvider::from_env(&vars, http()).unwrap();
    let fetched = oidc.fetch().await.unwrap();
    assert_eq!(
        env.emu.issued_credentials()[0].via,
        CredentialService::AssumeRoleWithOidc
    );
    assert!(fetched.source.starts_with("oidc_role_arn"));
    // The platform rotates the token: the next fetch sends the new content.
    std::fs::write(
        &token_file,
        "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2V2aWwifQ.c2ln",
    )
    .unwrap();
    let e = oidc.fetch().await.unwrap_err();
    assert!(
        chain(&e).contains("AuthenticationFail.OIDCToken.IssuerError"),
        "{}",
        chain(&e)
    );
    // A missing token file names the path; the token itself is never shown.
    std::fs::remove_file(&token_file).unwrap();
    let e = oidc.fetch().await.unwrap_err();
    assert!(matches!(e, CredentialsError::File { .. }), "{e:?}");
    assert!(e.to_string().contains(token_file.to_str().unwrap()), "{e}");
    // Two of the three variables: an error naming the missing one.
    let partial = vars.without("ALIBABA_CLOUD_OIDC_TOKEN_FILE");
    let e = OidcProvider::from_env(&partial, http()).unwrap_err();
    assert!(
        e.to_string()
            .contains("set ALIBABA_CLOUD_OIDC_TOKEN_FILE too"),
        "{e}"
    );
    assert!(!e.is_not_applicable());
    assert!(
        OidcProvider::from_env(&Environment::new(), http())
            .unwrap_err()
            .is_not_applicable()
    );
}

#[tokio::test]
async fn ecs_ram_role_in_hardened_mode() {
    let env = Env::start().await;
    let imds = EcsRamRoleProvider::new(None)
        .unwrap()
        .endpoint(env.endpoint());
    let fetched = imds.fetch().await.unwrap();
    assert!(fetched.source.contains(ROLE), "{}", fetched.source);
    assert_eq!(env.emu.issued_credentials()[0].via, CredentialService::Imds);
    // Token, role name, credentials.
    assert_eq!(env.emu.credential_requests(CredentialService::Imds), 3);
    download_with(
        &env,
        CachingProvider::new(
            EcsRamRoleProvider::new(Some(ROLE.into()))
                .unwrap()
                .endpoint(env.endpoint()),
        ),
    )
    .await;
    // The role from ALIBABA_CLOUD_ECS_METADATA: no discovery request.
    let vars = Environment::new().var("ALIBABA_CLOUD_ECS_METADATA", ROLE);
    let before = env.emu.credential_requests(CredentialService::Imds);
    EcsRamRoleProvider::from_env(&vars)
        .unwrap()
        .endpoint(env.endpoint())
        .fetch()
        .await
        .unwrap();
    assert_eq!(
        env.emu.credential_requests(CredentialService::Imds) - before,
        2
    );
    let off = Environment::new().var("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "TRUE");
    assert!(
        EcsRamRoleProvider::from_env(&off)
            .unwrap_err()
            .is_not_applicable()
    );
    // A role the instance does not have.
    let e = EcsRamRoleProvider::new(Some("Other".into()))
        .unwrap()
        .endpoint(env.endpoint())
        .fetch()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("HTTP 404"), "{e}");
}

#[tokio::test]
async fn ecs_ram_role_falls_back_to_imdsv1_unless_forbidden() {
    let env = Env::start().await;
    env.emu
        .enable_imds(oss_emulator::ImdsSettings::new(ROLE).hardened_only(false));
    let refuse_token = || {
        env.emu.add_credential_fault(
            CredentialService::Imds,
            CredentialFault::Error {
                status: 403,
                code: "Forbidden".into(),
                message: "Forbidden".into(),
            },
            1,
        );
    };
    refuse_token();
    let imds = EcsRamRoleProvider::new(None)
        .unwrap()
        .endpoint(env.endpoint());
    imds.fetch().await.unwrap();
    refuse_token();
    let strict = imds.clone().imdsv1_disabled(true);
    let e = strict.fetch().await.unwrap_err();
    assert!(
        e.to_string().contains("session token request was refused"),
        "{e}"
    );
}

#[tokio::test]
async fn a_hanging_or_absent_metadata_service_fails_fast() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let started = std::time::Instant::now();
    let e = EcsRamRoleProvider::new(None)
        .unwrap()
        .endpoint(format!("http://{addr}"))
        .fetch()
        .await
        .unwrap_err();
    assert!(matches!(e, CredentialsError::Unreachable { .. }), "{e:?}");
    assert!(chain(&e).contains("timed out"), "{}", chain(&e));
    // Bounded by the metadata service's 2 s deadline (generous bound: a shared machine).
    assert!(started.elapsed() < Duration::from_secs(10));
    hold.abort();
    // Nothing listening: refused at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let e = EcsRamRoleProvider::new(None)
        .unwrap()
        .endpoint(format!("http://127.0.0.1:{port}"))
        .fetch()
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
}

#[tokio::test]
async fn credentials_uri_and_its_refusals() {
    let env = Env::start().await;
    let uri = CredentialsUriProvider::new(env.uri(), http()).unwrap();
    let fetched = uri.fetch().await.unwrap();
    assert_eq!(
        env.emu.issued_credentials()[0].access_key_id,
        fetched.credentials.access_key_id().unwrap()
    );
    env.emu.add_credential_fault(
        CredentialService::CredentialsUri,
        CredentialFault::Error {
            status: 500,
            code: "InternalError".into(),
            message: "try later".into(),
        },
        1,
    );
    let e = uri.fetch().await.unwrap_err();
    assert!(
        e.is_retryable() && e.to_string().contains("HTTP 500"),
        "{e}"
    );
    assert!(CredentialsUriProvider::new("ftp://x", http()).is_err());
    let secret_uri = format!("{}?token=TopSecretQuery", env.uri());
    let bad = CredentialsUriProvider::new(secret_uri, http()).unwrap();
    env.emu.add_credential_fault(
        CredentialService::CredentialsUri,
        CredentialFault::Error {
            status: 403,
            code: "Denied".into(),
            message: "no".into(),
        },
        1,
    );
    let e = bad.fetch().await.unwrap_err();
    assert!(!format!("{e} {e:?}").contains("TopSecretQuery"), "{e:?}");
}

#[tokio::test]
async fn a_skewed_service_clock_is_corrected_from_date() {
    let env = Env::start().await;
    // The emulator's clock is 2 hours ahead: its Expiration is 3 h away by it, 1 h by ours.
    env.emu.set_clock(Clock::Ahead(Duration::from_secs(7200)));
    let fetched = CredentialsUriProvider::new(env.uri(), http())
        .unwrap()
        .fetch()
        .await
        .unwrap();
    let left = fetched
        .credentials
        .expiry()
        .unwrap()
        .duration_since(SystemTime::now())
        .unwrap();
    assert!(
        left > Duration::from_secs(3500) && left <= Duration::from_secs(3602),
        "{left:?}"
    );
}

#[tokio::test]
async fn caching_provider_refreshes_short_lived_credentials_while_downloading() {
    let env = Env::start().await;
    env.emu
        .set_credential_lifetime(Some(Duration::from_secs(3)));
    let provider = CachingProvider::new(ram_role(&env));
    let client = oss_http::Client::builder()
        .endpoint(env.endpoint())
        .region("cn-test")
        .credentials_provider(provider.clone())
        .build()
        .unwrap();
    let meta = client.head_object("bkt", "obj", None).await.unwrap();
    let pin = meta.pin();
    // Requests for ~5 s with 3 s credentials: every one signed with valid credentials.
    let started = std::time::Instant::now();
    let mut requests = 0;
    while started.elapsed() < Duration::from_secs(5) {
        let mut sink = Collect::default();
        let get = GetRange::new("bkt", "obj", &pin, ByteRange::new(0, 1000).unwrap());
        client.get_range(&get, &mut sink, None).await.unwrap();
        requests += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(provider.fetches() >= 2, "{} fetches", provider.fetches());
    assert!(requests > provider.fetches() * 5);
    assert!(provider.provide_credentials().is_ok());
}

/// STS goes through the proxy the settings name (a CONNECT tunnel, like OSS requests); the
/// metadata service never does, whatever the settings say: it is link-local, and a proxy
/// would be handed the role's credentials.
#[tokio::test]
async fn sts_honours_the_proxy_and_the_metadata_service_ignores_it() {
    use oss_emulator::{ConnectPolicy, ConnectProxy};
    let env = Env::start().await;
    let proxy = ConnectProxy::start(ConnectPolicy::Open).await.unwrap();
    let through = oss_credentials::HttpSettings {
        proxy: oss_http::Proxy::url(&proxy.url(), None).unwrap(),
        ..http()
    };
    let sts = RamRoleArnProvider::with_http(
        Arc::new(key_pair()),
        RoleSpec::new(ROLE_ARN),
        StsEndpoint::custom(&env.endpoint()).unwrap(),
        through.clone(),
    )
    .unwrap();
    sts.fetch().await.unwrap();
    let host = env.endpoint().trim_start_matches("http://").to_owned();
    let connects = proxy.connects();
    assert_eq!(connects.len(), 1, "{connects:?}");
    assert_eq!(connects[0].target, host);
    let imds = EcsRamRoleProvider::new(Some(ROLE.into()))
        .unwrap()
        .endpoint(env.endpoint())
        .http(through)
        .unwrap();
    imds.fetch().await.unwrap();
    assert_eq!(
        proxy.connects().len(),
        1,
        "the metadata service went through the proxy"
    );
}
