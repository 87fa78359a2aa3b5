//! The credential services (streaming server only: they read request bodies): STS verifying
//! the official signers' vectors byte for byte, the metadata service in hardened mode, the
//! credentials URI, and the OSS front-end accepting what they issue until it expires.

use std::time::{Duration, SystemTime};

use http::Method;
use oss_emulator::{
    Clock, CredentialFault, CredentialService, Credentials, Emulator, ImdsSettings, OidcTrust,
    StsSettings,
};
use oss_sign::SigningTime;
use serde_json::Value;

use crate::auth_cases::{V, signed_get};
use crate::common::{Front, Kind, Resp, standard_model};

const VECTORS: &str = include_str!("../../../../fixtures/sts/sts-sign-vectors.json");

fn json(r: &Resp) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.text()))
}

async fn start(emu: Emulator) -> Front {
    Front::start(Kind::Streaming, emu).await
}

fn vector_time() -> SystemTime {
    SigningTime::parse_iso8601("2026-01-15T08:30:00Z")
        .unwrap()
        .to_system_time()
}

/// Each AssumeRole vector's request, laid out on the wire as credentials-go sends it (or in
/// the query alone for GET), is accepted; with one signature byte changed it is refused.
#[tokio::test]
async fn sts_accepts_the_official_signers_requests() {
    let doc: Value = serde_json::from_str(VECTORS).unwrap();
    let mut replayed = 0;
    for v in doc["vectors"].as_array().unwrap() {
        let inputs = &v["inputs"];
        let params: Vec<(String, String)> = inputs["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p[0].as_str().unwrap().to_owned(),
                    p[1].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        if param("Action").as_deref() != Some("AssumeRole") {
            continue;
        }
        let name = v["name"].as_str().unwrap();
        let id = inputs["access_key_id"].as_str().unwrap();
        let secret = inputs["access_key_secret"].as_str().unwrap();
        for tamper in [false, true] {
            // A fresh model per request: the vectors share their nonces.
            let emu = Emulator::new();
            emu.set_clock(Clock::Fixed(vector_time()));
            emu.enable_sts(StsSettings::new());
            emu.add_credentials(match param("SecurityToken") {
                Some(token) => Credentials::sts(id, secret, token),
                None => Credentials::new(id, secret),
            });
            let f = start(emu.clone()).await;
            let wire = &v["wire_example"];
            let mut query = wire["query"].as_str().unwrap().to_owned();
            if tamper {
                query = query.replacen("Signature=", "Signature=A", 1);
            }
            let method = inputs["method"].as_str().unwrap();
            let mut req = f.req(
                Method::from_bytes(method.as_bytes()).unwrap(),
                &format!("/?{query}"),
            );
            if let Some(body) = wire["body"].as_str().filter(|b| !b.is_empty()) {
                req = req.form(body);
            }
            let r = req.send().await;
            let doc = json(&r);
            if tamper {
                assert_eq!(r.status, 400, "{name}: {doc}");
                assert_eq!(doc["Code"], "SignatureDoesNotMatch", "{name}");
                assert!(doc["RequestId"].as_str().is_some_and(|s| !s.is_empty()));
            } else {
                assert_eq!(r.status, 200, "{name}: {doc}");
                let creds = &doc["Credentials"];
                let key = creds["AccessKeyId"].as_str().unwrap();
                assert!(key.starts_with("STS."), "{name}");
                let expiration = creds["Expiration"].as_str().unwrap();
                let expires = SigningTime::parse_iso8601(expiration)
                    .unwrap()
                    .to_system_time();
                let asked = param("DurationSeconds").unwrap().parse::<u64>().unwrap();
                assert_eq!(
                    expires,
                    vector_time() + Duration::from_secs(asked),
                    "{name}"
                );
                assert_eq!(emu.issued_credentials()[0].access_key_id, key);
                replayed += 1;
            }
        }
    }
    assert!(
        replayed >= 10,
        "only {replayed} AssumeRole vectors replayed"
    );
}

/// What a request signed with `creds` now gets from OSS.
async fn oss_get(f: &Front, doc: &Value) -> Resp {
    let c = &doc["Credentials"];
    let creds = oss_sign::Credentials::new(
        c["AccessKeyId"].as_str().unwrap(),
        c["AccessKeySecret"].as_str().unwrap(),
    )
    .unwrap()
    .with_security_token(c["SecurityToken"].as_str().unwrap())
    .unwrap();
    signed_get(
        f,
        V::V4,
        &creds,
        "bkt",
        "obj",
        SigningTime::from_system_time(f.emu.now()).unwrap(),
    )
    .send()
    .await
}

fn assume_role_query(
    id: &str,
    secret: &str,
    nonce: &str,
    now: SystemTime,
    extra: &[(&str, &str)],
) -> String {
    let time = SigningTime::from_system_time(now).unwrap().iso8601();
    let mut params: Vec<(&str, &str)> = vec![
        ("AccessKeyId", id),
        ("Action", "AssumeRole"),
        ("Format", "JSON"),
        ("RoleArn", "acs:ram::1234567890123456:role/reader"),
        ("RoleSessionName", "emulator-test"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", nonce),
        ("SignatureVersion", "1.0"),
        ("Timestamp", &time),
        ("Version", "2015-04-01"),
    ];
    params.extend_from_slice(extra);
    let creds = oss_sign::Credentials::new(id, secret).unwrap();
    let signature = oss_sign::rpc::sign("GET", &params, &creds).unwrap();
    let mut q = oss_sign::rpc::canonicalized_query(&params);
    q.push_str("&Signature=");
    q.push_str(&oss_sign::uri_encode(signature, oss_sign::Slash::Escape));
    q
}

#[tokio::test]
async fn sts_credentials_work_on_oss_until_they_expire() {
    let emu = standard_model();
    // A whole second: issued expiries are whole seconds (rounded up).
    let t0 = SystemTime::UNIX_EPOCH
        + Duration::from_secs(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        );
    emu.set_clock(Clock::Fixed(t0));
    emu.enable_sts(StsSettings::new());
    emu.set_credential_lifetime(Some(Duration::from_secs(20)));
    let f = start(emu.clone()).await;
    let q = assume_role_query(crate::common::AK, crate::common::SECRET, "n-1", t0, &[]);
    let r = f.get(&format!("/?{q}")).send().await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.h("date").is_some(),
        "STS answers carry Date (clock-skew correction needs it)"
    );
    let doc = json(&r);
    assert_eq!(oss_get(&f, &doc).await.status, 200);
    // 19 s later: still fine; at 20 s: expired.
    emu.set_clock(Clock::Fixed(t0 + Duration::from_secs(19)));
    assert_eq!(oss_get(&f, &doc).await.status, 200);
    emu.set_clock(Clock::Fixed(t0 + Duration::from_secs(20)));
    let r = oss_get(&f, &doc).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.code().as_deref(), Some("SecurityTokenExpired"));
    assert!(r.text().contains("0002-00000007"), "{}", r.text());
    // The nonce was used: a replay is refused.
    emu.set_clock(Clock::Fixed(t0));
    let r = f.get(&format!("/?{q}")).send().await;
    assert_eq!(json(&r)["Code"], "SignatureNonceUsed");
    // An unknown key, a skewed timestamp, a bad duration.
    let r = f
        .get(&format!(
            "/?{}",
            assume_role_query("LTAInope", "x", "n-2", t0, &[])
        ))
        .send()
        .await;
    assert_eq!(
        (r.status.as_u16(), json(&r)["Code"].as_str()),
        (404, Some("InvalidAccessKeyId.NotFound"))
    );
    let skewed = t0 - Duration::from_secs(16 * 60);
    let r = f
        .get(&format!(
            "/?{}",
            assume_role_query(crate::common::AK, crate::common::SECRET, "n-3", skewed, &[])
        ))
        .send()
        .await;
    assert_eq!(json(&r)["Code"], "InvalidTimeStamp.Expired");
    let r = f
        .get(&format!(
            "/?{}",
            assume_role_query(
                crate::common::AK,
                crate::common::SECRET,
                "n-4",
                t0,
                &[("DurationSeconds", "899")]
            )
        ))
        .send()
        .await;
    assert_eq!(json(&r)["Code"], "InvalidParameter.DurationSeconds");
    assert_eq!(emu.credential_requests(CredentialService::AssumeRole), 5);
}

