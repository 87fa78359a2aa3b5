//! Authentication on both front-ends: requests signed by oss-sign (V1, V4, presigned, STS)
//! and the SDK-produced vectors in fixtures/sign replayed byte for byte.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, Method};
use oss_emulator::{BucketSpec, Clock, Credentials, ObjectSpec};
use oss_sign::{
    AddressStyle, Query, Resource, SignableRequest, SigningConfig, SigningTime, Slash, presign,
    sign,
};

use crate::both;
use crate::common::{AK, Front, Req, SECRET, STS_AK, STS_SECRET, STS_TOKEN, element};

#[derive(Clone, Copy)]
pub(crate) enum V {
    V1,
    V4,
}

fn config(v: V) -> SigningConfig {
    match v {
        V::V1 => SigningConfig::v1(),
        V::V4 => SigningConfig::v4("cn-hangzhou").unwrap(),
    }
}

fn creds(ak: &str, secret: &str) -> oss_sign::Credentials {
    oss_sign::Credentials::new(ak, secret).unwrap()
}

fn now() -> SigningTime {
    SigningTime::now().unwrap()
}

/// A header-signed GET of `/bucket/key` (path style on 127.0.0.1).
pub(crate) fn signed_get(
    f: &Front,
    v: V,
    c: &oss_sign::Credentials,
    bucket: &str,
    key: &str,
    time: SigningTime,
) -> Req {
    let mut headers = HeaderMap::new();
    let q = Query::new();
    let req = SignableRequest::new(&Method::GET, Resource::object(bucket, key), &q, &headers);
    let out = sign(&req, &config(v), c, time).unwrap();
    out.apply_to(&mut headers);
    let path = Resource::object(bucket, key).url_path(AddressStyle::Path, Slash::Keep);
    let mut r = f.get(&path);
    for (k, val) in &headers {
        r = r.header(k.as_str(), val.to_str().unwrap());
    }
    r
}

/// A presigned GET URL's path and query.
fn presigned_path(
    v: V,
    c: &oss_sign::Credentials,
    bucket: &str,
    key: &str,
    time: SigningTime,
    expires: u64,
) -> String {
    let headers = HeaderMap::new();
    let q = Query::new();
    let req = SignableRequest::new(&Method::GET, Resource::object(bucket, key), &q, &headers);
    let p = presign(&req, &config(v), c, time, Duration::from_secs(expires)).unwrap();
    format!(
        "{}?{}",
        Resource::object(bucket, key).url_path(AddressStyle::Path, Slash::Keep),
        p.query_string()
    )
}

async fn good_signatures_accepted(f: &Front) {
    let c = creds(AK, SECRET);
    for v in [V::V1, V::V4] {
        let r = signed_get(f, v, &c, "bkt", "obj", now()).send().await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.body.len(), 1000);
        let path = presigned_path(v, &c, "bkt", "obj", now(), 600);
        let r = f.get(&path).send().await;
        assert_eq!(r.status, 200, "{}", r.text());
        // STS: token signed as x-oss-security-token (header) or in the query (presign).
        let sts = creds(STS_AK, STS_SECRET)
            .with_security_token(STS_TOKEN)
            .unwrap();
        let r = signed_get(f, v, &sts, "bkt", "obj", now()).send().await;
        assert_eq!(r.status, 200, "{}", r.text());
        let r = f
            .get(&presigned_path(v, &sts, "bkt", "obj", now(), 600))
            .send()
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    // Signed requests also work on a public bucket and with response-* overrides.
    let headers = HeaderMap::new();
    let q = Query::new().with("response-content-type", "text/plain; charset=utf-8");
    let req = SignableRequest::new(&Method::GET, Resource::object("pub", "obj"), &q, &headers);
    let p = presign(
        &req,
        &SigningConfig::v1(),
        &c,
        now(),
        Duration::from_secs(60),
    )
    .unwrap();
    let r = f
        .get(&format!("/pub/obj?{}", p.query_string()))
        .send()
        .await;
    assert_eq!(
        (r.status.as_u16(), r.h("content-type")),
        (200, Some("text/plain; charset=utf-8"))
    );
    // Anonymous requests get no response-* overrides.
    let r = f
        .get("/pub/obj?response-content-type=text%2Fplain")
        .send()
        .await;
    assert_eq!(r.h("content-type"), Some("application/octet-stream"));
}
both!(good_signatures_accepted);

