//! The caching provider: any [`FetchCredentials`] as an `oss_sign::ProvideCredentials` that
//! signs from a cache and refreshes ahead of expiry, one refresh at a time.
//!
//! # The refresh policy, and why
//!
//! Temporary credentials of lifetime `L` (their expiry minus when they arrived) are refreshed
//! once `min(180 s, L / 5)` is left:
//! - 180 s is credentials-go's margin, right for the usual 15 min to 12 h: one refresh per
//!   lifetime, well before the end, whatever the link;
//! - `L / 5` (refresh at 80% of the lifetime, as the OSS Go SDK's fetcher does) takes over for
//!   short lifetimes, where 180 s would mean refreshing at every request (credentials-python's
//!   15-minute rule does exactly that below 15 minutes).
//!
//! The refresh runs in the background: requests keep signing with the current credentials
//! meanwhile, and they stay usable until `min(10 s, L / 20)` before their expiry (a request
//! signed at the last instant could reach OSS after it). A failed refresh while they are usable
//! is logged (`tracing` warn) and retried with exponential backoff (1 s doubling to 30 s, never
//! past their end). Only when they are no longer usable does a request wait — for the refresh
//! in flight, bounded by the provider's own timeouts — and if that fails too it gets
//! `SignError::CredentialsUnavailable` naming the provider, retryable when the provider's error
//! is ([`CredentialsError::is_retryable`]).
//!
//! When OSS refuses credentials as unknown or expired (`credentials_rejected`), they are dropped
//! and one refresh is forced; if the credentials that refresh brought are refused in turn, the
//! refusal is final (the problem is not expiry).

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use oss_sign::{Credentials, ProvideCredentials, ReadyFuture, SignError};
use tokio::sync::{Notify, watch};

use crate::CredentialsError;
use crate::error::{error_chain as chain, fmt_time};
use crate::fetch::{FetchCredentials, Fetched};

