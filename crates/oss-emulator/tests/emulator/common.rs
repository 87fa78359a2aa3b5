//! Test harness: start either front-end over a fresh model, and a tiny HTTP/1.1 client
//! that sends exactly the Host, path and headers a test asks for.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use oss_emulator::{
    BucketSpec, Credentials, Emulator, ObjectSpec, RunningServer, WiremockEmulator,
};
use tokio::net::TcpStream;

pub const AK: &str = "LTAI5tTestAccessKeyId";
pub const SECRET: &str = "TestSecret0123456789abcdefABCDEF";
pub const STS_AK: &str = "STS.TestTemporaryKeyId";
pub const STS_SECRET: &str = "StsSecret0123456789";
pub const STS_TOKEN: &str = "CAIS-test-security-token+/=";

/// Which front-end a case runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Streaming,
    Wiremock,
}

/// A running front-end over its model.
pub struct Front {
    pub kind: Kind,
    pub emu: Emulator,
    pub addr: SocketAddr,
    _server: Option<RunningServer>,
    _wiremock: Option<WiremockEmulator>,
}

/// The standard model: credentials, a private bucket `bkt`, a public-read bucket `pub`,
/// and a 1000-byte synthetic object in each.
pub fn standard_model() -> Emulator {
    let emu = Emulator::new();
    emu.add_credentials(Credentials::new(AK, SECRET));
    emu.add_credentials(Credentials::sts(STS_AK, STS_SECRET, STS_TOKEN));
    emu.add_bucket(BucketSpec::new("bkt")).unwrap();
    emu.add_bucket(BucketSpec::new("pub").public_read())
        .unwrap();
    emu.put_object("bkt", "obj", ObjectSpec::synthetic(1000, 7))
        .unwrap();
    emu.put_object("pub", "obj", ObjectSpec::synthetic(1000, 7))
        .unwrap();
    emu.put_object("pub", "hello.txt", ObjectSpec::bytes(&b"hello"[..]))
        .unwrap();
    emu
}

impl Front {
    pub async fn start(kind: Kind, emu: Emulator) -> Front {
        match kind {
            Kind::Streaming => {
                let server = emu.start_server().await.unwrap();
                Front {
                    kind,
                    addr: server.local_addr(),
                    emu,
                    _server: Some(server),
                    _wiremock: None,
                }
            }
            Kind::Wiremock => {
                let w = WiremockEmulator::start(emu.clone()).await;
                Front {
                    kind,
                    addr: w.local_addr(),
                    emu,
                    _server: None,
                    _wiremock: Some(w),
                }
            }
        }
    }

    /// A request builder: path style on 127.0.0.1 unless a Host is given.
    pub fn req(&self, method: Method, path: &str) -> Req {
        Req {
            addr: self.addr,
            method,
            path: path.to_owned(),
            host: self.addr.to_string(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    pub fn get(&self, path: &str) -> Req {
        self.req(Method::GET, path)
    }

    pub fn head(&self, path: &str) -> Req {
        self.req(Method::HEAD, path)
    }
}

pub struct Req {
    pub addr: SocketAddr,
    pub method: Method,
    pub path: String,
    pub host: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn h(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `<Code>` of an error body, or of the `x-oss-err` header for HEAD.
    pub fn code(&self) -> Option<String> {
        use base64::Engine as _;
        let xml = if self.body.is_empty() {
            let b = self.h("x-oss-err")?;
            String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b).ok()?).ok()?
        } else {
            self.text()
        };
        element(&xml, "Code")
    }

    pub fn error_xml(&self) -> String {
        use base64::Engine as _;
        if self.body.is_empty() {
            let b = self.h("x-oss-err").unwrap_or_default();
            String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b).unwrap()).unwrap()
        } else {
            self.text()
        }
    }
}

pub fn element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&close)? + start;
    Some(xml[start..end].to_owned())
}

impl Req {
    pub fn host(mut self, host: &str) -> Self {
        self.host = host.to_owned();
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A form body (`application/x-www-form-urlencoded`), as STS POSTs carry.
    pub fn form(mut self, body: &str) -> Self {
        self.body = Bytes::from(body.to_owned());
        self.header("content-type", "application/x-www-form-urlencoded")
    }

    pub fn range(self, r: &str) -> Self {
        self.header("range", r)
    }

    pub async fn send(self) -> Resp {
        let tcp = TcpStream::connect(self.addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .unwrap();
        tokio::spawn(conn);
        let mut b = http::Request::builder()
            .method(self.method)
            .uri(&self.path)
            .header("host", &self.host);
        for (k, v) in &self.headers {
            // Header values may be UTF-8 (x-oss-meta-*): send the raw bytes.
            b = b.header(
                k.as_str(),
                http::HeaderValue::from_bytes(v.as_bytes()).unwrap(),
            );
        }
        let resp = sender
            .send_request(b.body(Full::new(self.body)).unwrap())
            .await
            .unwrap();
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        Resp {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}

/// Runs a case on both front-ends, each with a fresh standard model.
#[macro_export]
macro_rules! both {
    ($case:ident) => {
        mod $case {
            use $crate::common::{Front, Kind, standard_model};
            #[tokio::test]
            async fn streaming() {
                super::$case(&Front::start(Kind::Streaming, standard_model()).await).await;
            }
            #[tokio::test]
            async fn wiremock() {
                super::$case(&Front::start(Kind::Wiremock, standard_model()).await).await;
            }
        }
    };
}
