//! The wiremock front-end: a [`wiremock::Respond`] over the model.
//!
//! wiremock buffers and copies whole bodies and answers on one thread, so use it for small
//! objects and for its request expectations and recorded requests; use the streaming server
//! for large objects and network faults. Differences a client could see: wiremock always
//! sends `Content-Length` (so the gzip quirk has one here), normalizes `.`/`..` out of paths,
//! and counts body bytes handed to wiremock rather than bytes written to the socket.

use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

use crate::model::Emulator;
use crate::request::RequestParts;

/// Answers wiremock requests from the model.
#[derive(Clone, Debug)]
pub struct EmulatorResponder {
    emulator: Emulator,
}

impl EmulatorResponder {
    /// A responder over `emulator`.
    pub fn new(emulator: Emulator) -> Self {
        Self { emulator }
    }
}

impl Respond for EmulatorResponder {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let mut uri = request.url.path().to_owned();
        if let Some(q) = request.url.query() {
            uri.push('?');
            uri.push_str(q);
        }
        let uri: http::Uri = uri.parse().unwrap_or_else(|_| http::Uri::from_static("/"));
        let rp = RequestParts::from_http(request.method.clone(), &uri, request.headers.clone());
        let resp = self.emulator.handle(&rp);
        let mut t = ResponseTemplate::new(resp.status.as_u16());
        for (k, v) in &resp.headers {
            t = t.append_header(k.clone(), v.clone());
        }
        if let Some(d) = resp.first_byte_delay {
            t = t.set_delay(d);
        }
        let body = resp.body.collect();
        if rp.raw_path != "/-/stats" {
            self.emulator
                .counters_ref()
                .add_body_bytes(body.len() as u64);
        }
        if !body.is_empty() {
            t = t.set_body_bytes(body);
        }
        t
    }
}

/// A wiremock server whose catch-all mock answers from the model. Mount more specific
/// mocks on [`WiremockEmulator::server`] (priority 1..254) to override or expect requests.
#[derive(Debug)]
pub struct WiremockEmulator {
    server: MockServer,
}

impl WiremockEmulator {
    /// Starts a wiremock server on a free port with the model as the lowest-priority mock.
    pub async fn start(emulator: Emulator) -> Self {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(EmulatorResponder::new(emulator))
            .with_priority(u8::MAX)
            .named("oss-emulator model")
            .mount(&server)
            .await;
        Self { server }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        self.server.uri()
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::net::SocketAddr {
        *self.server.address()
    }

    /// The wiremock server (for extra mocks and recorded requests).
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// Stops the server (dropping it does the same).
    pub async fn shutdown(self) {
        drop(self.server);
    }
}
