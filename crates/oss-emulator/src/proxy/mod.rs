//! An HTTP-aware chaos proxy: a tokio TCP proxy in front of either front-end that follows
//! HTTP/1.1 framing (heads, `Content-Length`, chunked bodies, keep-alive order), so faults
//! land at exact **body** offsets of the n-th response on a connection.
//!
//! Faults ([`NetFault`]) are fixed when the proxy starts and can be added or cleared while
//! it runs. Connections are numbered from 1 in accept order, responses from 1 per
//! connection; body offsets count payload bytes (chunk framing excluded). `/-/stats`
//! responses are never faulted or counted as body bytes.
//!
//! Cuts: [`CutMode::Fin`] closes the connection normally after exactly the scheduled bytes
//! (the client sees a short body, then EOF). [`CutMode::Rst`] sets `SO_LINGER` to zero
//! (`set_zero_linger`) and closes, so the client gets `ECONNRESET`; the proxy first waits
//! 20 ms so a client that is reading has received the bytes before the reset (on a real
//! network an RST can also destroy bytes in flight).
//!
//! A [`LinkModel`] (set with [`ChaosProxy::set_link`], or a named profile) makes the proxy
//! behave like a real path to OSS: round trips, per-connection and aggregate rate caps with
//! slow start, stragglers, and throttling answers above a concurrency limit; see `link`.

mod conn;
mod faults;
mod link;
mod throttle;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

pub use faults::{CutMode, FiredFault, NetFault};
pub use link::{DEFAULT_MAX_WINDOW, INITIAL_WINDOW, LinkModel, Straggler};

use crate::error::EmulatorError;

/// Live proxy counters.
#[derive(Debug, Default)]
pub(crate) struct ProxyCounters {
    pub(crate) connections: AtomicU64,
    pub(crate) bytes_to_server: AtomicU64,
    pub(crate) bytes_to_client: AtomicU64,
    pub(crate) body_bytes_to_client: AtomicU64,
    pub(crate) responses: AtomicU64,
    pub(crate) fired: Mutex<Vec<FiredFault>>,
}

/// A copy of the proxy's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Connections accepted (refused ones included).
    pub connections: u64,
    /// Bytes relayed client -> server.
    pub bytes_to_server: u64,
    /// Bytes relayed server -> client (heads, bodies, framing).
    pub bytes_to_client: u64,
    /// Response body payload bytes relayed to clients (`/-/stats` excluded).
    pub body_bytes_to_client: u64,
    /// Response heads relayed.
    pub responses: u64,
    /// Every fault that fired, in order.
    pub fired: Vec<FiredFault>,
}

impl ProxyStats {
    /// How many times faults of this kind fired (`"cut"`, `"stall"`, `"refuse"`, ...).
    pub fn fired_count(&self, kind: &str) -> u64 {
        self.fired.iter().filter(|f| f.kind == kind).count() as u64
    }

    /// The counters as JSON (the `"proxy"` section of `/-/stats`).
    pub fn to_json(&self) -> serde_json::Value {
        let mut by_kind = serde_json::Map::new();
        for f in &self.fired {
            let n = by_kind
                .get(&f.kind)
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0);
            by_kind.insert(f.kind.clone(), (n + 1).into());
        }
        let log: Vec<serde_json::Value> = self
            .fired
            .iter()
            .map(|f| {
                serde_json::json!({
                    "kind": f.kind, "connection": f.connection, "response": f.response,
                    "body_offset": f.body_offset, "detail": f.detail,
                })
            })
            .collect();
        serde_json::json!({
            "connections": self.connections,
            "bytes_to_server": self.bytes_to_server,
            "bytes_to_client": self.bytes_to_client,
            "body_bytes_to_client": self.body_bytes_to_client,
            "responses": self.responses,
            "faults_fired": by_kind,
            "fault_log": log,
        })
    }
}

/// State shared by the proxy's connections.
pub(crate) struct ProxyShared {
    pub(crate) upstream: SocketAddr,
    pub(crate) counters: ProxyCounters,
    pub(crate) faults: Mutex<faults::FaultBook>,
    pub(crate) throttle: throttle::Throttle,
    /// The link model for connections accepted from now on (`None`: loopback as it is).
    pub(crate) link: Mutex<Option<Arc<link::LinkShared>>>,
    pub(crate) seed: u64,
    pub(crate) next_connection: AtomicU64,
    pub(crate) shutdown: Notify,
}

