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
    };
    Ok(config)
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
}
