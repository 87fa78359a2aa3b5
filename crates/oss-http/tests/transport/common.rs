//! A fresh emulator per test, and clients for each addressing style.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use oss_emulator::{BucketSpec, Emulator, RunningServer};
use oss_http::{AddressingStyle, Client, ClientBuilder, Credentials, SignatureVersion};

pub const AK: &str = "LTAI5tOssHttpTestKeyId";
pub const SK: &str = "OssHttpTestSecret0123456789abcdef";
pub const BUCKET: &str = "bkt";
/// The emulated endpoint domain (virtual-hosted names are `<bucket>.oss-test.local`).
pub const DOMAIN: &str = "oss-test.local";
/// A custom domain bound to [`BUCKET`].
pub const CNAME: &str = "files.example.test";
pub const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// An emulator with one bucket and our credentials, served on 127.0.0.1:0; it counts the
/// TCP connections it accepts.
pub struct Env {
    pub emu: Emulator,
    pub server: RunningServer,
    pub connections: Arc<AtomicU64>,
}

impl Env {
    pub async fn start() -> Self {
        let emu = Emulator::new();
        emu.add_credentials(oss_emulator::Credentials::new(AK, SK));
        emu.add_bucket(BucketSpec::new(BUCKET)).unwrap();
        emu.add_endpoint_domain(DOMAIN);
        emu.add_cname(CNAME, BUCKET);
        let connections = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&connections);
        let server = emu
            .start_server_with("127.0.0.1:0".parse().unwrap(), "http", move |tcp| {
                counter.fetch_add(1, Ordering::SeqCst);
                async move { Ok(tcp) }
            })
            .await
            .unwrap();
        Self {
            emu,
            server,
            connections,
        }
    }

    pub fn port(&self) -> u16 {
        self.server.local_addr().port()
    }

    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }

    /// A builder for `style`, signing with `version`, with test-sized timeouts.
    pub fn builder(&self, style: AddressingStyle, version: SignatureVersion) -> ClientBuilder {
        builder_for(self.port(), style, version)
    }

    /// A built client for `style` and `version`.
    pub fn client(&self, style: AddressingStyle, version: SignatureVersion) -> Client {
        self.builder(style, version).build().unwrap()
    }
}

/// A client builder reaching `127.0.0.1:port` in `style`.
pub fn builder_for(port: u16, style: AddressingStyle, version: SignatureVersion) -> ClientBuilder {
    let b = Client::builder()
        .credentials(Credentials::new(AK, SK).unwrap())
        .region("cn-test")
        .signature_version(version)
        .connect_timeout(Duration::from_secs(2))
        .response_head_timeout(Duration::from_secs(5))
        .stall_timeout(Duration::from_secs(5));
    match style {
        AddressingStyle::Path => b.endpoint(format!("http://127.0.0.1:{port}")),
        AddressingStyle::VirtualHosted => b
            .endpoint(format!("http://{DOMAIN}:{port}"))
            .resolve(&format!("*.{DOMAIN}"), [LOCALHOST])
            .resolve(DOMAIN, [LOCALHOST]),
        AddressingStyle::Cname => b
            .endpoint(format!("http://{CNAME}:{port}"))
            .cname(true)
            .resolve(CNAME, [LOCALHOST]),
    }
}

pub const STYLES: [AddressingStyle; 3] = [
    AddressingStyle::VirtualHosted,
    AddressingStyle::Path,
    AddressingStyle::Cname,
];

pub const VERSIONS: [SignatureVersion; 2] = [SignatureVersion::V4, SignatureVersion::V1];

/// An error and every cause beneath it, `: `-separated, as a chain printer shows it.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}