async fn wrong_secret_rejected(f: &Front) {
    let bad = creds(AK, "not-the-secret");
    for (v, ec) in [(V::V1, "0002-00000040"), (V::V4, "0002-00000201")] {
        let r = signed_get(f, v, &bad, "bkt", "obj", now()).send().await;
        assert_eq!(
            (r.status.as_u16(), r.code().as_deref()),
            (403, Some("SignatureDoesNotMatch"))
        );
        assert_eq!(r.h("x-oss-ec"), Some(ec));
        let xml = r.text();
        let sts = element(&xml, "StringToSign").unwrap();
        match v {
            V::V1 => assert!(
                sts.starts_with("GET\n\n\n") && sts.ends_with("\n/bkt/obj"),
                "{sts}"
            ),
            V::V4 => assert!(sts.starts_with("OSS4-HMAC-SHA256\n"), "{sts}"),
        }
        let bytes = element(&xml, "StringToSignBytes").unwrap();
        assert!(
            bytes.starts_with("47 45 54 0a") || bytes.starts_with("4f 53 53 34"),
            "{bytes}"
        );
        assert_eq!(element(&xml, "OSSAccessKeyId").as_deref(), Some(AK));
        // Presigned with the wrong secret.
        let r = f
            .get(&presigned_path(v, &bad, "bkt", "obj", now(), 600))
            .send()
            .await;
        assert_eq!(r.code().as_deref(), Some("SignatureDoesNotMatch"));
    }
    // HEAD: the same error in x-oss-err.
    let mut r = signed_get(f, V::V4, &bad, "bkt", "obj", now());
    r.method = Method::HEAD;
    let r = r.send().await;
    assert_eq!(
        (r.status.as_u16(), r.code().as_deref()),
        (403, Some("SignatureDoesNotMatch"))
    );
}
both!(wrong_secret_rejected);

/// With a region set, V4 scopes must name it (and the product `oss`); V1 has no scope.
async fn wrong_region_rejected(f: &Front) {
    let c = creds(AK, SECRET);
    // Without a region the emulator accepts any scope (the helpers sign for cn-hangzhou).
    f.emu.set_region(Some("cn-beijing"));
    let r = signed_get(f, V::V4, &c, "bkt", "obj", now()).send().await;
    assert_eq!(
        (r.status.as_u16(), r.code().as_deref(), r.h("x-oss-ec")),
        (400, Some("InvalidArgument"), Some("0002-00000226")),
        "{}",
        r.text()
    );
    let r = f
        .get(&presigned_path(V::V4, &c, "bkt", "obj", now(), 600))
        .send()
        .await;
    assert_eq!(r.code().as_deref(), Some("InvalidArgument"));
    let r = signed_get(f, V::V1, &c, "bkt", "obj", now()).send().await;
    assert_eq!(r.status, 200, "{}", r.text());

    f.emu.set_region(Some("cn-hangzhou"));
    let r = signed_get(f, V::V4, &c, "bkt", "obj", now()).send().await;
    assert_eq!(r.status, 200, "{}", r.text());
    // The right region but another product (CloudBox's): refused too.
    let mut headers = HeaderMap::new();
    let q = Query::new();
    let req = SignableRequest::new(&Method::GET, Resource::object("bkt", "obj"), &q, &headers);
    let cloudbox = config(V::V4).with_product("oss-cloudbox").unwrap();
    sign(&req, &cloudbox, &c, now())
        .unwrap()
        .apply_to(&mut headers);
    let mut r = f.get("/bkt/obj");
    for (k, val) in &headers {
        r = r.header(k.as_str(), val.to_str().unwrap());
    }
    let r = r.send().await;
    assert_eq!(
        (r.status.as_u16(), r.h("x-oss-ec")),
        (400, Some("0002-00000227")),
        "{}",
        r.text()
    );
}
both!(wrong_region_rejected);

async fn wrong_date_rejected(f: &Front) {
    let c = creds(AK, SECRET);
    let past = SigningTime::from_unix_seconds(now().unix_seconds() - 16 * 60).unwrap();
    let ok_past = SigningTime::from_unix_seconds(now().unix_seconds() - 14 * 60).unwrap();
    for v in [V::V1, V::V4] {
        let r = signed_get(f, v, &c, "bkt", "obj", past).send().await;
        assert_eq!(
            (r.status.as_u16(), r.code().as_deref()),
            (403, Some("RequestTimeTooSkewed")),
            "{}",
            r.text()
        );
        let xml = r.text();
        assert_eq!(
            element(&xml, "MaxAllowedSkewMilliseconds").as_deref(),
            Some("900000")
        );
        assert!(element(&xml, "RequestTime").unwrap().ends_with(".000Z"));
        assert_eq!(r.h("x-oss-ec"), Some("0002-00000504"));
        assert!(r.h("date").is_some());
        assert_eq!(
            signed_get(f, v, &c, "bkt", "obj", ok_past)
                .send()
                .await
                .status,
            200
        );
    }
    // A server whose clock is off: the same request is skewed the other way.
    f.emu.set_clock(Clock::Ahead(Duration::from_secs(3600)));
    let r = signed_get(f, V::V4, &c, "bkt", "obj", now()).send().await;
    assert_eq!(r.code().as_deref(), Some("RequestTimeTooSkewed"));
    // ...and its Date header tells the client the server's time (for clock correction).
    let date = httpdate::parse_http_date(r.h("date").unwrap()).unwrap();
    assert!(date > SystemTime::now() + Duration::from_secs(3500));
}
both!(wrong_date_rejected);