impl ProxyShared {
    fn stats(&self) -> ProxyStats {
        let c = &self.counters;
        ProxyStats {
            connections: c.connections.load(Ordering::Relaxed),
            bytes_to_server: c.bytes_to_server.load(Ordering::Relaxed),
            bytes_to_client: c.bytes_to_client.load(Ordering::Relaxed),
            body_bytes_to_client: c.body_bytes_to_client.load(Ordering::Relaxed),
            responses: c.responses.load(Ordering::Relaxed),
            fired: c.fired.lock().map(|f| f.clone()).unwrap_or_default(),
        }
    }
}

/// A running chaos proxy. Dropping it stops accepting and closes its connections.
pub struct ChaosProxy {
    shared: Arc<ProxyShared>,
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ChaosProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChaosProxy")
            .field("local_addr", &self.local_addr)
            .field("upstream", &self.shared.upstream)
            .field("seed", &self.shared.seed)
            .finish()
    }
}

impl ChaosProxy {
    /// Starts a proxy on `127.0.0.1:0` in front of `upstream`, with `faults` and `seed`
    /// (for [`NetFault::RandomCut`]; the same seed replays the same schedule).
    pub async fn start(
        upstream: SocketAddr,
        faults: Vec<NetFault>,
        seed: u64,
    ) -> Result<Self, EmulatorError> {
        Self::start_on(
            "127.0.0.1:0"
                .parse()
                .map_err(|_| EmulatorError::InvalidArgument("bad address".into()))?,
            upstream,
            faults,
            seed,
        )
        .await
    }

    /// Starts a proxy listening on `listen`.
    pub async fn start_on(
        listen: SocketAddr,
        upstream: SocketAddr,
        faults: Vec<NetFault>,
        seed: u64,
    ) -> Result<Self, EmulatorError> {
        let listener = TcpListener::bind(listen).await?;
        let local_addr = listener.local_addr()?;
        let throttle_rate = faults.iter().find_map(|f| match f {
            NetFault::Throttle { bytes_per_sec } => Some(*bytes_per_sec),
            _ => None,
        });
        let shared = Arc::new(ProxyShared {
            upstream,
            counters: ProxyCounters::default(),
            faults: Mutex::new(faults::FaultBook::new(faults)),
            throttle: throttle::Throttle::new(throttle_rate),
            link: Mutex::new(None),
            seed,
            next_connection: AtomicU64::new(1),
            shutdown: Notify::new(),
        });
        let (tx, mut rx) = oneshot::channel::<()>();
        let sh = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    _ = &mut rx => break,
                    accepted = listener.accept() => {
                        let Ok((tcp, _)) = accepted else { continue };
                        let n = sh.next_connection.fetch_add(1, Ordering::Relaxed);
                        sh.counters.connections.fetch_add(1, Ordering::Relaxed);
                        conns.spawn(conn::run(Arc::clone(&sh), tcp, n));
                    }
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
            sh.shutdown.notify_waiters();
            conns.abort_all();
            while conns.join_next().await.is_some() {}
        });
        Ok(Self {
            shared,
            local_addr,
            stop: Some(tx),
            task: Some(task),
        })
    }

    /// The proxy's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The seed in use.
    pub fn seed(&self) -> u64 {
        self.shared.seed
    }

    /// Adds a fault while running (connection and response numbers keep counting).
    pub fn add_fault(&self, fault: NetFault) {
        if let NetFault::Throttle { bytes_per_sec } = fault {
            self.shared.throttle.set_rate(Some(bytes_per_sec));
        }
        if let Ok(mut f) = self.shared.faults.lock() {
            f.add(fault);
        }
    }

    /// Plays `link` on every connection accepted from now on (`None`: none). The aggregate
    /// cap and the concurrency count start afresh; connections already open keep the model
    /// they were accepted under.
    pub fn set_link(&self, link: Option<LinkModel>) {
        if let Ok(mut l) = self.shared.link.lock() {
            *l = link.map(|m| Arc::new(link::LinkShared::new(m)));
        }
    }

    /// The link model in force, if any.
    pub fn link(&self) -> Option<LinkModel> {
        self.shared
            .link
            .lock()
            .ok()
            .and_then(|l| l.as_ref().map(|l| l.model.clone()))
    }

    /// Removes every fault (and the throttle).
    pub fn clear_faults(&self) {
        self.shared.throttle.set_rate(None);
        if let Ok(mut f) = self.shared.faults.lock() {
            f.clear();
        }
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> ProxyStats {
        self.shared.stats()
    }

    /// A function giving the counters as JSON, for [`crate::Emulator::add_stats_section`].
    pub fn stats_hook(&self) -> impl Fn() -> serde_json::Value + Send + Sync + 'static {
        let shared = Arc::clone(&self.shared);
        move || shared.stats().to_json()
    }

    /// Stops accepting, closes every connection, waits until they are gone.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}
