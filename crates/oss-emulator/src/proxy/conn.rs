//! One proxied connection: relay both directions, follow the framing, apply the faults.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::ProxyShared;
use super::faults::{CutMode, FiredFault, OnAccept, ResponsePlan};
use super::link::{ConnFlight, ConnLink};
use crate::framing::{Framer, PendingRequest, RequestQueue, Side, Span};

/// How long an RST cut waits after the last bytes so a reading client gets them first.
const RST_DRAIN: Duration = Duration::from_millis(20);

fn record(
    shared: &ProxyShared,
    kind: &str,
    connection: u64,
    response: u64,
    body_offset: u64,
    detail: String,
) {
    if let Ok(mut f) = shared.counters.fired.lock() {
        f.push(FiredFault {
            kind: kind.to_owned(),
            connection,
            response,
            body_offset,
            detail,
        });
    }
}

/// Runs one accepted connection to its end.
pub(crate) async fn run(shared: Arc<ProxyShared>, client: TcpStream, conn: u64) {
    let _ = client.set_nodelay(true);
    if !accepted(&shared, &client, conn) {
        drop(client);
        return;
    }
    let link = shared.link.lock().ok().and_then(|l| l.clone());
    if let Some(link) = &link {
        if link.model.is_straggler(shared.seed, conn) {
            let detail = format!("{} bytes/s", link.model.conn_cap(shared.seed, conn));
            record(&shared, "straggler", conn, 0, 0, detail);
        }
        // The handshake's round trip: the client's first request waits for it.
        tokio::time::sleep(link.model.rtt).await;
    }
    let flight = link.map(|l| Arc::new(ConnFlight::new(l)));
    let Ok(upstream) = TcpStream::connect(shared.upstream).await else {
        let _ = client.set_zero_linger();
        return;
    };
    let _ = upstream.set_nodelay(true);
    let (client_r, client_w) = client.into_split();
    let (up_r, up_w) = upstream.into_split();
    let queue = Arc::new(Mutex::new(RequestQueue::default()));
    let (closed_tx, closed_rx) = watch::channel(false);
    let (reject_tx, reject_rx) = mpsc::unbounded_channel();
    let c2s = tokio::spawn(client_to_server(
        Arc::clone(&shared),
        client_r,
        up_w,
        Arc::clone(&queue),
        closed_tx,
        flight.clone().map(|f| (f, reject_tx)),
    ));
    let shaper = flight
        .as_ref()
        .map(|f| ConnLink::new(&f.link.model, shared.seed, conn));
    let mut relay = ServerToClient {
        shared,
        conn,
        client_w,
        queue,
        closed: closed_rx,
        framer: Framer::new(Side::Response),
        conn_body: 0,
        response: 0,
        is_stats: false,
        plan: ResponsePlan::default(),
        stalls_done: Vec::new(),
        head: Vec::new(),
        flight,
        shaper,
        rejects: reject_rx,
        arrived: None,
        in_response: false,
    };
    let end = relay.run(up_r).await;
    let ServerToClient { client_w, .. } = relay;
    finish(end, client_w, c2s).await;
}

/// Whether the accept-time faults let the connection through; a refused one is set to
/// reset (linger 0) when the caller drops it, a closed one to close normally.
fn accepted(shared: &ProxyShared, client: &TcpStream, conn: u64) -> bool {
    let action = shared
        .faults
        .lock()
        .map(|mut f| f.on_accept())
        .unwrap_or(OnAccept::Proceed);
    match action {
        OnAccept::Refuse => {
            record(shared, "refuse", conn, 0, 0, "reset at accept".into());
            let _ = client.set_zero_linger();
            false
        }
        OnAccept::Close => {
            record(
                shared,
                "accept_close",
                conn,
                0,
                0,
                "closed at accept".into(),
            );
            false
        }
        OnAccept::Proceed => true,
    }
}