/// A source of wall-clock time (injectable for tests).
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Refresh this long before expiry at most (credentials-go's margin).
const MAX_AHEAD: Duration = Duration::from_secs(180);
/// Stop using credentials this long before expiry at most.
const MAX_MARGIN: Duration = Duration::from_secs(10);
/// Backoff after a failed refresh: first, and cap.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The credentials in the cache and when to act on them.
#[derive(Clone)]
struct Current {
    credentials: Credentials,
    source: String,
    /// Start a refresh from here on.
    refresh_at: Option<SystemTime>,
    /// Sign with them until here.
    usable_until: Option<SystemTime>,
}

impl Current {
    fn new(fetched: Fetched, now: SystemTime) -> Self {
        let (refresh_at, usable_until) = match fetched.credentials.expiry() {
            None => (None, None),
            Some(expiry) => {
                let lifetime = expiry.duration_since(now).unwrap_or_default();
                let ahead = MAX_AHEAD.min(lifetime / 5);
                let margin = MAX_MARGIN.min(lifetime / 20);
                (Some(expiry - ahead), Some(expiry - margin))
            }
        };
        Self {
            credentials: fetched.credentials,
            source: fetched.source,
            refresh_at,
            usable_until,
        }
    }

    fn usable(&self, now: SystemTime) -> bool {
        self.usable_until.is_none_or(|until| now < until)
    }

    fn due(&self, now: SystemTime) -> bool {
        self.refresh_at.is_some_and(|at| now >= at)
    }
}

#[derive(Default)]
struct State {
    current: Option<Current>,
    refreshing: bool,
    last_error: Option<Arc<CredentialsError>>,
    /// The key id the last forced refresh brought.
    forced: Option<String>,
    fetches: u64,
}

struct Shared {
    fetcher: Arc<dyn FetchCredentials>,
    clock: Clock,
    state: Mutex<State>,
    /// Bumped at the end of every refresh (success or failure); waiters watch it.
    generation: watch::Sender<u64>,
    /// Cuts a backoff short (credentials were refused: refresh now).
    wake: Notify,
}

/// Signs from a cache of `fetcher`'s credentials, refreshing them ahead of expiry (see the
/// module documentation for the policy). Cheap to clone; clones share the cache.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use oss_credentials::{CachingProvider, EnvironmentProvider, Environment};
/// use oss_sign::ProvideCredentials;
///
/// let env = Environment::new()
///     .var("OSS_ACCESS_KEY_ID", "LTAI5tExample")
///     .var("OSS_ACCESS_KEY_SECRET", "secret");
/// let provider = CachingProvider::new(EnvironmentProvider::new(env));
/// provider.ready().await; // the first fetch
/// assert_eq!(provider.provide_credentials().unwrap().access_key_id(), Some("LTAI5tExample"));
/// assert_eq!(provider.source().as_deref(), Some("env (OSS_ACCESS_KEY_ID)"));
/// # }
/// ```
#[derive(Clone)]
pub struct CachingProvider {
    shared: Arc<Shared>,
}

impl fmt::Debug for CachingProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.lock();
        f.debug_struct("CachingProvider")
            .field("fetcher", &self.shared.fetcher)
            .field("credentials", &st.current.as_ref().map(|c| &c.credentials))
            .field("refreshing", &st.refreshing)
            .finish()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn name(&self) -> &'static str {
        self.fetcher.name()
    }

    /// Fetches until it succeeds or nothing usable is left; one loop at a time (the caller set
    /// `refreshing`).
    async fn refresh(self: Arc<Self>, forced: bool) {
        let mut failures: u32 = 0;
        loop {
            let result = self.fetcher.fetch().await;
            let now = (self.clock)();
            // The lock is held in this block only (never across an await).
            let (error, until) = {
                let mut st = self.lock();
                let error = match result {
                    Ok(fetched) => {
                        let current = Current::new(fetched, now);
                        log_fetched(&current);
                        st.forced = forced
                            .then(|| current.credentials.access_key_id().map(str::to_owned))
                            .flatten();
                        st.current = Some(current);
                        st.last_error = None;
                        st.fetches += 1;
                        st.refreshing = false;
                        None
                    }
                    Err(e) => Some(Arc::new(e)),
                };
                let until = st
                    .current
                    .as_ref()
                    .filter(|c| c.usable(now))
                    .and_then(|c| c.usable_until);
                if let Some(e) = &error {
                    st.last_error = Some(Arc::clone(e));
                    if until.is_none() {
                        st.refreshing = false;
                    }
                }
                (error, until)
            };
            let Some(error) = error else {
                self.generation.send_modify(|g| *g += 1);
                return;
            };
            let Some(until) = until else {
                // Nothing usable left: the waiting requests get the error.
                tracing::warn!(
                    "credentials from {} unavailable: {}",
                    self.name(),
                    chain(&*error)
                );
                self.generation.send_modify(|g| *g += 1);
                return;
            };
            failures += 1;
            let backoff = FIRST_BACKOFF
                .saturating_mul(1 << failures.min(5).saturating_sub(1))
                .min(MAX_BACKOFF)
                .min(until.duration_since(now).unwrap_or_default());
            tracing::warn!(
                "refreshing credentials from {} failed (attempt {failures}); the current ones stay usable until {}; retrying in {:.1}s: {}",
                self.name(),
                fmt_time(until),
                backoff.as_secs_f64(),
                chain(&*error)
            );
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = self.wake.notified() => {}
            }
        }
    }
}

fn log_fetched(current: &Current) {
    match current.credentials.expiry() {
        Some(expiry) => tracing::info!(
            "credentials from {}: {}, expiring at {} (refresh from {})",
            current.source,
            current.credentials,
            fmt_time(expiry),
            current.refresh_at.map(fmt_time).unwrap_or_default()
        ),
        None => tracing::info!(
            "credentials from {}: {}, not expiring",
            current.source,
            current.credentials
        ),
    }
}