async fn tampered_key_rejected(f: &Front) {
    f.emu
        .put_object("bkt", "other", ObjectSpec::bytes(&b"secret"[..]))
        .unwrap();
    let c = creds(AK, SECRET);
    for v in [V::V1, V::V4] {
        let mut r = signed_get(f, v, &c, "bkt", "obj", now());
        r.path = "/bkt/other".into();
        let r = r.send().await;
        assert_eq!(
            (r.status.as_u16(), r.code().as_deref()),
            (403, Some("SignatureDoesNotMatch"))
        );
        let path =
            presigned_path(v, &c, "bkt", "obj", now(), 600).replacen("/bkt/obj", "/bkt/other", 1);
        let r = f.get(&path).send().await;
        assert_eq!(r.code().as_deref(), Some("SignatureDoesNotMatch"));
    }
    // A signed header changed after signing.
    let mut r = signed_get(f, V::V1, &c, "bkt", "obj", now());
    r = r.header("x-oss-meta-added", "later");
    assert_eq!(
        r.send().await.code().as_deref(),
        Some("SignatureDoesNotMatch")
    );
}
both!(tampered_key_rejected);

async fn expired_presign_rejected(f: &Front) {
    let c = creds(AK, SECRET);
    let old = SigningTime::from_unix_seconds(now().unix_seconds() - 120).unwrap();
    for v in [V::V1, V::V4] {
        let r = f
            .get(&presigned_path(v, &c, "bkt", "obj", old, 60))
            .send()
            .await;
        assert_eq!(
            (r.status.as_u16(), r.code().as_deref()),
            (403, Some("AccessDenied")),
            "{}",
            r.text()
        );
        let xml = r.text();
        assert_eq!(
            element(&xml, "Message").as_deref(),
            Some("Request has expired.")
        );
        assert!(element(&xml, "Expires").is_some() && element(&xml, "ServerTime").is_some());
        assert_eq!(r.h("x-oss-ec"), Some("0002-00000069"));
    }
}
both!(expired_presign_rejected);

async fn unknown_key_and_sts_token(f: &Front) {
    let r = signed_get(f, V::V4, &creds("LTAInobody", SECRET), "bkt", "obj", now())
        .send()
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code().as_deref()),
        (403, Some("InvalidAccessKeyId"))
    );
    assert_eq!(r.h("x-oss-ec"), Some("0002-00000902"));
    // STS credentials without their token.
    let r = signed_get(f, V::V1, &creds(STS_AK, STS_SECRET), "bkt", "obj", now())
        .send()
        .await;
    assert_eq!(r.code().as_deref(), Some("InvalidAccessKeyId"));
    let wrong = creds(STS_AK, STS_SECRET)
        .with_security_token("other-token")
        .unwrap();
    let r = signed_get(f, V::V4, &wrong, "bkt", "obj", now())
        .send()
        .await;
    assert_eq!(r.code().as_deref(), Some("InvalidSecurityToken"));
    f.emu.remove_credentials(AK);
    let r = signed_get(f, V::V1, &creds(AK, SECRET), "bkt", "obj", now())
        .send()
        .await;
    assert_eq!(r.code().as_deref(), Some("InvalidAccessKeyId"));
}
both!(unknown_key_and_sts_token);

/// Replays every SDK-produced vector: the model's clock at the vector's time, its
/// credentials and bucket in the model, the request sent exactly as the SDK built it.
/// Authentication must pass (whatever the operation answers afterwards).
async fn sdk_vectors_replayed(f: &Front) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/sign/sign-vectors.json"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let (mut replayed, mut skipped) = (0, Vec::new());
    for v in doc["vectors"].as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        let (inp, out) = (&v["inputs"], &v["outputs"]);
        if out.get("error").is_some() {
            skipped.push(format!("{name}: the signer must refuse it"));
            continue;
        }
        let Some(bucket) = inp["bucket"].as_str() else {
            skipped.push(format!(
                "{name}: service-level (ListBuckets) is not emulated"
            ));
            continue;
        };
        install_vector(f, inp, bucket);
        let request = VectorRequest::new(f, inp, out);
        // Authentication errors all have ECs 0002-*; anything after auth (405 for PUT,
        // 404, NotImplemented for bucket operations) means the signature verified.
        let r = request
            .build(f, &request.path_and_query, &request.headers)
            .send()
            .await;
        let ec = r.h("x-oss-ec").unwrap_or_default().to_owned();
        assert!(
            !ec.starts_with("0002-"),
            "vector {name}: {} {ec}\n{}",
            r.status,
            r.error_xml()
        );
        // The same request with one signature character changed must be refused.
        let r = request.tampered(f).send().await;
        assert_eq!(
            r.code().as_deref(),
            Some("SignatureDoesNotMatch"),
            "vector {name} tampered"
        );
        // The string to sign we report is the SDK's.
        assert_eq!(
            crate::common::element(&r.error_xml(), "StringToSign")
                .map(|s| s.replace("&#xA;", "\n")),
            Some(xml_escape(out["string_to_sign"].as_str().unwrap())),
            "vector {name}"
        );
        replayed += 1;
    }
    assert!(replayed >= 40, "replayed {replayed}, skipped {skipped:?}");
    assert_eq!(skipped.len(), 3, "{skipped:?}");
}

