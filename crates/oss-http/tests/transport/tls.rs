//! Real TLS: the streaming emulator behind a certificate made in the test, hyper-rustls
//! trusting only its CA; a certificate from another CA fails as a TLS error.

use std::sync::Arc;

use oss_emulator::{Emulator, ObjectSpec, RunningServer};
use oss_http::{
    AddressingStyle, ByteRange, CertificateDer, Client, Collect, Crc64, Credentials, Error,
    GetRange, SignatureVersion, TlsTrust,
};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use crate::common::{AK, BUCKET, CNAME, DOMAIN, LOCALHOST, SK};

/// A CA and a server certificate it signed for the test names.
struct Pki {
    ca: CertificateDer<'static>,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: rustls::pki_types::PrivateKeyDer<'static>,
}

fn make_pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let names = vec![
        format!("*.{DOMAIN}"),
        DOMAIN.to_owned(),
        CNAME.to_owned(),
        "127.0.0.1".to_owned(),
    ];
    let server_key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(names)
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    Pki {
        ca: ca.der().clone(),
        server_chain: vec![cert.der().clone()],
        server_key: rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
    }
}

async fn tls_server(emu: &Emulator, pki: &Pki) -> RunningServer {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(pki.server_chain.clone(), pki.server_key.clone_key())
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    emu.start_server_with("127.0.0.1:0".parse().unwrap(), "https", move |tcp| {
        let acceptor = acceptor.clone();
        async move { acceptor.accept(tcp).await }
    })
    .await
    .unwrap()
}

fn client(port: u16, style: AddressingStyle, trust: TlsTrust) -> Client {
    let b = Client::builder()
        .credentials(Credentials::new(AK, SK).unwrap())
        .region("cn-test")
        .signature_version(SignatureVersion::V4)
        .tls_trust(trust);
    match style {
        AddressingStyle::VirtualHosted => b
            .endpoint(format!("https://{DOMAIN}:{port}"))
            .resolve(&format!("*.{DOMAIN}"), [LOCALHOST]),
        AddressingStyle::Cname => b
            .endpoint(format!("https://{CNAME}:{port}"))
            .cname(true)
            .resolve(CNAME, [LOCALHOST]),
        AddressingStyle::Path => b.endpoint(format!("https://127.0.0.1:{port}")),
    }
    .build()
    .unwrap()
}

#[tokio::test]
async fn downloads_over_tls_trusting_only_the_test_ca() {
    let emu = Emulator::new();
    emu.add_credentials(oss_emulator::Credentials::new(AK, SK));
    emu.add_bucket(oss_emulator::BucketSpec::new(BUCKET))
        .unwrap();
    emu.add_endpoint_domain(DOMAIN);
    emu.add_cname(CNAME, BUCKET);
    let bytes: Vec<u8> = (0..500_000u32).map(|i| (i % 253) as u8).collect();
    emu.put_object(BUCKET, "secure.bin", ObjectSpec::bytes(bytes.clone()))
        .unwrap();
    let pki = make_pki();
    let server = tls_server(&emu, &pki).await;
    let port = server.local_addr().port();
    assert!(server.endpoint().starts_with("https://"));

    for style in [
        AddressingStyle::VirtualHosted,
        AddressingStyle::Cname,
        AddressingStyle::Path,
    ] {
        let client = client(port, style, TlsTrust::Only(vec![pki.ca.clone()]));
        let pin = client
            .head_object(BUCKET, "secure.bin", None)
            .await
            .unwrap()
            .pin();
        let mut sink = Collect::default();
        let mut crc = Crc64::new();
        client
            .get_range(
                &GetRange::new(
                    BUCKET,
                    "secure.bin",
                    &pin,
                    ByteRange::inclusive(1, 499_999).unwrap(),
                ),
                &mut sink,
                Some(&mut crc),
            )
            .await
            .unwrap_or_else(|e| panic!("{style}: {e}"));
        assert_eq!(sink.data, bytes[1..]);
    }

    // A client trusting another CA refuses the server: a TLS error, not retryable.
    let other = make_pki();
    let wrong = client(
        port,
        AddressingStyle::VirtualHosted,
        TlsTrust::Only(vec![other.ca]),
    );
    let e = wrong
        .head_object(BUCKET, "secure.bin", None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Tls { .. }), "{e:?}");
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("certificate"), "{e}");

    // The default (webpki) roots do not know our CA either.
    let default = client(port, AddressingStyle::VirtualHosted, TlsTrust::WebPki);
    let e = default
        .head_object(BUCKET, "secure.bin", None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Tls { .. }), "{e:?}");

    // A name the certificate does not cover.
    let misnamed = Client::builder()
        .endpoint(format!("https://oss.elsewhere.test:{port}"))
        .resolve("*.oss.elsewhere.test", [LOCALHOST])
        .anonymous()
        .tls_trust(TlsTrust::Only(vec![pki.ca.clone()]))
        .build()
        .unwrap();
    let e = misnamed
        .head_object(BUCKET, "secure.bin", None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Tls { .. }), "{e:?}");
}

#[tokio::test]
async fn a_tls_handshake_that_never_answers_is_a_head_timeout() {
    // Accepts TCP and says nothing: the handshake waits; the response-head timeout covers it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    let client = Client::builder()
        .endpoint(format!("https://127.0.0.1:{port}"))
        .anonymous()
        .connect_timeout(std::time::Duration::from_millis(200))
        .response_head_timeout(std::time::Duration::from_millis(400))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
    assert!(matches!(e, Error::HeadTimeout { .. }), "{e:?}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    holder.abort();
}
