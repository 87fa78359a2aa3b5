//! The streaming front-end: a small hyper 1 HTTP/1.1 server over the model.
//!
//! Bodies are generated chunk by chunk as hyper asks for them, so memory stays flat for any
//! object size. It serves plain TCP, any caller-supplied acceptor (e.g. tokio-rustls with
//! a test certificate), or a single stream the caller already has.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::EmulatorError;
use crate::framing::{Framer, PendingRequest, RequestQueue, Side, Span};
use crate::model::Emulator;
use crate::request::RequestParts;
use crate::response::{BodyChunks, ModelResponse};

/// A response body that generates its chunks lazily and can be paced.
pub struct StreamingBody {
    /// Counts the request as in flight until the body is sent or dropped.
    _in_flight: Option<InFlight>,
    chunks: BodyChunks,
    exact_len: Option<u64>,
    pending: Bytes,
    rate: Option<u64>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// A request in flight at the streaming server (for `max_concurrent_requests`).
struct InFlight(Emulator);

impl InFlight {
    fn start(emulator: &Emulator) -> Self {
        emulator.counters_ref().request_started();
        Self(emulator.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.counters_ref().request_ended();
    }
}

impl StreamingBody {
    fn new(resp_body: crate::response::ResponseBody, rate: Option<u64>) -> Self {
        Self {
            _in_flight: None,
            exact_len: resp_body.exact_len(),
            chunks: resp_body.into_chunks(),
            pending: Bytes::new(),
            rate: rate.filter(|r| *r > 0),
            sleep: None,
        }
    }
}

impl http_body::Body for StreamingBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(sleep) = self.sleep.as_mut() {
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.sleep = None;
        }
        if self.pending.is_empty() {
            match self.chunks.next() {
                Some(c) => self.pending = c,
                None => return Poll::Ready(None),
            }
        }
        let piece = match self.rate {
            None => std::mem::take(&mut self.pending),
            Some(rate) => {
                // Pace in pieces of about 1/20 s.
                let n = ((rate / 20).max(1) as usize).min(self.pending.len());
                let piece = self.pending.split_to(n);
                let wait = Duration::from_secs_f64(n as f64 / rate as f64);
                self.sleep = Some(Box::pin(tokio::time::sleep(wait)));
                piece
            }
        };
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }

