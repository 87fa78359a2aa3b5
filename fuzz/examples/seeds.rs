//! Writes the seed corpora under `fixtures/fuzz/` (see its README): the checkpoint golden
//! files and their bodies, the emulator's real answers (error documents, HEAD and 206
//! headers, a response stream), signed requests of every kind the emulator verifies, and
//! ossget command lines from its README.
//!
//! ```text
//! cargo +nightly run --manifest-path fuzz/Cargo.toml --example seeds -- fixtures/fuzz
//! ```
//!
//! It writes only seeds that are missing: the committed ones are golden data (recorded in
//! `tests/fixtures.sha256`), and the emulator's request ids differ from run to run (the rest
//! is fixed by the model's fixed clock). Every request seed is checked against the model
//! here (the status it was written to get), so a case that no longer reaches its code path
//! fails loudly instead of fuzzing less.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use http::{HeaderMap, HeaderValue, Method};
use oss_emulator::{Emulator, ModelResponse, ResponseBody};
use oss_resume_fuzz::{
    ACCOUNT, REGION, SCRIPT_SEPARATOR, STS_ACCOUNT, model, request_head, signed_at,
};
use oss_sign::{
    AddressStyle, Credentials, Query, Resource, SignableRequest, SigningConfig, SigningTime, Slash,
    presign, sign,
};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let out = PathBuf::from(std::env::args().nth(1).ok_or("usage: seeds OUT_DIR")?);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    checkpoints(&repo.join("fixtures/ckpt"), &out.join("ckpt_decode"))?;
    let model = model();
    requests(&model, &out.join("emulator_request"))?;
    error_documents(&model, &repo, &out.join("oss_error_xml"))?;
    headers(&model, &out.join("http_headers"))?;
    command_lines(&out.join("ossget_args"))?;
    client_scripts(&model, &out.join("client_response"))?;
    Ok(())
}

/// Writes a seed that is not there yet. Existing seeds are golden data (recorded in
/// `tests/fixtures.sha256`) and are kept as they are: a changed case is a new seed.
fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    fs::create_dir_all(dir)?;
    let path = dir.join(name);
    if path.exists() {
        return Ok(());
    }
    fs::write(&path, bytes)?;
    println!("wrote {}", path.display());
    Ok(())
}

/// The golden files whole, and their bodies (the target also seals its input as a body).
fn checkpoints(golden: &Path, dir: &Path) -> Result<()> {
    for version in [1, 2, 3] {
        let name = format!("v{version}-small.cp");
        let file = fs::read(golden.join(&name))?;
        write(dir, &name, &file)?;
        let (start, len_at) = if version == 3 { (40, 12) } else { (24, 12) };
        let len = u32::from_le_bytes(file[len_at..len_at + 4].try_into()?) as usize;
        if version < 3 {
            write(dir, &format!("v{version}-body"), &file[start..start + len])?;
        }
    }
    Ok(())
}

/// A request: method, host, target (path and query), headers; rendered as HTTP/1.1.
struct Req {
    method: Method,
    host: String,
    target: String,
    headers: HeaderMap,
}

impl Req {
    fn new(method: Method, host: &str, target: &str) -> Self {
        Self {
            method,
            host: host.to_owned(),
            target: target.to_owned(),
            headers: HeaderMap::new(),
        }
    }

    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers
            .append(name, HeaderValue::from_str(value).expect("a header value"));
        self
    }

    /// Signs for header authentication (V1 or V4) at `at` seconds past the fixed clock.
    fn signed(
        mut self,
        v4: bool,
        bucket: &str,
        key: &str,
        query: &Query,
        sts: bool,
        at: i64,
    ) -> Self {
        let config = if v4 {
            SigningConfig::v4(REGION).expect("a region")
        } else {
            SigningConfig::v1()
        };
        let time =
            SigningTime::from_unix_seconds(oss_resume_fuzz::SIGNED_AT.saturating_add_signed(at))
                .expect("a time");
        let request = SignableRequest::new(
            &self.method,
            Resource::object(bucket, key),
            query,
            &self.headers,
        );
        let output = sign(&request, &config, &credentials(sts), time).expect("signed");
        output.apply_to(&mut self.headers);
        self
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = format!(
            "{} {} HTTP/1.1\r\nhost: {}\r\n",
            self.method, self.target, self.host
        );
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {}\r\n", value.to_str().expect("text")));
        }
        out.push_str("\r\n");
        out.into_bytes()
    }
}