/// Ends the connection the way the relay ended: FIN, RST after a short drain, or nothing
/// when the client is gone; the client-to-server task stops either way.
async fn finish(end: End, mut client_w: OwnedWriteHalf, c2s: tokio::task::JoinHandle<()>) {
    match end {
        End::Cut(CutMode::Fin) | End::Eof => {
            let _ = client_w.shutdown().await;
            c2s.abort();
            let _ = c2s.await;
        }
        End::Cut(CutMode::Rst) => {
            let _ = client_w.flush().await;
            tokio::time::sleep(RST_DRAIN).await;
            let _ = client_w.as_ref().set_zero_linger();
            c2s.abort();
            let _ = c2s.await;
            // No shutdown(Write) on drop: that would send a FIN before the reset.
            client_w.forget();
        }
        End::ClientGone => {
            c2s.abort();
            let _ = c2s.await;
        }
    }
}

/// With a link model: the connection's requests in flight, and where to send the arrival
/// time of a request the model refuses (the server-to-client side answers it, in order).
type Admission = (Arc<ConnFlight>, mpsc::UnboundedSender<Instant>);

async fn client_to_server(
    shared: Arc<ProxyShared>,
    mut client_r: OwnedReadHalf,
    mut up_w: OwnedWriteHalf,
    queue: Arc<Mutex<RequestQueue>>,
    closed: watch::Sender<bool>,
    admission: Option<Admission>,
) {
    let mut framer = Framer::new(Side::Request);
    let mut buf = vec![0u8; 16 * 1024];
    // A head's bytes are held until it is complete: a refused request never reaches the
    // server.
    let mut held = Vec::new();
    let mut out = Vec::with_capacity(buf.len());
    loop {
        let n = match client_r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let data = buf.get(..n).unwrap_or_default();
        out.clear();
        let mut rest = data;
        while !rest.is_empty() {
            let span = framer.next_span(rest, &mut || false);
            let len = match span {
                Span::Head { len, complete } => {
                    held.extend_from_slice(rest.get(..len).unwrap_or_default());
                    if let Some(h) = complete {
                        let is_stats = h.path == "/-/stats";
                        let bodyless = !h.chunked && h.content_length.unwrap_or(0) == 0;
                        let arrived = Instant::now();
                        let refused = match &admission {
                            Some((flight, reject)) if !is_stats => {
                                let refused = bodyless && !flight.admit();
                                if refused {
                                    let _ = reject.send(arrived);
                                } else if !bodyless {
                                    // A request with a body always goes through.
                                    if !flight.admit() {
                                        flight.force();
                                    }
                                }
                                refused
                            }
                            _ => false,
                        };
                        if refused {
                            held.clear();
                        } else {
                            out.append(&mut held);
                            if let Ok(mut q) = queue.lock() {
                                q.push(PendingRequest {
                                    is_head: h.method.eq_ignore_ascii_case("HEAD"),
                                    is_stats,
                                    arrived: Some(arrived),
                                });
                            }
                        }
                    }
                    len
                }
                Span::Body { len, .. } | Span::Framing { len, .. } | Span::Unframed { len } => {
                    out.extend_from_slice(rest.get(..len).unwrap_or_default());
                    len
                }
            };
            rest = rest.get(len.max(1)..).unwrap_or_default();
        }
        if out.is_empty() {
            continue;
        }
        if let Some(wait) = shared.throttle.reserve(out.len()) {
            tokio::time::sleep(wait).await;
        }
        if up_w.write_all(&out).await.is_err() {
            break;
        }
        shared
            .counters
            .bytes_to_server
            .fetch_add(out.len() as u64, Ordering::Relaxed);
    }
    let _ = up_w.shutdown().await;
    let _ = closed.send(true);
}

enum End {
    /// The server closed; pass the close on.
    Eof,
    /// A fault cut the connection.
    Cut(CutMode),
    /// The client went away (write failed or it closed while stalled).
    ClientGone,
}

