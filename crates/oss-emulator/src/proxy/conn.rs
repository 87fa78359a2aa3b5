//! One proxied connection: relay both directions, follow the framing, apply the faults.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::watch;

use super::ProxyShared;
use super::faults::{CutMode, FiredFault, OnAccept, ResponsePlan};
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
    let Ok(upstream) = TcpStream::connect(shared.upstream).await else {
        let _ = client.set_zero_linger();
        return;
    };
    let _ = upstream.set_nodelay(true);
    let (client_r, client_w) = client.into_split();
    let (up_r, up_w) = upstream.into_split();
    let queue = Arc::new(Mutex::new(RequestQueue::default()));
    let (closed_tx, closed_rx) = watch::channel(false);
    let c2s = tokio::spawn(client_to_server(
        Arc::clone(&shared),
        client_r,
        up_w,
        Arc::clone(&queue),
        closed_tx,
    ));
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

async fn client_to_server(
    shared: Arc<ProxyShared>,
    mut client_r: OwnedReadHalf,
    mut up_w: OwnedWriteHalf,
    queue: Arc<Mutex<RequestQueue>>,
    closed: watch::Sender<bool>,
) {
    let mut framer = Framer::new(Side::Request);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match client_r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let data = buf.get(..n).unwrap_or_default();
        let mut rest = data;
        while !rest.is_empty() {
            let span = framer.next_span(rest, &mut || false);
            let len = match span {
                Span::Head { len, complete } => {
                    if let Some(h) = complete
                        && let Ok(mut q) = queue.lock()
                    {
                        q.push(PendingRequest {
                            is_head: h.method.eq_ignore_ascii_case("HEAD"),
                            is_stats: h.path == "/-/stats",
                        });
                    }
                    len
                }
                Span::Body { len, .. } | Span::Framing { len, .. } | Span::Unframed { len } => len,
            };
            rest = rest.get(len.max(1)..).unwrap_or_default();
        }
        if let Some(wait) = shared.throttle.reserve(n) {
            tokio::time::sleep(wait).await;
        }
        if up_w.write_all(data).await.is_err() {
            break;
        }
        shared
            .counters
            .bytes_to_server
            .fetch_add(n as u64, Ordering::Relaxed);
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
}

impl ServerToClient {
    async fn run(&mut self, mut up_r: OwnedReadHalf) -> End {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match up_r.read(&mut buf).await {
                Ok(0) | Err(_) => return End::Eof,
                Ok(n) => n,
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
        let piece = self.shared.throttle.piece().unwrap_or(data.len().max(1));
        for chunk in data.chunks(piece.max(1)) {
            if let Some(wait) = self.shared.throttle.reserve(chunk.len()) {
                tokio::time::sleep(wait).await;
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

    async fn on_head(&mut self, head: &crate::framing::Head) -> Option<End> {
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