fn credentials(sts: bool) -> Credentials {
    let creds = if sts {
        Credentials::new(STS_ACCOUNT.0, STS_ACCOUNT.1)
            .and_then(|c| c.with_security_token(STS_ACCOUNT.2))
    } else {
        Credentials::new(ACCOUNT.0, ACCOUNT.1)
    };
    creds.expect("credentials")
}

/// A presigned URL's target (path and query) for `bucket`/`key`, virtual-hosted.
fn presigned(v4: bool, bucket: &str, key: &str) -> String {
    let config = if v4 {
        SigningConfig::v4(REGION).expect("a region")
    } else {
        SigningConfig::v1()
    };
    let headers = HeaderMap::new();
    let request = SignableRequest::new(
        &Method::GET,
        Resource::object(bucket, key),
        Query::empty(),
        &headers,
    );
    let time = SigningTime::from_system_time(signed_at()).expect("a time");
    let url = presign(
        &request,
        &config,
        &credentials(false),
        time,
        Duration::from_secs(3600),
    )
    .expect("presigned")
    .url("http", HOST, AddressStyle::VirtualHosted, Slash::Keep);
    let after_scheme = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    after_scheme[after_scheme.find('/').unwrap_or(0)..].to_owned()
}

const HOST: &str = "oss-cn-hangzhou.aliyuncs.com";

fn vhost(bucket: &str) -> String {
    format!("{bucket}.{HOST}")
}

/// Answers `req` with the model and checks the status it was written to get.
fn answer(model: &Emulator, req: &Req, status: u16) -> Result<ModelResponse> {
    let parts = request_head(&req.bytes()).ok_or("the seed is not a request head")?;
    let resp = model.handle(&parts);
    if resp.status.as_u16() != status {
        return Err(format!(
            "{} {} answered {} ({:?}), written for {status}",
            req.method, req.target, resp.status, resp.error_code
        )
        .into());
    }
    Ok(resp)
}

fn current_version(model: &Emulator) -> Result<String> {
    let head = Req::new(Method::HEAD, &vhost("versioned-bkt"), "/obj").signed(
        false,
        "versioned-bkt",
        "obj",
        Query::empty(),
        false,
        0,
    );
    let resp = answer(model, &head, 200)?;
    Ok(resp.headers["x-oss-version-id"].to_str()?.to_owned())
}

/// Requests of every kind, each answered by the model with the status its name says.
fn request_seeds(model: &Emulator) -> Result<Vec<(&'static str, Req, u16)>> {
    let private = vhost("private-bkt");
    let obj = "dir/obj.bin";
    let version = current_version(model)?;
    let mut version_query = Query::new();
    version_query.push("versionId", version.clone());
    let etag = {
        let head = Req::new(Method::HEAD, &private, "/dir/obj.bin").signed(
            false,
            "private-bkt",
            obj,
            Query::empty(),
            false,
            0,
        );
        answer(model, &head, 200)?.headers["etag"]
            .to_str()?
            .to_owned()
    };
    Ok(vec![
        (
            "anonymous-path-style-range",
            Req::new(Method::GET, "127.0.0.1:9000", "/public-bkt/text.txt")
                .header("range", "bytes=0-4")
                .header("x-oss-range-behavior", "standard"),
            206,
        ),
        (
            "anonymous-cname-gzip",
            Req::new(Method::GET, "cdn.example.com", "/text.txt").header("accept-encoding", "gzip"),
            200,
        ),
        (
            "anonymous-if-none-match",
            Req::new(Method::GET, &vhost("public-bkt"), "/text.txt")
                .header("if-modified-since", "Mon, 15 Jan 2024 08:30:00 GMT"),
            304,
        ),
        (
            "v1-get-range-if-match",
            Req::new(Method::GET, &private, "/dir/obj.bin")
                .header("range", "bytes=100-199")
                .header("if-match", &etag)
                .signed(false, "private-bkt", obj, Query::empty(), false, 0),
            206,
        ),
        (
            "v4-head",
            Req::new(Method::HEAD, &private, "/dir/obj.bin").signed(
                true,
                "private-bkt",
                obj,
                Query::empty(),
                false,
                0,
            ),
            200,
        ),
        (
            "v4-sts-get-range",
            Req::new(Method::GET, &private, "/dir/obj.bin")
                .header("range", "bytes=990-999")
                .signed(true, "private-bkt", obj, Query::empty(), true, 0),
            206,
        ),
        (
            "v1-presigned",
            Req::new(Method::GET, &private, &presigned(false, "private-bkt", obj)),
            200,
        ),
        (
            "v4-presigned",
            Req::new(Method::GET, &private, &presigned(true, "private-bkt", obj)),
            200,
        ),
        (
            "v1-version-id",
            Req::new(
                Method::GET,
                &vhost("versioned-bkt"),
                &format!("/obj?versionId={version}"),
            )
            .signed(false, "versioned-bkt", "obj", &version_query, false, 0),
            200,
        ),
        (
            "v1-symlink-head",
            Req::new(Method::HEAD, &private, "/link").signed(
                false,
                "private-bkt",
                "link",
                Query::empty(),
                false,
                0,
            ),
            200,
        ),
        (
            "v1-archived-get",
            Req::new(Method::GET, &private, "/cold.bin").signed(
                false,
                "private-bkt",
                "cold.bin",
                Query::empty(),
                false,
                0,
            ),
            403,
        ),
        (
            "v1-skewed",
            Req::new(Method::GET, &private, "/dir/obj.bin").signed(
                false,
                "private-bkt",
                obj,
                Query::empty(),
                false,
                3600,
            ),
            403,
        ),
        (
            "v1-range-past-end",
            Req::new(Method::GET, &private, "/dir/obj.bin")
                .header("range", "bytes=2000-2999")
                .header("x-oss-range-behavior", "standard")
                .signed(false, "private-bkt", obj, Query::empty(), false, 0),
            416,
        ),
    ])
}