struct ServerToClient {
    shared: Arc<ProxyShared>,
    conn: u64,
    client_w: OwnedWriteHalf,
    queue: Arc<Mutex<RequestQueue>>,
    closed: watch::Receiver<bool>,
    framer: Framer,
    /// Body bytes relayed on this connection (stats responses excluded).
    conn_body: u64,
    /// Current response number (1-based).
    response: u64,
    is_stats: bool,
    plan: ResponsePlan,
    stalls_done: Vec<u64>,
    head: Vec<u8>,
    /// The link model's requests in flight on this connection (`None`: no model).
    flight: Option<Arc<ConnFlight>>,
    /// The link model's pacing of this connection.
    shaper: Option<ConnLink>,
    /// Arrival times of requests the model refused, to answer in order.
    rejects: mpsc::UnboundedReceiver<Instant>,
    /// When the current response's request arrived.
    arrived: Option<Instant>,
    /// A counted response is being relayed (its end releases its place in flight).
    in_response: bool,
}

impl ServerToClient {
    async fn run(&mut self, mut up_r: OwnedReadHalf) -> End {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = tokio::select! {
                read = up_r.read(&mut buf) => match read {
                    Ok(0) | Err(_) => return End::Eof,
                    Ok(n) => n,
                },
                Some(arrived) = self.rejects.recv() => {
                    if !self.refuse(arrived).await {
                        return End::ClientGone;
                    }
                    continue;
                }
            };
            let mut pos = 0usize;
            while pos < n {
                let data = buf.get(pos..n).unwrap_or_default();
                let queue = Arc::clone(&self.queue);
                let mut popped = PendingRequest::default();
                let span = self.framer.next_span(data, &mut || {
                    popped = queue.lock().map(|mut q| q.pop()).unwrap_or_default();
                    popped.is_head
                });
                let step = match span {
                    Span::Head { len, complete } => {
                        self.head
                            .extend_from_slice(data.get(..len).unwrap_or_default());
                        if let Some(head) = complete {
                            let interim = (100..200).contains(&head.status);
                            if !interim {
                                self.is_stats = popped.is_stats;
                                self.arrived = popped.arrived;
                                if let Some(end) = self.on_head(&head).await {
                                    return end;
                                }
                            } else {
                                let h = std::mem::take(&mut self.head);
                                if !self.write(&h).await {
                                    return End::ClientGone;
                                }
                            }
                        }
                        len
                    }
                    Span::Body { len, offset } => match self
                        .on_body(data.get(..len).unwrap_or_default(), offset)
                        .await
                    {
                        Ok(()) => len,
                        Err(end) => return end,
                    },
                    Span::Framing { len, .. } | Span::Unframed { len } => {
                        if !self.write(data.get(..len).unwrap_or_default()).await {
                            return End::ClientGone;
                        }
                        len
                    }
                };
                pos += step.max(1);
                if self.in_response && self.framer.at_message_start() {
                    self.in_response = false;
                    if let Some(f) = &self.flight {
                        f.done();
                    }
                }
                // A lying larger Content-Length: close once the real body is through.
                if self.framer.at_message_start()
                    && let Some(delta) = self.plan.lie.take()
                    && delta > 0
                {
                    return End::Cut(CutMode::Fin);
                }
            }
        }
    }

    /// Writes bytes to the client (throttled); false when the client is gone.
    async fn write(&mut self, data: &[u8]) -> bool {
        self.write_counted(data, false).await
    }

    /// Writes response-body bytes to the client, counting each byte the socket accepted as
    /// relayed body — also when the client leaves part-way, so the counter never claims
    /// fewer bytes than the client may have received (tests bound re-fetches with it).
    async fn write_body(&mut self, data: &[u8]) -> bool {
        self.write_counted(data, true).await
    }

    async fn write_counted(&mut self, data: &[u8], body: bool) -> bool {
        let mut piece = self.shared.throttle.piece().unwrap_or(data.len().max(1));
        let shaped = match (&self.flight, &self.shaper) {
            (Some(f), Some(s)) if !self.is_stats => {
                piece = piece.min(s.piece(&f.link.model));
                true
            }
            _ => false,
        };
        for chunk in data.chunks(piece.max(1)) {
            if let Some(wait) = self.shared.throttle.reserve(chunk.len()) {
                tokio::time::sleep(wait).await;
            }
            if shaped && let (Some(f), Some(s)) = (&self.flight, &mut self.shaper) {
                let at = s.schedule(&f.link, chunk.len() as u64, Instant::now());
                tokio::time::sleep_until(at).await;
            }
            // `write` rather than `write_all`: a failure part-way must still count what the
            // socket took before it.
            let mut rest = chunk;
            while !rest.is_empty() {
                let n = match self.client_w.write(rest).await {
                    Ok(0) | Err(_) => return false,
                    Ok(n) => n,
                };
                let counters = &self.shared.counters;
                counters
                    .bytes_to_client
                    .fetch_add(n as u64, Ordering::Relaxed);
                if body {
                    counters
                        .body_bytes_to_client
                        .fetch_add(n as u64, Ordering::Relaxed);
                }
                rest = rest.get(n..).unwrap_or_default();
            }
        }
        true
    }

    /// Waits `duration` (None = until the client closes); false when the client left.
    async fn stall(&mut self, duration: Option<Duration>) -> bool {
        let _ = self.client_w.flush().await;
        let closed = async {
            while !*self.closed.borrow() {
                if self.closed.changed().await.is_err() {
                    break;
                }
            }
        };
        match duration {
            Some(d) => tokio::select! {
                _ = tokio::time::sleep(d) => true,
                _ = closed => false,
            },
            None => {
                closed.await;
                false
            }
        }
    }

    /// Answers a request the link model refused (too many in flight) with OSS's throttling
    /// error, one round trip after it arrived; false when the client is gone.
    async fn refuse(&mut self, arrived: Instant) -> bool {
        let Some(flight) = self.flight.clone() else {
            return true;
        };
        tokio::time::sleep_until(arrived + flight.link.model.rtt).await;
        self.response += 1;
        self.shared
            .counters
            .responses
            .fetch_add(1, Ordering::Relaxed);
        let error = flight.link.model.throttle_error();
        let request_id = format!(
            "{:024X}",
            crate::content::synthetic_word(self.conn, self.response)
        );
        let body = error.to_xml(&request_id, "oss-emulator");
        let status = error.status();
        let head = format!(
            "HTTP/1.1 {} {}\r\nServer: AliyunOSS\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nx-oss-request-id: {request_id}\r\nConnection: keep-alive\r\n\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            body.len()
        );
        record(
            &self.shared,
            "link_throttle",
            self.conn,
            self.response,
            0,
            format!("{} {}", status.as_u16(), error.code()),
        );
        self.write(head.as_bytes()).await && self.write(body.as_bytes()).await
    }

    async fn on_head(&mut self, head: &crate::framing::Head) -> Option<End> {
        if let (Some(f), Some(arrived), false) = (&self.flight, self.arrived, self.is_stats) {
            // Request to first byte: one round trip after the request reached the proxy.
            tokio::time::sleep_until(arrived + f.link.model.rtt).await;
            self.in_response = true;
        }
        self.response += 1;
        self.shared
            .counters
            .responses
            .fetch_add(1, Ordering::Relaxed);
        let mut raw = std::mem::take(&mut self.head);
        self.plan = if self.is_stats {
            ResponsePlan::default()
        } else {
            let body_len = if head.chunked {
                None
            } else {
                head.content_length
            };
            self.shared
                .faults
                .lock()
                .map(|f| f.plan(self.shared.seed, self.conn, self.response, body_len))
                .unwrap_or_default()
        };
        if let (Some(delta), Some(real)) = (self.plan.lie, head.content_length) {
            let lie = (real as i64).saturating_add(delta).max(0) as u64;
            raw = rewrite_content_length(&raw, lie);
            record(
                &self.shared,
                "lie",
                self.conn,
                self.response,
                0,
                format!("content-length {real} -> {lie}"),
            );
        }
        if let Some((k, duration)) = self.plan.head_stall {
            let k = k.min(raw.len());
            let (a, b) = raw.split_at(k);
            let (a, b) = (a.to_vec(), b.to_vec());
            if !self.write(&a).await {
                return Some(End::ClientGone);
            }
            record(
                &self.shared,
                "head_stall",
                self.conn,
                self.response,
                0,
                format!("after {k} head bytes for {duration:?}"),
            );
            if !self.stall(duration).await {
                return Some(End::ClientGone);
            }
            if !self.write(&b).await {
                return Some(End::ClientGone);
            }
            return None;
        }
        if !self.write(&raw).await {
            return Some(End::ClientGone);
        }
        None
    }

    async fn on_body(&mut self, data: &[u8], offset: u64) -> Result<(), End> {
        if self.is_stats {
            return if self.write(data).await {
                Ok(())
            } else {
                Err(End::ClientGone)
            };
        }
        let mut sent = 0usize;
        while sent < data.len() {
            let (limit, stop) = self.next_stop(offset + sent as u64, (data.len() - sent) as u64);
            let piece = data.get(sent..sent + limit as usize).unwrap_or_default();
            if !piece.is_empty() {
                if !self.write_body(piece).await {
                    return Err(End::ClientGone);
                }
                self.conn_body += limit;
                sent += limit as usize;
            }
            let at = offset + sent as u64;
            match stop {
                None => {}
                Some(Stop::Cut(mode, why)) => {
                    let detail = format!("{why} {mode:?}");
                    record(&self.shared, "cut", self.conn, self.response, at, detail);
                    return Err(End::Cut(mode));
                }
                Some(Stop::Stall(bytes, duration)) => {
                    self.stalls_done.push(bytes);
                    let detail = format!("{duration:?}");
                    record(&self.shared, "stall", self.conn, self.response, at, detail);
                    if !self.stall(duration).await {
                        return Err(End::ClientGone);
                    }
                }
            }
        }
        Ok(())
    }

    /// How many of the `len` body bytes at response offset `at` may go before a fault
    /// acts, and which fault: the response's planned cut, the connection's cut or stalls
    /// (by bytes relayed on this connection), or the proxy-wide cut-once-at-total budget,
    /// whichever comes first.
    fn next_stop(&self, at: u64, len: u64) -> (u64, Option<Stop>) {
        let mut limit = len;
        let mut stop = None;
        if let Some((o, mode, why)) = self.plan.cut_at
            && o >= at
            && o - at <= limit
        {
            limit = o - at;
            stop = Some(Stop::Cut(mode, why));
        }
        let (conn_cut, stalls) = self
            .shared
            .faults
            .lock()
            .map(|f| f.connection_rules(self.conn))
            .unwrap_or_default();
        if let Some((bytes, mode)) = conn_cut {
            let remaining = bytes.saturating_sub(self.conn_body);
            if remaining <= limit {
                limit = remaining;
                stop = Some(Stop::Cut(mode, "cut_every_connection"));
            }
        }
        for (bytes, duration) in stalls {
            if self.stalls_done.contains(&bytes) {
                continue;
            }
            let remaining = bytes.saturating_sub(self.conn_body);
            if remaining < limit {
                limit = remaining;
                stop = Some(Stop::Stall(bytes, duration));
            }
        }
        let (allowed, total_cut) = self
            .shared
            .faults
            .lock()
            .map(|mut f| f.reserve_total(limit))
            .unwrap_or((limit, None));
        if allowed < limit || total_cut.is_some() {
            limit = allowed;
            stop = total_cut.map(|m| Stop::Cut(m, "cut_once_at_total"));
        }
        (limit, stop)
    }
}

/// What stops a run of body bytes.
enum Stop {
    /// Cut the connection (how, and which fault).
    Cut(CutMode, &'static str),
    /// Stall once at this connection byte count, for this long (`None`: until closed).
    Stall(u64, Option<Duration>),
}

/// Replaces the Content-Length value in a raw response head.
fn rewrite_content_length(raw: &[u8], value: u64) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len() + 8);
    for line in text.split_inclusive("\r\n") {
        match line.split_once(':') {
            Some((name, _)) if name.trim().eq_ignore_ascii_case("content-length") => {
                out.push_str(name);
                out.push_str(": ");
                out.push_str(&value.to_string());
                out.push_str("\r\n");
            }
            _ => out.push_str(line),
        }
    }
    out.into_bytes()
}
