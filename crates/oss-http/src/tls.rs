//! The rustls client configuration: the ring provider only, explicitly (with another provider
//! compiled into the tree, rustls cannot pick a default and would fail at run time), safe
//! default protocol versions, and the roots the caller chose.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;

use crate::error::Error;

/// Which certificate authorities HTTPS trusts.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum TlsTrust {
    /// Mozilla's roots, compiled in (webpki-roots). The default.
    #[default]
    WebPki,
    /// The operating system's certificate store (feature `native-roots`).
    #[cfg(feature = "native-roots")]
    Native,
    /// Only these certificates (DER): a private CA, or a test's self-signed certificate.
    Only(Vec<CertificateDer<'static>>),
    /// No verification at all: any certificate, for any host, is accepted (the handshake's
    /// signatures are still checked, so the session is encrypted — to whoever answered).
    /// For a test endpoint with a self-signed certificate; anyone on the path can read and
    /// change the traffic, signed requests included. Never a default.
    InsecureAcceptAnyCertificate,
}

impl TlsTrust {
    /// The rustls client configuration this trust gives (ring provider only, safe default
    /// protocol versions): what the OSS client uses, for other HTTPS clients of the same
    /// process (oss-credentials' STS client) to trust exactly the same roots.
    ///
    /// # Errors
    /// [`Error::Config`] (`tls`) when the roots are unusable.
    pub fn client_config(&self) -> Result<rustls::ClientConfig, Error> {
        client_config(self)
    }

    /// Only the certificates of the PEM bundle at `path` (`-----BEGIN CERTIFICATE-----`
    /// blocks; anything between them is ignored, as curl's `--cacert` does).
    ///
    /// # Errors
    /// [`Error::Config`] (`tls`) naming the file: it cannot be read, a block is malformed,
    /// or it holds no certificate.
    pub fn from_pem_file(path: impl AsRef<std::path::Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| {
            Error::config(
                "tls",
                format!("cannot read the CA bundle `{}`: {e}", path.display()),
            )
        })?;
        Self::from_pem(&bytes).map_err(|problem| {
            Error::config(
                "tls",
                format!("the CA bundle `{}` {problem}", path.display()),
            )
        })
    }

    /// Only the certificates of a PEM bundle held in memory; the error says what is wrong
    /// with it (for [`TlsTrust::from_pem_file`] to name the file).
    fn from_pem(bytes: &[u8]) -> Result<Self, String> {
        use rustls::pki_types::pem::PemObject as _;
        let certs = CertificateDer::pem_slice_iter(bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("is not a valid PEM file ({e})"))?;
        if certs.is_empty() {
            return Err(
                "holds no `-----BEGIN CERTIFICATE-----` block; give a PEM file of CA certificates"
                    .to_owned(),
            );
        }
        Ok(Self::Only(certs))
    }
}

pub(crate) fn client_config(trust: &TlsTrust) -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::config("tls", format!("rustls refused its defaults: {e}")))?;
    let config = match trust {
        TlsTrust::WebPki => {
            use hyper_rustls::ConfigBuilderExt as _;
            builder.with_webpki_roots().with_no_client_auth()
        }
        #[cfg(feature = "native-roots")]
        TlsTrust::Native => {
            use hyper_rustls::ConfigBuilderExt as _;
            builder
                .with_native_roots()
                .map_err(|e| {
                    Error::config(
                        "tls",
                        format!("cannot load the system's certificate store: {e}"),
                    )
                })?
                .with_no_client_auth()
        }
        TlsTrust::Only(certs) => {
            if certs.is_empty() {
                return Err(Error::config(
                    "tls",
                    "TlsTrust::Only has no certificates, so no server could be trusted; add the CA or server certificate",
                ));
            }
            let mut roots = rustls::RootCertStore::empty();
            for (i, cert) in certs.iter().enumerate() {
                roots.add(cert.clone()).map_err(|e| {
                    Error::config("tls", format!("trusted certificate #{i} is unusable: {e}"))
                })?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        TlsTrust::InsecureAcceptAnyCertificate => {
            let schemes =
                rustls::crypto::ring::default_provider().signature_verification_algorithms;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAny { schemes }))
                .with_no_client_auth()
        }
    };
    Ok(config)
}

/// The verifier of [`TlsTrust::InsecureAcceptAnyCertificate`]: every certificate is
/// accepted; the handshake signatures are still verified with the provider's algorithms.
#[derive(Debug)]
struct AcceptAny {
    schemes: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl rustls::client::danger::ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.schemes)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.schemes)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.schemes.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_with_webpki_roots() {
        client_config(&TlsTrust::WebPki).unwrap();
    }

    #[test]
    fn refuses_empty_or_garbage_roots() {
        let e = client_config(&TlsTrust::Only(vec![])).unwrap_err();
        assert!(e.to_string().contains("no certificates"), "{e}");
        let junk = CertificateDer::from(vec![1u8, 2, 3]);
        let e = client_config(&TlsTrust::Only(vec![junk])).unwrap_err();
        assert!(e.to_string().contains("#0"), "{e}");
    }

    #[test]
    fn pem_bundles_name_the_file() {
        let dir = std::env::temp_dir().join(format!("oss-http-pem-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let e = TlsTrust::from_pem_file(&missing).unwrap_err().to_string();
        assert!(
            e.contains("missing.pem") && e.contains("cannot read"),
            "{e}"
        );
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = TlsTrust::from_pem_file(&empty).unwrap_err().to_string();
        assert!(
            e.contains("empty.pem") && e.contains("no `-----BEGIN CERTIFICATE"),
            "{e}"
        );
        let broken = dir.join("broken.pem");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let e = TlsTrust::from_pem_file(&broken).unwrap_err().to_string();
        assert!(
            e.contains("broken.pem") && e.contains("not a valid PEM"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
        client_config(&TlsTrust::InsecureAcceptAnyCertificate).unwrap();
    }
}