fn requests(model: &Emulator, dir: &Path) -> Result<()> {
    let seeds = request_seeds(model)?;
    for (name, req, status) in &seeds {
        answer(model, req, *status)?;
        write(dir, name, &req.bytes())?;
    }
    // The framer's seeds: pipelined requests (one with a chunked body), and a response
    // stream (a 206, then a chunked 200).
    let mut pipelined = seeds[0].1.bytes();
    pipelined.extend_from_slice(
        b"POST /private-bkt/up?append&position=0 HTTP/1.1\r\nhost: 127.0.0.1\r\n\
          transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\ntrailer: x\r\n\r\n",
    );
    pipelined.extend_from_slice(b"GET /-/stats HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
    write(dir, "pipelined-chunked", &pipelined)?;
    let ranged = answer(model, &seeds[3].1, 206)?;
    let mut stream = response_bytes(ranged);
    stream.extend_from_slice(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\nwxyz\r\n0\r\n\r\n",
    );
    write(dir, "response-stream", &stream)?;
    Ok(())
}

/// A model response as the streaming server sends it.
fn response_bytes(resp: ModelResponse) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {}\r\n", resp.status).into_bytes();
    out.extend_from_slice(&header_block(&resp.headers));
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&resp.body.collect());
    out
}

fn header_block(headers: &HeaderMap) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The model's error documents (bodies, and one HEAD's `x-oss-err` value), the one OSS
/// returned in `docs/oss-behaviour.md#errors`, and documents with entities, CDATA and
/// a proxy's HTML page.
fn error_documents(model: &Emulator, repo: &Path, dir: &Path) -> Result<()> {
    let private = vhost("private-bkt");
    let obj = "dir/obj.bin";
    let cases = [
        (
            "no-such-key",
            Req::new(Method::GET, &private, "/missing").signed(
                false,
                "private-bkt",
                "missing",
                Query::empty(),
                false,
                0,
            ),
            404,
        ),
        (
            "no-such-bucket",
            Req::new(Method::GET, &vhost("nobody-bkt"), "/k"),
            404,
        ),
        (
            "v1-signature-does-not-match",
            Req::new(Method::GET, &private, "/dir/obj.bin").signed(
                false,
                "private-bkt",
                "other-key",
                Query::empty(),
                false,
                0,
            ),
            403,
        ),
        (
            "v4-signature-does-not-match",
            Req::new(Method::GET, &private, "/dir/obj.bin").signed(
                true,
                "private-bkt",
                "other-key",
                Query::empty(),
                true,
                0,
            ),
            403,
        ),
        (
            "request-time-too-skewed",
            Req::new(Method::GET, &private, "/dir/obj.bin").signed(
                false,
                "private-bkt",
                obj,
                Query::empty(),
                false,
                -3600,
            ),
            403,
        ),
        (
            "invalid-object-state",
            Req::new(Method::GET, &private, "/cold.bin").signed(
                false,
                "private-bkt",
                "cold.bin",
                Query::empty(),
                false,
                0,
            ),
            403,
        ),
        (
            "invalid-range",
            Req::new(Method::GET, &private, "/dir/obj.bin")
                .header("range", "bytes=5000-")
                .header("x-oss-range-behavior", "standard")
                .signed(false, "private-bkt", obj, Query::empty(), false, 0),
            416,
        ),
        (
            "access-denied",
            Req::new(Method::GET, &private, "/dir/obj.bin"),
            403,
        ),
    ];
    for (name, req, status) in cases {
        let resp = answer(model, &req, status)?;
        let ResponseBody::Bytes(body) = resp.body else {
            return Err(format!("{name}: no error body").into());
        };
        write(dir, name, &body)?;
    }
    let head = Req::new(Method::HEAD, &private, "/missing").signed(
        false,
        "private-bkt",
        "missing",
        Query::empty(),
        false,
        0,
    );
    let resp = answer(model, &head, 404)?;
    write(
        dir,
        "head-x-oss-err-value",
        resp.headers["x-oss-err"].as_bytes(),
    )?;

    let docs = fs::read_to_string(repo.join("docs/oss-behaviour.md"))?;
    let start = docs
        .find("<?xml")
        .ok_or("no XML in docs/oss-behaviour.md")?;
    let end = docs[start..].find("</Error>").ok_or("no </Error>")? + start + "</Error>".len();
    write(
        dir,
        "oss-documented-no-such-key",
        format!("{}\n", &docs[start..end]).as_bytes(),
    )?;
    write(
        dir,
        "entities-cdata-comments",
        "\u{feff}<?xml version=\"1.0\"?><Error xmlns=\"x\"><Code a=\"1\">A&amp;B</Code><!-- c -->\
         <Message><![CDATA[x < y]]> &#233;t&#xE9; &lt;ok&gt; &unknown;</Message><Extra><Deep>v</Deep></Extra>\
         <Empty/><SignatureProvided>abc=</SignatureProvided></Error>"
            .as_bytes(),
    )?;
    write(
        dir,
        "proxy-html",
        b"<html><head><title>502 Bad Gateway</title></head><body>502</body></html>",
    )?;
    // The header path alone: a document's base64 as `x-oss-err` carries it.
    let encoded = base64::engine::general_purpose::STANDARD.encode("<Error><Code>X</Code></Error>");
    write(dir, "x-oss-err-small", encoded.as_bytes())?;
    Ok(())
}