impl CachingProvider {
    /// Caches `fetcher`'s credentials, by the system clock.
    pub fn new(fetcher: impl FetchCredentials + 'static) -> Self {
        Self::with_clock(Arc::new(fetcher), Arc::new(SystemTime::now))
    }

    /// [`new`](Self::new) with another clock (tests).
    pub fn with_clock(fetcher: Arc<dyn FetchCredentials>, clock: Clock) -> Self {
        let (generation, _) = watch::channel(0);
        Self {
            shared: Arc::new(Shared {
                fetcher,
                clock,
                state: Mutex::new(State::default()),
                generation,
                wake: Notify::new(),
            }),
        }
    }

    /// Where the cached credentials came from (`None` before the first fetch).
    pub fn source(&self) -> Option<String> {
        self.shared
            .lock()
            .current
            .as_ref()
            .map(|c| c.source.clone())
    }

    /// When the cached credentials expire (`None`: not fetched yet, or they do not).
    pub fn expiry(&self) -> Option<SystemTime> {
        self.shared
            .lock()
            .current
            .as_ref()
            .and_then(|c| c.credentials.expiry())
    }

    /// How many fetches have succeeded (the first one included).
    pub fn fetches(&self) -> u64 {
        self.shared.lock().fetches
    }

    /// Fetches now if nothing usable is cached, and returns the credentials (what a caller
    /// that wants to report the source before any request calls).
    ///
    /// # Errors
    /// As `provide_credentials`.
    pub async fn credentials(&self) -> Result<Credentials, SignError> {
        self.ready().await;
        self.provide_credentials()
    }

    /// Starts the refresh loop (the caller checked none runs and set `refreshing`). Without a
    /// tokio runtime (every fetch needs one, so this is a caller mistake) nothing starts and
    /// the error says so.
    fn start_refresh(&self, st: &mut State, forced: bool) -> bool {
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                st.refreshing = true;
                handle.spawn(Arc::clone(&self.shared).refresh(forced));
                true
            }
            Err(_) => {
                st.last_error = Some(Arc::new(CredentialsError::invalid_setting(
                    self.shared.name(),
                    "runtime",
                    "credentials are fetched on a tokio runtime; call from inside one",
                )));
                false
            }
        }
    }
}

impl ProvideCredentials for CachingProvider {
    fn provide_credentials(&self) -> Result<Credentials, SignError> {
        let now = (self.shared.clock)();
        let st = self.shared.lock();
        if let Some(c) = st.current.as_ref().filter(|c| c.usable(now)) {
            return Ok(c.credentials.clone());
        }
        let name = self.shared.name();
        let what = match (&st.current, &st.last_error) {
            (Some(c), _) => format!(
                "the credentials from {name} ({}) expired at {} and no fresh ones could be fetched",
                c.source,
                c.credentials.expiry().map(fmt_time).unwrap_or_default()
            ),
            (None, Some(_)) => format!("no credentials could be fetched from {name}"),
            (None, None) => format!("no credentials fetched from {name} yet"),
        };
        let retryable = st.last_error.as_ref().is_none_or(|e| e.is_retryable());
        let source = st
            .last_error
            .clone()
            .map(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>);
        Err(SignError::credentials_unavailable(what, retryable, source))
    }

