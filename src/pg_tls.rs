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
        let config = match self.mode {
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
                let chain = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .context("TLS setup")?;
                let verifier: Arc<dyn ServerCertVerifier> = if self.mode == SslMode::VerifyFull {
                    chain
                } else {
                    Arc::new(ChainOnly(chain))
                };
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(verifier)
                    .with_no_client_auth()
            }
            _ => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Unchecked(provider)))
                .with_no_client_auth(),
        };
        Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
    }
}

/// `verify-ca`: the chain must lead to a trusted authority; the name on the
/// certificate is not compared with the host.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `require` and `prefer`: encrypted, the certificate not checked (libpq's
/// meaning; use `verify-full` to know whom you talk to). Signatures are
/// still checked, so the handshake is sound.
#[derive(Debug)]
struct Unchecked(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
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