#[tokio::test]
async fn sts_faults_answer_as_sts_does() {
    let emu = standard_model();
    emu.enable_sts(StsSettings::new());
    emu.add_credential_fault(
        CredentialService::AssumeRole,
        CredentialFault::Error {
            status: 400,
            code: "InvalidParameter.RoleSessionName".into(),
            message: "The parameter RoleSessionName is wrongly formed.".into(),
        },
        1,
    );
    let f = start(emu.clone()).await;
    let now = SystemTime::now();
    let r = f
        .get(&format!(
            "/?{}",
            assume_role_query(crate::common::AK, crate::common::SECRET, "f-1", now, &[])
        ))
        .send()
        .await;
    let doc = json(&r);
    assert_eq!(r.status, 400);
    for field in ["RequestId", "HostId", "Code", "Message", "Recommend"] {
        assert!(doc[field].is_string(), "{field} in {doc}");
    }
    // The fault was for one request only.
    let r = f
        .get(&format!(
            "/?{}",
            assume_role_query(crate::common::AK, crate::common::SECRET, "f-2", now, &[])
        ))
        .send()
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn oidc_tokens_are_checked() {
    let emu = standard_model();
    let token = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL29pZGMuZXhhbXBsZSIsInN1YiI6IngifQ.c2ln";
    emu.enable_sts(
        StsSettings::new().oidc(
            OidcTrust::new()
                .provider_arn("acs:ram::1234567890123456:oidc-provider/ack")
                .issuer("https://oidc.example"),
        ),
    );
    let f = start(emu.clone()).await;
    let body = |token: &str, provider: &str| {
        format!(
            "DurationSeconds=3600&OIDCProviderArn={}&OIDCToken={}&RoleArn=acs%3Aram%3A%3A1234567890123456%3Arole%2Foidc&RoleSessionName=ci-job",
            oss_sign::uri_encode(provider, oss_sign::Slash::Escape),
            oss_sign::uri_encode(token, oss_sign::Slash::Escape)
        )
    };
    let post = |form: String| {
        f.req(Method::POST, "/?Action=AssumeRoleWithOIDC&Format=JSON&Version=2015-04-01&Timestamp=2026-01-15T08%3A30%3A00Z")
            .form(&form)
    };
    let r = post(body(
        &format!("{token}\n"),
        "acs:ram::1234567890123456:oidc-provider/ack",
    ))
    .send()
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(json(&r)["OIDCTokenInfo"].is_object());
    assert_eq!(oss_get(&f, &json(&r)).await.status, 200);
    let other_issuer = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2V2aWwifQ.c2ln";
    let r = post(body(
        other_issuer,
        "acs:ram::1234567890123456:oidc-provider/ack",
    ))
    .send()
    .await;
    assert_eq!(json(&r)["Code"], "AuthenticationFail.OIDCToken.IssuerError");
    let r = post(body(token, "acs:ram::1234567890123456:oidc-provider/other"))
        .send()
        .await;
    assert_eq!(json(&r)["Code"], "EntityNotExist.OIDCProvider");
    assert_eq!(
        emu.credential_requests(CredentialService::AssumeRoleWithOidc),
        3
    );
}

#[tokio::test]
async fn imds_hardened_mode() {
    let emu = standard_model();
    emu.enable_imds(ImdsSettings::new("EcsRamRoleTest").hardened_only(true));
    let f = start(emu.clone()).await;
    let token = f
        .req(Method::PUT, "/latest/api/token")
        .header("X-aliyun-ecs-metadata-token-ttl-seconds", "21600")
        .send()
        .await;
    assert_eq!(token.status, 200);
    let token = token.text();
    let role = f
        .get("/latest/meta-data/ram/security-credentials/?")
        .header("X-aliyun-ecs-metadata-token", &token)
        .send()
        .await;
    assert_eq!(role.text(), "EcsRamRoleTest");
    // credentials-go's bare trailing `?`, and a request in absolute form (through a proxy).
    let creds = f
        .get("http://100.100.100.200/latest/meta-data/ram/security-credentials/EcsRamRoleTest")
        .host("100.100.100.200")
        .header("X-aliyun-ecs-metadata-token", &token)
        .send()
        .await;
    assert_eq!(creds.status, 200, "{}", creds.text());
    let doc = json(&creds);
    assert_eq!(doc["Code"], "Success");
    for field in [
        "AccessKeyId",
        "AccessKeySecret",
        "SecurityToken",
        "Expiration",
        "LastUpdated",
    ] {
        assert!(
            doc[field].as_str().is_some_and(|v| !v.is_empty()),
            "{field}"
        );
    }
    let wrapped = serde_json::json!({"Credentials": doc});
    assert_eq!(oss_get(&f, &wrapped).await.status, 200);
    // Hardened only: no token, or a made-up one, is 401; a bad TTL is 400.
    let r = f
        .get("/latest/meta-data/ram/security-credentials/")
        .send()
        .await;
    assert_eq!(r.status, 401);
    let r = f
        .get("/latest/meta-data/ram/security-credentials/")
        .header("X-aliyun-ecs-metadata-token", "made-up")
        .send()
        .await;
    assert_eq!(r.status, 401);
    let r = f
        .req(Method::PUT, "/latest/api/token")
        .header("X-aliyun-ecs-metadata-token-ttl-seconds", "0")
        .send()
        .await;
    assert_eq!(r.status, 400);
    let r = f
        .get("/latest/meta-data/ram/security-credentials/OtherRole")
        .header("X-aliyun-ecs-metadata-token", &token)
        .send()
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn credentials_uri_answers_success_json() {
    let emu = standard_model();
    emu.enable_credentials_uri();
    emu.set_credential_lifetime(Some(Duration::from_secs(30)));
    let f = start(emu.clone()).await;
    let r = f.get("/-/credentials?x=1").send().await;
    let doc = json(&r);
    assert_eq!(doc["Code"], "Success");
    assert_eq!(
        oss_get(&f, &serde_json::json!({"Credentials": doc}))
            .await
            .status,
        200
    );
    let issued = emu.issued_credentials();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].via, CredentialService::CredentialsUri);
    // Disabled services are not routed: OSS answers as before.
    let r = f.get("/latest/meta-data/").send().await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code().as_deref(), Some("NoSuchBucket"));
}
