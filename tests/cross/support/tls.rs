//! Real TLS in front of the emulator: a self-signed certificate made by rcgen in the test,
//! a tokio-rustls acceptor (ring provider), and a terminator that forwards the decrypted
//! stream to a plain upstream — the chaos proxy, which must see HTTP to cut responses at
//! exact body offsets, and behind it the emulator's streaming server:
//!
//! ```text
//! client --TLS--> TlsFront (tokio-rustls) --HTTP--> ChaosProxy --HTTP--> emulator server
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use oss_http::CertificateDer;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// A self-signed certificate for `names` and its private key.
pub struct SelfSigned {
    pub cert: CertificateDer<'static>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
}

impl SelfSigned {
    pub fn new(names: &[&str]) -> Self {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let certified = rcgen::generate_simple_self_signed(names).unwrap();
        Self {
            cert: certified.cert.der().clone(),
            key: rustls::pki_types::PrivateKeyDer::Pkcs8(
                certified.signing_key.serialize_der().into(),
            ),
        }
    }

    fn acceptor(&self) -> TlsAcceptor {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![self.cert.clone()], self.key.clone_key())
            .unwrap();
        TlsAcceptor::from(Arc::new(config))
    }
}

/// Terminates TLS on 127.0.0.1 and forwards each connection to `upstream`.
pub struct TlsFront {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl TlsFront {
    pub async fn start(cert: &SelfSigned, upstream: SocketAddr) -> Self {
        let acceptor = cert.acceptor();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Ok(mut plain) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    // When the proxy cuts its side (FIN), the client gets close_notify and
                    // EOF after exactly the bytes the proxy relayed: a short body.
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        Self { addr, task }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}