/// The model as the vector's signer saw the world: its time, its credentials, its bucket
/// (and CNAME).
fn install_vector(f: &Front, inp: &serde_json::Value, bucket: &str) {
    let time: SystemTime = SigningTime::parse_iso8601(inp["datetime"].as_str().unwrap())
        .unwrap()
        .to_system_time();
    f.emu.set_clock(Clock::Fixed(time));
    let ak = inp["access_key_id"].as_str().unwrap();
    let secret = inp["access_key_secret"].as_str().unwrap();
    f.emu.add_credentials(match inp["security_token"].as_str() {
        Some(t) => Credentials::sts(ak, secret, t),
        None => Credentials::new(ak, secret),
    });
    f.emu.add_bucket(BucketSpec::new(bucket)).unwrap();
    if inp["address_style"].as_str() == Some("cname") {
        f.emu.add_cname(inp["host"].as_str().unwrap(), bucket);
    }
}

/// A vector's request exactly as the SDK built it, aimed at this front-end.
struct VectorRequest {
    method: Method,
    path_and_query: String,
    host_header: String,
    headers: Vec<(String, String)>,
}

impl VectorRequest {
    fn new(f: &Front, inp: &serde_json::Value, out: &serde_json::Value) -> Self {
        let host = inp["host"].as_str().unwrap();
        let style = inp["address_style"].as_str().unwrap();
        let url = out["request_url"].as_str().or(out["url"].as_str()).unwrap();
        let path_and_query = &url[url.find("://").unwrap() + 3..];
        let path_and_query = &path_and_query[path_and_query.find('/').unwrap()..];
        // Path style on a public endpoint is refused by OSS before auth; send it to the IP.
        let signs_host = inp["additional_headers"]
            .as_array()
            .is_some_and(|a| a.iter().any(|h| h == "host"));
        let host_header = if style == "path" && !signs_host {
            f.addr.to_string()
        } else {
            host.to_owned()
        };
        let mut headers: Vec<(String, String)> = Vec::new();
        for (k, val) in inp["headers"].as_object().unwrap() {
            // Host is sent once, from `host_header`.
            if !k.eq_ignore_ascii_case("host") {
                headers.push((k.clone(), val.as_str().unwrap().to_owned()));
            }
        }
        if let Some(added) = out["headers_added"].as_object() {
            for (k, val) in added {
                headers.retain(|(h, _)| !h.eq_ignore_ascii_case(k));
                headers.push((k.clone(), val.as_str().unwrap().to_owned()));
            }
        }
        Self {
            method: inp["method"].as_str().unwrap().parse().unwrap(),
            path_and_query: path_and_query.to_owned(),
            host_header,
            headers,
        }
    }

    fn build(&self, f: &Front, path: &str, headers: &[(String, String)]) -> Req {
        let mut req = f.req(self.method.clone(), path).host(&self.host_header);
        for (k, val) in headers {
            req = req.header(k, val);
        }
        req
    }

    /// The same request with one character of its signature (header or query) changed.
    fn tampered(&self, f: &Front) -> Req {
        let flip = |c: char| if c == '0' { '1' } else { '0' };
        let path_and_query = self.path_and_query.as_str();
        if let Some(i) = self
            .headers
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            let mut h = self.headers.clone();
            let v = h[i].1.clone();
            let last = v.chars().last().unwrap();
            h[i].1 = format!("{}{}", &v[..v.len() - 1], flip(last));
            self.build(f, path_and_query, &h)
        } else {
            let marker = if path_and_query.contains("x-oss-signature=") {
                "x-oss-signature="
            } else {
                "Signature="
            };
            let at = path_and_query.find(marker).unwrap() + marker.len();
            let c = path_and_query[at..].chars().next().unwrap();
            let p = format!(
                "{}{}{}",
                &path_and_query[..at],
                flip(c),
                &path_and_query[at + 1..]
            );
            self.build(f, &p, &self.headers)
        }
    }
}
both!(sdk_vectors_replayed);

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}
