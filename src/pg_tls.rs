//! TLS to PostgreSQL, as libpq reads it from the connection URL:
//! `sslmode` (`disable`, `prefer`, `require`, `verify-ca`, `verify-full`)
//! and `sslrootcert` (a PEM file of the certificate authorities to trust).
//! tokio-postgres knows only `disable`, `prefer` and `require`, and no
//! `sslrootcert`; both are taken out of the URL here and the verification
//! is rustls's: `verify-full` checks the chain and the host name,
//! `verify-ca` the chain only, `require` and `prefer` encrypt without
//! checking (libpq's meaning of them).

use std::sync::Arc;

use anyhow::{bail, Context};
use rustls::{
    client::{
        danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
        WebPkiServerVerifier,
    },
    pki_types::{CertificateDer, ServerName, UnixTime},
    DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;

/// How much of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// A connection URL split into what tokio-postgres reads and the TLS it
/// needs.
#[derive(Debug, Clone)]
pub struct Target {
    /// The URL without `sslrootcert`, with an `sslmode` tokio-postgres knows.
    pub url: String,
    pub mode: SslMode,
    root_cert: Option<String>,
}

impl Target {
    /// Reads `sslmode` (default `prefer`, as libpq) and `sslrootcert`; a
    /// bad mode or a `verify-*` mode without `sslrootcert` is an error that
    /// says what to write.
    pub fn parse(url: &str) -> anyhow::Result<Target> {
        let mut parsed = url::Url::parse(url).context("database.url is not a URL")?;
        let mut mode = SslMode::Prefer;
        let mut root_cert = None;
        let mut kept = Vec::new();
        for (key, value) in parsed.query_pairs() {
            match key.as_ref() {
                "sslmode" => {
                    mode = match value.as_ref() {
                        "disable" => SslMode::Disable,
                        "prefer" => SslMode::Prefer,
                        "require" => SslMode::Require,
                        "verify-ca" => SslMode::VerifyCa,
                        "verify-full" => SslMode::VerifyFull,
                        other => bail!(
                            "database.url: sslmode={other} is not one of disable, prefer, \
                             require, verify-ca, verify-full"
                        ),
                    }
                }
                "sslrootcert" => root_cert = Some(value.into_owned()),
                _ => kept.push((key.into_owned(), value.into_owned())),
            }
        }
        if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) && root_cert.is_none() {
            bail!("database.url: sslmode=verify-ca and verify-full need sslrootcert=<a PEM file of the CA>");
        }
        let wire = match mode {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            _ => "require",
        };
        kept.push(("sslmode".into(), wire.into()));
        parsed.query_pairs_mut().clear().extend_pairs(kept);
        Ok(Target {
            url: parsed.to_string(),
            mode,
            root_cert,
        })
    }

    /// The rustls connector of this target's mode.
    pub fn connector(&self) -> anyhow::Result<tokio_postgres_rustls::MakeRustlsConnect> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .context("TLS setup")?;
        let verifier = match self.mode {
            SslMode::VerifyFull | SslMode::VerifyCa => {
                let path = self.root_cert.as_deref().unwrap_or_default();
                let mut roots = RootCertStore::empty();
                for cert in CertificateDer::pem_file_iter(path)
                    .with_context(|| format!("database.url: sslrootcert {path} cannot be read"))?
                {
                    roots
                        .add(cert.with_context(|| format!("database.url: sslrootcert {path}"))?)
                        .with_context(|| format!("database.url: sslrootcert {path}"))?;
                }
                let chain =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .context("TLS setup")?;
                Verifier {
                    chain: Some(chain),
                    check_name: self.mode == SslMode::VerifyFull,
                    provider,
                }
            }
            _ => Verifier {
                chain: None,
                check_name: false,
                provider,
            },
        };
        let config = builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
    }
}

/// What a mode checks of the server's certificate: the chain to a trusted
/// authority (`verify-ca`, `verify-full`), and the host name
/// (`verify-full`); `require` and `prefer` check neither (libpq's meaning;
/// use `verify-full` to know whom you talk to). Handshake signatures are
/// always checked, so the session is sound.
#[derive(Debug)]
struct Verifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    check_name: bool,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_read_from_the_url_and_bad_ones_named() {
        let t = Target::parse("postgres://u@db.example/m?sslmode=verify-full&sslrootcert=/ca.pem")
            .unwrap();
        assert_eq!(t.mode, SslMode::VerifyFull);
        assert_eq!(t.url, "postgres://u@db.example/m?sslmode=require");
        let t = Target::parse("postgres://u@db.example/m").unwrap();
        assert_eq!(t.mode, SslMode::Prefer);
        let bad = Target::parse("postgres://u@db.example/m?sslmode=always").unwrap_err();
        assert!(bad.to_string().contains("sslmode=always"), "{bad}");
        let no_ca = Target::parse("postgres://u@db.example/m?sslmode=verify-ca").unwrap_err();
        assert!(no_ca.to_string().contains("sslrootcert"), "{no_ca}");
    }
}
