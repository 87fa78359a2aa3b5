//! Credentials OSS refuses as expired or unknown: the transport hands them back to the
//! provider (`ProvideCredentials::credentials_rejected`) and the error says whether a retry
//! will be signed with refreshed ones; `ready()` is awaited before every signing.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use oss_emulator::ObjectSpec;
use oss_http::{
    AddressingStyle, Collect, Credentials, GetRange, ProvideCredentials, ReadyFuture, RetryReason,
    SignError, SignatureVersion,
};

use crate::common::{BUCKET, Env};

/// Hands out one set of temporary credentials after another; `rejected` moves to the next.
struct Rotating {
    sets: Vec<Credentials>,
    current: Mutex<usize>,
    readies: AtomicUsize,
    rejections: AtomicUsize,
}

impl ProvideCredentials for Rotating {
    fn provide_credentials(&self) -> Result<Credentials, SignError> {
        let i = *self.current.lock().unwrap();
        Ok(self.sets[i].clone())
    }

    fn ready(&self) -> ReadyFuture<'_> {
        self.readies.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::ready(()))
    }

    fn credentials_rejected(&self, rejected: &Credentials) -> bool {
        self.rejections.fetch_add(1, Ordering::SeqCst);
        let mut i = self.current.lock().unwrap();
        if self.sets[*i].access_key_id() == rejected.access_key_id() && *i + 1 < self.sets.len() {
            *i += 1;
            return true;
        }
        false
    }
}

#[tokio::test]
async fn an_expired_token_is_handed_back_and_the_retry_uses_fresh_credentials() {
    let env = Env::start().await;
    env.emu
        .put_object(BUCKET, "k", ObjectSpec::synthetic(4096, 3))
        .unwrap();
    let now = SystemTime::now();
    let expired = oss_emulator::Credentials::sts("STS.old", "old-secret", "old-token")
        .expiring_at(now - Duration::from_secs(1));
    let fresh = oss_emulator::Credentials::sts("STS.new", "new-secret", "new-token")
        .expiring_at(now + Duration::from_secs(3600));
    env.emu.add_credentials(expired);
    env.emu.add_credentials(fresh);
    let sts = |id: &str, secret: &str, token: &str| {
        Credentials::new(id, secret)
            .unwrap()
            .with_security_token(token)
            .unwrap()
    };
    let provider = std::sync::Arc::new(Rotating {
        sets: vec![
            sts("STS.old", "old-secret", "old-token"),
            sts("STS.new", "new-secret", "new-token"),
        ],
        current: Mutex::new(0),
        readies: AtomicUsize::new(0),
        rejections: AtomicUsize::new(0),
    });
    let shared = std::sync::Arc::clone(&provider);
    let client = env
        .builder(AddressingStyle::Path, SignatureVersion::V4)
        .credentials_provider(move || shared.provide_credentials())
        .build()
        .unwrap();
    // The closure provider has the default hooks: a refusal is final.
    let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
    let service = e.service().unwrap();
    assert_eq!(service.code, "SecurityTokenExpired");
    assert!(!service.credentials_refreshed);
    assert_eq!(e.retry_reason(), None);

    // The provider itself: the refusal refreshes it and the error is retryable.
    let client = env
        .builder(AddressingStyle::Path, SignatureVersion::V4)
        .credentials_provider(RotatingRef(std::sync::Arc::clone(&provider)))
        .build()
        .unwrap();
    let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
    assert_eq!(
        e.retry_reason(),
        Some(RetryReason::CredentialsRefreshed),
        "{e}"
    );
    assert!(e.to_string().contains("refreshed"), "{e}");
    let meta = client.head_object(BUCKET, "k", None).await.unwrap();
    let pin = meta.pin();
    let mut sink = Collect::default();
    let get = GetRange::new(
        BUCKET,
        "k",
        &pin,
        oss_http::ByteRange::new(0, 4096).unwrap(),
    );
    client.get_range(&get, &mut sink, None).await.unwrap();
    assert_eq!(provider.rejections.load(Ordering::SeqCst), 1);
    // ready() before each of the three signings.
    assert_eq!(provider.readies.load(Ordering::SeqCst), 3);

    // Credentials refused although fresh: the provider has nothing else, the error is final.
    env.emu.remove_credentials("STS.new");
    let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
    assert_eq!(e.service().unwrap().code, "InvalidAccessKeyId");
    assert_eq!(e.retry_reason(), None);
}

/// The shared provider with its hooks (a closure would hide them).
struct RotatingRef(std::sync::Arc<Rotating>);

impl ProvideCredentials for RotatingRef {
    fn provide_credentials(&self) -> Result<Credentials, SignError> {
        self.0.provide_credentials()
    }
    fn ready(&self) -> ReadyFuture<'_> {
        self.0.ready()
    }
    fn credentials_rejected(&self, rejected: &Credentials) -> bool {
        self.0.credentials_rejected(rejected)
    }
}