    fn ready(&self) -> ReadyFuture<'_> {
        Box::pin(async move {
            let mut waiter = {
                let now = (self.shared.clock)();
                let mut st = self.shared.lock();
                let usable = st.current.as_ref().is_some_and(|c| c.usable(now));
                let due = st.current.as_ref().is_some_and(|c| c.due(now));
                if usable {
                    if due && !st.refreshing {
                        self.start_refresh(&mut st, false);
                    }
                    return;
                }
                if !st.refreshing && !self.start_refresh(&mut st, false) {
                    return;
                }
                // Subscribed under the lock: the refresh's end cannot be missed.
                self.shared.generation.subscribe()
            };
            let _ = waiter.changed().await;
        })
    }

    fn credentials_rejected(&self, rejected: &Credentials) -> bool {
        // Keys without an expiry (environment, a profile's key pair) would come back the same.
        if rejected.expiry().is_none() {
            return false;
        }
        let mut st = self.shared.lock();
        if st.forced.is_some() && st.forced.as_deref() == rejected.access_key_id() {
            tracing::warn!(
                "OSS refused the credentials a forced refresh of {} just brought; not refreshing again",
                self.shared.name()
            );
            return false;
        }
        let is_current = st
            .current
            .as_ref()
            .is_some_and(|c| c.credentials.access_key_id() == rejected.access_key_id());
        if is_current {
            tracing::info!(
                "OSS refused {} as unknown or expired; refreshing from {}",
                rejected,
                self.shared.name()
            );
            st.current = None;
            if st.refreshing {
                self.shared.wake.notify_one();
            } else if !self.start_refresh(&mut st, true) {
                return false;
            }
        }
        // Either refreshing now, or the refused ones were replaced already.
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::BoxFuture;
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

    /// A clock that follows tokio's (paused) time, so sleeps and expiry agree.
    fn tokio_clock() -> Clock {
        let start = tokio::time::Instant::now();
        let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        Arc::new(move || base + start.elapsed())
    }

    /// Issues credentials living `lifetime` by `clock`, taking `latency` per fetch; counts
    /// fetches in flight; fails while `failing` is set.
    #[derive(Debug)]
    struct Issuer {
        clock: ClockDebug,
        lifetime: Duration,
        latency: Duration,
        issued: AtomicU64,
        in_flight: AtomicUsize,
        max_in_flight: AtomicUsize,
        failing: AtomicBool,
        retryable: bool,
    }

    struct ClockDebug(Clock);
    impl fmt::Debug for ClockDebug {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("clock")
        }
    }

    impl Issuer {
        fn new(clock: &Clock, lifetime: Duration) -> Arc<Self> {
            Arc::new(Self {
                clock: ClockDebug(Arc::clone(clock)),
                lifetime,
                latency: Duration::from_millis(200),
                issued: AtomicU64::new(0),
                in_flight: AtomicUsize::new(0),
                max_in_flight: AtomicUsize::new(0),
                failing: AtomicBool::new(false),
                retryable: true,
            })
        }
    }

    impl FetchCredentials for Issuer {
        fn name(&self) -> &'static str {
            "test issuer"
        }

        fn fetch(&self) -> BoxFuture<'_, Result<Fetched, CredentialsError>> {
            Box::pin(async move {
                let n = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                self.max_in_flight.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(self.latency).await;
                self.in_flight.fetch_sub(1, Ordering::SeqCst);
                if self.failing.load(Ordering::SeqCst) {
                    return Err(if self.retryable {
                        CredentialsError::Unreachable {
                            provider: "test issuer",
                            endpoint: "http://sts.test".into(),
                            source: "connection refused".into(),
                        }
                    } else {
                        CredentialsError::Service {
                            provider: "test issuer",
                            endpoint: "http://sts.test".into(),
                            status: 403,
                            code: Some("NoPermission".into()),
                            message: None,
                            request_id: Some("R1".into()),
                        }
                    });
                }
                let i = self.issued.fetch_add(1, Ordering::SeqCst);
                let expiry = (self.clock.0)() + self.lifetime;
                let credentials = Credentials::new(format!("STS.key{i}"), "secret-value")
                    .unwrap()
                    .with_security_token("token-value")
                    .unwrap()
                    .with_expiry(expiry)
                    .unwrap();
                Ok(Fetched {
                    credentials,
                    source: "test issuer".into(),
                })
            })
        }
    }

    /// Many requests sign while the credentials (20 s) are refreshed again and again: none is
    /// signed with expired credentials, and there is never more than one fetch at a time.
    #[tokio::test(start_paused = true)]
    async fn concurrent_signing_through_refreshes() {
        let clock = tokio_clock();
        let issuer = Issuer::new(&clock, Duration::from_secs(20));
        let provider = CachingProvider::with_clock(issuer.clone(), Arc::clone(&clock));
        let mut tasks = Vec::new();
        for t in 0..32u64 {
            let provider = provider.clone();
            let clock = Arc::clone(&clock);
            tasks.push(tokio::spawn(async move {
                let mut signed = 0;
                for i in 0..200u64 {
                    provider.ready().await;
                    let creds = provider.provide_credentials().unwrap();
                    let now = clock();
                    assert!(
                        creds.expiry().unwrap() > now,
                        "task {t}: expired credentials signed"
                    );
                    signed += 1;
                    // Requests at uneven intervals, about 100 s of signing in all.
                    tokio::time::sleep(Duration::from_millis(400 + (t * 7 + i * 13) % 200)).await;
                }
                signed
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), 200);
        }
        assert_eq!(issuer.max_in_flight.load(Ordering::SeqCst), 1);
        // ~100 s of 20 s credentials refreshed at 80%: at least 5 fetches, not one per request.
        let fetches = provider.fetches();
        assert!((5..=10).contains(&fetches), "{fetches} fetches");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_refresh_keeps_the_current_credentials_and_retries() {
        let clock = tokio_clock();
        let issuer = Issuer::new(&clock, Duration::from_secs(100));
        let provider = CachingProvider::with_clock(issuer.clone(), Arc::clone(&clock));
        let first = provider.credentials().await.unwrap();
        issuer.failing.store(true, Ordering::SeqCst);
        // Past the refresh point (80 s): the refresh fails in the background, signing goes on.
        tokio::time::sleep(Duration::from_secs(81)).await;
        provider.ready().await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(
            provider.provide_credentials().unwrap().access_key_id(),
            first.access_key_id()
        );
        // The service comes back before the end: the retry (backoff) picks up new ones.
        issuer.failing.store(false, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(9)).await;
        let second = provider.provide_credentials().unwrap();
        assert_ne!(second.access_key_id(), first.access_key_id());
        assert_eq!(issuer.max_in_flight.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn expired_with_no_fresh_ones_is_a_typed_error_naming_the_provider() {
        let clock = tokio_clock();
        for retryable in [true, false] {
            let mut issuer = Issuer::new(&clock, Duration::from_secs(30));
            Arc::get_mut(&mut issuer).unwrap().retryable = retryable;
            let provider = CachingProvider::with_clock(issuer.clone(), Arc::clone(&clock));
            provider.credentials().await.unwrap();
            issuer.failing.store(true, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(31)).await;
            let e = provider.credentials().await.unwrap_err();
            assert_eq!(e.is_retryable(), retryable);
            let text = e.to_string();
            assert!(
                text.contains("test issuer") && text.contains("expired at"),
                "{text}"
            );
            let shown = format!("{e} {e:?} {}", chain(&e));
            assert!(
                !shown.contains("secret-value") && !shown.contains("token-value"),
                "{shown}"
            );
            if !retryable {
                assert!(chain(&e).contains("NoPermission"), "{}", chain(&e));
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_forces_one_refresh() {
        let clock = tokio_clock();
        let issuer = Issuer::new(&clock, Duration::from_secs(3600));
        let provider = CachingProvider::with_clock(issuer.clone(), Arc::clone(&clock));
        let first = provider.credentials().await.unwrap();
        assert!(provider.credentials_rejected(&first));
        // Many parts refused with the same credentials: one refresh.
        assert!(provider.credentials_rejected(&first));
        let second = provider.credentials().await.unwrap();
        assert_ne!(second.access_key_id(), first.access_key_id());
        assert!(
            provider.credentials_rejected(&first),
            "already replaced: retry"
        );
        assert_eq!(provider.fetches(), 2);
        // The fresh ones refused too: not an expiry problem, no more refreshes.
        assert!(!provider.credentials_rejected(&second));
        assert_eq!(provider.fetches(), 2);
        // Keys without an expiry are never refreshed on a refusal.
        let fixed = Credentials::new("LTAIfixed", "s").unwrap();
        assert!(!provider.credentials_rejected(&fixed));
    }
}