/// HEAD and 206 header blocks from the model, and single values of each form.
fn headers(model: &Emulator, dir: &Path) -> Result<()> {
    let private = vhost("private-bkt");
    let obj = "dir/obj.bin";
    let head = Req::new(Method::HEAD, &private, "/dir/obj.bin").signed(
        false,
        "private-bkt",
        obj,
        Query::empty(),
        false,
        0,
    );
    write(
        dir,
        "head-200",
        &header_block(&answer(model, &head, 200)?.headers),
    )?;
    let range = Req::new(Method::GET, &private, "/dir/obj.bin")
        .header("range", "bytes=100-199")
        .signed(false, "private-bkt", obj, Query::empty(), false, 0);
    write(
        dir,
        "get-206",
        &header_block(&answer(model, &range, 206)?.headers),
    )?;
    let values: [(&str, &str); 14] = [
        ("content-range", "bytes 0-9/44"),
        ("content-range-spaces", " bytes  5-5/6 "),
        ("range", "bytes=0-1023"),
        ("size-binary", "8MiB"),
        ("size-fraction", "1.5GiB"),
        ("size-decimal", "10 MB"),
        ("size-bytes", "1048576"),
        ("date-imf", "Mon, 15 Jan 2024 08:30:00 GMT"),
        ("date-rfc850", "Monday, 15-Jan-24 08:30:00 GMT"),
        ("date-asctime", "Mon Jan 15 08:30:00 2024"),
        ("date-last-second", "Fri, 31 Dec 9999 23:59:59 GMT"),
        ("date-v4", "20240115T083000Z"),
        ("date-iso8601", "2024-01-15T08:30:00Z"),
        ("date-epoch", "Thu, 01 Jan 1970 00:00:00 GMT"),
    ];
    for (name, value) in values {
        write(dir, name, value.as_bytes())?;
    }
    Ok(())
}