    fn size_hint(&self) -> SizeHint {
        match self.exact_len {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}

/// Wraps a connection's stream and counts the response body bytes that were actually
/// written to it (heads and chunk framing excluded; `/-/stats` excluded).
struct CountingIo<S> {
    inner: S,
    framer: Framer,
    queue: Arc<Mutex<RequestQueue>>,
    current_is_stats: bool,
    emulator: Emulator,
}

impl<S> CountingIo<S> {
    fn account(&mut self, written: &[u8]) {
        let mut rest = written;
        while !rest.is_empty() {
            let queue = &self.queue;
            let current = &mut self.current_is_stats;
            let span = self.framer.next_span(rest, &mut || {
                let r = queue.lock().map(|mut q| q.pop()).unwrap_or_default();
                *current = r.is_stats;
                r.is_head
            });
            let n = match span {
                Span::Head { len, .. } | Span::Framing { len, .. } | Span::Unframed { len } => len,
                Span::Body { len, .. } => {
                    if !self.current_is_stats {
                        self.emulator.counters_ref().add_body_bytes(len as u64);
                    }
                    len
                }
            };
            rest = rest.get(n.max(1)..).unwrap_or_default();
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for CountingIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for CountingIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = r {
            let written = buf.get(..n).unwrap_or_default();
            self.account(written);
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(mut n)) = r {
            for b in bufs {
                if n == 0 {
                    break;
                }
                let take = n.min(b.len());
                self.account(b.get(..take).unwrap_or_default());
                n -= take;
            }
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A credential service's request body, at most [`crate::MAX_SERVICE_BODY`] bytes (an
/// over-long or broken body reads as empty, which the service then refuses).
async fn read_service_body(body: Incoming) -> Bytes {
    use http_body_util::BodyExt as _;
    http_body_util::Limited::new(body, crate::MAX_SERVICE_BODY)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default()
}

fn to_http(resp: ModelResponse, in_flight: Option<InFlight>) -> http::Response<StreamingBody> {
    let mut body = StreamingBody::new(resp.body, resp.rate_limit);
    body._in_flight = in_flight;
    let mut out = http::Response::new(body);
    *out.status_mut() = resp.status;
    *out.headers_mut() = resp.headers;
    out
}

impl Emulator {
    /// Serves HTTP/1.1 on one already-established stream (plain TCP, TLS, an in-memory
    /// duplex...) until the client closes it.
    pub async fn serve_connection<S>(&self, stream: S) -> Result<(), EmulatorError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        self.counters_ref().count_connection();
        let queue = Arc::new(Mutex::new(RequestQueue::default()));
        let io = CountingIo {
            inner: stream,
            framer: Framer::new(Side::Response),
            queue: Arc::clone(&queue),
            current_is_stats: false,
            emulator: self.clone(),
        };
        let emulator = self.clone();
        let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
            let emulator = emulator.clone();
            let queue = Arc::clone(&queue);
            async move {
                let (parts, body) = req.into_parts();
                let rp = RequestParts::from_http(parts.method, &parts.uri, parts.headers);
                if let Ok(mut q) = queue.lock() {
                    q.push(PendingRequest {
                        is_head: rp.method == http::Method::HEAD,
                        is_stats: rp.raw_path == "/-/stats",
                        arrived: None,
                    });
                }
                let in_flight = (rp.raw_path != "/-/stats").then(|| InFlight::start(&emulator));
                // The credential services (STS reads a form body); OSS requests otherwise.
                let resp = match emulator.service_route(&rp) {
                    Some(route) => {
                        let body = read_service_body(body).await;
                        emulator.answer_service(route, &rp, &body)
                    }
                    None => emulator.handle(&rp),
                };
                if let Some(d) = resp.first_byte_delay {
                    tokio::time::sleep(d).await;
                }
                Ok::<_, Infallible>(to_http(resp, in_flight))
            }
        });
        hyper::server::conn::http1::Builder::new()
            .keep_alive(true)
            .serve_connection(TokioIo::new(io), service)
            .await
            .map_err(|e| EmulatorError::Io(io::Error::other(e.to_string())))
    }

    /// Starts the streaming server on `127.0.0.1:0`.
    pub async fn start_server(&self) -> Result<RunningServer, EmulatorError> {
        self.start_server_on(
            "127.0.0.1:0"
                .parse()
                .map_err(|_| EmulatorError::InvalidArgument("bad address".into()))?,
        )
        .await
    }

    /// Starts the streaming server on `addr` (port 0 picks a free port).
    pub async fn start_server_on(&self, addr: SocketAddr) -> Result<RunningServer, EmulatorError> {
        self.start_server_with(addr, "http", |tcp: TcpStream| async move { Ok(tcp) })
            .await
    }

    /// Starts the streaming server on `addr`, passing every accepted TCP connection through
    /// `accept` first (e.g. a tokio-rustls `TlsAcceptor`); `scheme` names the endpoint's
    /// scheme (`"https"` for TLS). A failed accept drops that connection only.
    ///
    /// ```no_run
    /// # async fn demo(emu: oss_emulator::Emulator) -> Result<(), oss_emulator::EmulatorError> {
    /// let server = emu
    ///     .start_server_with("127.0.0.1:0".parse().unwrap(), "http", |tcp| async move { Ok(tcp) })
    ///     .await?;
    /// println!("{}", server.endpoint());
    /// server.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn start_server_with<F, Fut, S>(
        &self,
        addr: SocketAddr,
        scheme: &str,
        accept: F,
    ) -> Result<RunningServer, EmulatorError>
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<S>> + Send + 'static,
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let (tx, mut rx) = oneshot::channel::<()>();
        let emulator = self.clone();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    _ = &mut rx => break,
                    accepted = listener.accept() => {
                        let Ok((tcp, _)) = accepted else { continue };
                        let _ = tcp.set_nodelay(true);
                        let fut = accept(tcp);
                        let emulator = emulator.clone();
                        conns.spawn(async move {
                            if let Ok(stream) = fut.await {
                                let _ = emulator.serve_connection(stream).await;
                            }
                        });
                    }
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
            conns.abort_all();
            while conns.join_next().await.is_some() {}
        });
        Ok(RunningServer {
            local_addr,
            endpoint: format!("{scheme}://{local_addr}"),
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// A running streaming server. Dropping it stops accepting and closes its connections.
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    endpoint: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// `http://127.0.0.1:PORT` (or `https://...` with a TLS acceptor).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, closes every connection, and waits until they are gone.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
