//! Counting the connections the pool opens.
//!
//! HTTP/1.1 keep-alive is what makes many requests per connection cheap; a client that
//! opens a connection per request pays a handshake (TCP, and TLS) each time. The count
//! makes that visible ([`crate::Client::connections_opened`]): a download with `threads`
//! workers should open `threads` connections, whatever its request count.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use http::Uri;

/// A connector that counts the connections `C` establishes.
#[derive(Debug, Clone)]
pub(crate) struct Counted<C> {
    inner: C,
    opened: Arc<AtomicU64>,
}

impl<C> Counted<C> {
    pub(crate) fn new(inner: C, opened: Arc<AtomicU64>) -> Self {
        Self { inner, opened }
    }
}

impl<C> tower_service::Service<Uri> for Counted<C>
where
    C: tower_service::Service<Uri>,
    C::Future: Send + 'static,
{
    type Response = C::Response;
    type Error = C::Error;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, C::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let opened = Arc::clone(&self.opened);
        Box::pin(async move {
            let connected = connecting.await;
            if connected.is_ok() {
                opened.fetch_add(1, Ordering::Relaxed);
            }
            connected
        })
    }
}