/// ossget command lines (arguments separated by NUL), from its README and `--help`.
fn command_lines(dir: &Path) -> Result<()> {
    let lines: [(&str, &[&str]); 6] = [
        (
            "readme-region",
            &[
                "oss://examplebucket/exampledir/exampleobject.txt",
                "--region",
                "cn-hangzhou",
            ],
        ),
        (
            "readme-threads-part-size",
            &[
                "oss://examplebucket/images/disk.qcow2",
                "/data/",
                "--region",
                "cn-hangzhou",
                "--threads",
                "8",
                "--part-size",
                "64MiB",
            ],
        ),
        (
            "readme-json-endpoint",
            &[
                "-q",
                "--json",
                "oss://examplebucket/backup.tar.zst",
                "backup.tar.zst",
                "--endpoint",
                "https://oss-cn-hangzhou.aliyuncs.com",
            ],
        ),
        (
            "local-emulator",
            &[
                "oss://bkt/dir/big.bin",
                "out.bin",
                "--endpoint",
                "http://127.0.0.1:9000",
                "--path-style",
                "--signature-version",
                "1",
                "--limit-rate",
                "50MiB",
                "--no-checkpoint",
            ],
        ),
        (
            "headers-resolve",
            &[
                "oss://bkt/k",
                "--region",
                "cn-hangzhou",
                "--header",
                "x-oss-request-payer: requester",
                "--header",
                "x-oss-server-side-encryption-customer-key: c2VjcmV0",
                "--resolve",
                "bkt.oss-cn-hangzhou.aliyuncs.com:443:127.0.0.1,[::1]",
                "--version-id",
                "CAEQNhiBgM0BYiIDc4MGZjZGI2OTBjOTRmNTE5NmU5NmFhZjhjYmY0",
            ],
        ),
        (
            "anonymous-cname-checkpoint-path",
            &[
                "oss://bkt/k",
                "--endpoint",
                "https://cdn.example.com",
                "--cname",
                "--anonymous",
                "--checkpoint-path",
                "/tmp/k.cp",
                "--on-change",
                "restart",
                "--durability",
                "fast",
            ],
        ),
    ];
    for (name, args) in lines {
        write(dir, name, args.join("\0").as_bytes())?;
    }
    Ok(())
}

/// Scripts of the model's responses for the client: HEAD and a ranged GET, a clock-skew
/// answer first, HEAD errors, a GET answered with an error, the whole object, or chunks.
fn client_scripts(model: &Emulator, dir: &Path) -> Result<()> {
    let private = vhost("private-bkt");
    let obj = "dir/obj.bin";
    let head = |at: i64| {
        Req::new(Method::HEAD, &private, "/dir/obj.bin").signed(
            false,
            "private-bkt",
            obj,
            Query::empty(),
            false,
            at,
        )
    };
    let get = |range: Option<&str>| {
        let req = Req::new(Method::GET, &private, "/dir/obj.bin");
        let req = match range {
            Some(range) => req
                .header("range", range)
                .header("x-oss-range-behavior", "standard"),
            None => req,
        };
        req.signed(false, "private-bkt", obj, Query::empty(), false, 0)
    };
    let head_ok = response_bytes(answer(model, &head(0), 200)?);
    let get_part = response_bytes(answer(model, &get(Some("bytes=0-999")), 206)?);
    let get_whole = response_bytes(answer(model, &get(None), 200)?);
    let get_past_end = response_bytes(answer(model, &get(Some("bytes=5000-5999")), 416)?);
    let skewed = response_bytes(answer(model, &head(-3600), 403)?);
    let missing = Req::new(Method::HEAD, &private, "/missing").signed(
        false,
        "private-bkt",
        "missing",
        Query::empty(),
        false,
        0,
    );
    let head_missing = response_bytes(answer(model, &missing, 404)?);
    let chunked = b"HTTP/1.1 206 Partial Content\r\ncontent-range: bytes 0-999/1000\r\n\
        etag: \"752B1EA618EE4D57A5045B1CF4A8ADF8-1\"\r\ntransfer-encoding: chunked\r\n\r\n\
        3e8\r\n"
        .iter()
        .copied()
        .chain(std::iter::repeat_n(b'x', 1000))
        .chain(*b"\r\n0\r\n\r\n")
        .collect::<Vec<u8>>();
    let scripts: [(&str, Vec<&[u8]>); 6] = [
        ("head-then-get", vec![&head_ok, &get_part]),
        (
            "skew-then-head-then-get",
            vec![&skewed, &head_ok, &get_part],
        ),
        ("head-not-found", vec![&head_missing]),
        ("get-range-not-satisfiable", vec![&head_ok, &get_past_end]),
        ("get-range-ignored", vec![&head_ok, &get_whole]),
        ("get-chunked", vec![&head_ok, &chunked]),
    ];
    for (name, responses) in scripts {
        write(dir, name, &responses.join(SCRIPT_SEPARATOR))?;
    }
    Ok(())
}
