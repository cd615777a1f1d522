//! Where a [`PgJournal`](super::PgJournal) connects and how: the connection string, with
//! libpq's `sslmode` (`disable`, `prefer`, `require`, `verify-ca`, `verify-full`) and
//! `sslrootcert` (a CA file, or `system`) read here, and TLS by rustls.
//!
//! | `sslmode` | TLS | the server's certificate |
//! | --- | --- | --- |
//! | `disable` | never | – |
//! | `prefer` (the default, as libpq's) | when the server offers it | not checked |
//! | `require` | always | not checked (checked as `verify-ca` when `sslrootcert` is given) |
//! | `verify-ca` | always | issued by the CA (`sslrootcert`) |
//! | `verify-full` | always | issued by the CA, for the host connected to |
//!
//! `verify-full` is the setting for a database on another machine: the others protect against
//! a listener, not against a machine that pretends to be the database. Nothing of the connection
//! string is ever shown in an error (it can hold a password).

use std::{fmt, sync::Arc};

use rustls::{
    DigitallySignedStruct, SignatureScheme,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject},
};
use tokio_postgres::config::SslMode as DriverSslMode;

use crate::journal::JournalError;

/// libpq's `sslmode`, all of it that a client without a client certificate uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<SslMode, JournalError> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => {
                return Err(JournalError::Config(
                    "sslmode must be disable, prefer, require, verify-ca or verify-full".into(),
                ));
            }
        })
    }

    /// Whether a connection without TLS is refused.
    pub(crate) fn requires_tls(self) -> bool {
        matches!(
            self,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull
        )
    }
}

/// A parsed connection string: the driver's configuration and the TLS to use with it.
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) config: tokio_postgres::Config,
    pub(crate) mode: SslMode,
    /// The rustls connector (`None`: `sslmode=disable`).
    pub(crate) tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    /// Whether the application name is ours (not the connection string's).
    named: bool,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The configuration holds the password: only the mode is shown.
        f.debug_struct("Target")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl Target {
    /// Parses `url` (`postgres://user@host:port/db?sslmode=verify-full&sslrootcert=ca.pem`, or
    /// the key=value form), reading the CA file it names.
    pub(crate) fn parse(url: &str) -> Result<Target, JournalError> {
        let (rest, mode, root) = split_tls_options(url)?;
        let mut config: tokio_postgres::Config = rest.parse().map_err(|_| {
            JournalError::Config("the PostgreSQL connection string does not parse".into())
        })?;
        // libpq's rule: `require` with a CA file checks the certificate as `verify-ca` does.
        let mode = match (mode.unwrap_or(SslMode::Prefer), &root) {
            (SslMode::Require, Some(_)) => SslMode::VerifyCa,
            (mode, _) => mode,
        };
        config.ssl_mode(match mode {
            SslMode::Disable => DriverSslMode::Disable,
            SslMode::Prefer => DriverSslMode::Prefer,
            _ => DriverSslMode::Require,
        });
        let tls = match mode {
            SslMode::Disable => None,
            mode => Some(tokio_postgres_rustls::MakeRustlsConnect::new(
                client_config(mode, root.as_deref())?,
            )),
        };
        Ok(Target {
            config,
            mode,
            tls,
            named: false,
        })
    }
}

impl Target {
    /// The same target, its connections named `herohealth-outbox LINK WORKER` in
    /// `pg_stat_activity` (unless the connection string names them).
    pub(crate) fn named(mut self, link: &str, worker: &str) -> Target {
        if self.config.get_application_name().is_none() || self.named {
            self.config
                .application_name(format!("herohealth-outbox {link} {worker}"));
            self.named = true;
        }
        self
    }
}

/// The connection string without `sslmode` and `sslrootcert` (which the driver does not read
/// as libpq does), and their values.
fn split_tls_options(url: &str) -> Result<(String, Option<SslMode>, Option<String>), JournalError> {
    let (mut mode, mut root) = (None, None);
    let mut take = |key: &str, value: String| -> Result<bool, JournalError> {
        match key {
            "sslmode" => mode = Some(SslMode::parse(&value)?),
            "sslrootcert" => root = Some(value),
            _ => return Ok(false),
        }
        Ok(true)
    };
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some((base, query)) = url.split_once('?') else {
            return Ok((url.to_owned(), None, None));
        };
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if !take(&percent_decode(key)?, percent_decode(value)?)? {
                kept.push(pair);
            }
        }
        let rest = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return Ok((rest, mode, root));
    }
    // key=value pairs, a value 'quoted' (with \' and \\ inside) or bare.
    let mut kept = String::new();
    let mut chars = url.trim().chars().peekable();
    while chars.peek().is_some() {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && !c.is_whitespace())).collect();
        if key.is_empty() {
            break;
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(JournalError::Config(
                "the PostgreSQL connection string does not parse".into(),
            ));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut raw = String::new();
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            raw.push('\'');
            loop {
                match chars.next() {
                    Some('\\') => {
                        let c = chars.next().ok_or_else(|| {
                            JournalError::Config(
                                "the PostgreSQL connection string does not parse".into(),
                            )
                        })?;
                        raw.extend(['\\', c]);
                        value.push(c);
                    }
                    Some('\'') => {
                        raw.push('\'');
                        break;
                    }
                    Some(c) => {
                        raw.push(c);
                        value.push(c);
                    }
                    None => {
                        return Err(JournalError::Config(
                            "the PostgreSQL connection string does not parse".into(),
                        ));
                    }
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                raw.push(c);
                value.push(c);
            }
        }
        if !take(&key, value)? {
            kept.push_str(&format!("{key}={raw} "));
        }
    }
    Ok((kept.trim_end().to_owned(), mode, root))
}

fn percent_decode(s: &str) -> Result<String, JournalError> {
    let bad = || JournalError::Config("the PostgreSQL connection string does not parse".into());
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex = [bytes.next().ok_or_else(bad)?, bytes.next().ok_or_else(bad)?];
            let hex = std::str::from_utf8(&hex).map_err(|_| bad())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

/// The process's rustls provider when it installed one, else ring.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

/// The CA certificates `sslrootcert` names: a PEM file, or `system` (the platform's roots).
fn roots(root: &str) -> Result<rustls::RootCertStore, JournalError> {
    let mut store = rustls::RootCertStore::empty();
    let certs: Vec<CertificateDer<'static>> = if root == "system" {
        rustls_native_certs::load_native_certs().certs
    } else {
        CertificateDer::pem_file_iter(root)
            .map_err(|_| {
                JournalError::Config(
                    "the CA file given as sslrootcert cannot be read as PEM certificates".into(),
                )
            })?
            .collect::<Result<_, _>>()
            .map_err(|_| {
                JournalError::Config(
                    "the CA file given as sslrootcert cannot be read as PEM certificates".into(),
                )
            })?
    };
    let (added, _) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(JournalError::Config(
            "the CA file given as sslrootcert holds no usable certificate".into(),
        ));
    }
    Ok(store)
}

fn client_config(mode: SslMode, root: Option<&str>) -> Result<rustls::ClientConfig, JournalError> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|_| JournalError::Config("TLS: no protocol version in common".into()))?;
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let root = root.ok_or_else(|| {
                JournalError::Config(format!(
                    "sslmode={} needs the CA that issued the server's certificate: add sslrootcert=FILE (or sslrootcert=system) to the connection string",
                    if mode == SslMode::VerifyCa { "verify-ca" } else { "verify-full" }
                ))
            })?;
            let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots(root)?),
                provider,
            )
            .build()
            .map_err(|_| {
                JournalError::Config(
                    "the CA file given as sslrootcert holds no usable certificate".into(),
                )
            })?;
            if mode == SslMode::VerifyFull {
                webpki
            } else {
                Arc::new(AnyName(webpki))
            }
        }
        _ => Arc::new(Unchecked(provider)),
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// `verify-ca`: the certificate must be issued by the CA, for any host name.
#[derive(Debug)]
struct AnyName(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
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

/// `prefer` and `require` (as libpq's): encrypted, the certificate not checked; the handshake's
/// signatures still are.
#[derive(Debug)]
struct Unchecked(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
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

/// What a rustls error says about the server, from its kind only.
pub(crate) fn tls_reason(e: &rustls::Error) -> &'static str {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => {
                "TLS: the server's certificate was not issued by the CA (sslrootcert)"
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "TLS: the server's certificate is not for the host connected to (sslmode=verify-full)"
            }
            C::Expired | C::ExpiredContext { .. } => "TLS: the server's certificate has expired",
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "TLS: the server's certificate is not valid yet"
            }
            C::Revoked => "TLS: the server's certificate is revoked",
            _ => "TLS: the server's certificate was refused",
        },
        rustls::Error::AlertReceived(_) => "TLS: the server refused the handshake",
        _ => "TLS: the handshake failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_read_from_both_forms_and_the_rest_kept() {
        let (rest, mode, root) =
            split_tls_options("postgres://u:p%40ss@db:5433/outbox?sslmode=verify-full&application_name=w&sslrootcert=%2Ftmp%2Fca%20x.pem")
                .unwrap();
        assert_eq!(
            rest,
            "postgres://u:p%40ss@db:5433/outbox?application_name=w"
        );
        assert_eq!(mode, Some(SslMode::VerifyFull));
        assert_eq!(root.as_deref(), Some("/tmp/ca x.pem"));
        let (rest, mode, root) = split_tls_options(
            "host=db user=u sslmode=require password='a b\\'c' sslrootcert = '/ca.pem'",
        )
        .unwrap();
        assert_eq!(rest, "host=db user=u password='a b\\'c'");
        assert_eq!(mode, Some(SslMode::Require));
        assert_eq!(root.as_deref(), Some("/ca.pem"));
        let (rest, mode, _) = split_tls_options("postgresql://db/outbox").unwrap();
        assert_eq!((rest.as_str(), mode), ("postgresql://db/outbox", None));
        // What remains parses as the driver reads it.
        let t = Target::parse("host=db user=u sslmode=disable password='a b'").unwrap();
        assert_eq!(t.mode, SslMode::Disable);
        assert!(t.tls.is_none());
        assert_eq!(t.config.get_password(), Some(&b"a b"[..]));
    }

    #[test]
    fn a_bad_mode_or_a_missing_ca_is_refused_without_showing_the_string() {
        for url in [
            "postgres://u:hunter2@db/x?sslmode=allow",
            "postgres://u:hunter2@db/x?sslmode=verify-full",
            "postgres://u:hunter2@db/x?sslmode=verify-ca",
            "postgres://u:hunter2@db/x?sslmode=require&sslrootcert=/nonexistent/hunter2.pem",
            "host=db password=hunter2 sslmode='unterminated",
            "postgres://u:hunter2@db/x?sslmode=%zz",
        ] {
            let err = Target::parse(url).unwrap_err();
            assert!(matches!(err, JournalError::Config(_)), "{url}: {err:?}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
        assert_eq!(
            Target::parse("postgres://db/x?sslmode=require")
                .unwrap()
                .mode,
            SslMode::Require
        );
        assert_eq!(
            Target::parse("postgres://db/x").unwrap().mode,
            SslMode::Prefer,
            "libpq's default"
        );
        assert!(
            format!("{:?}", Target::parse("postgres://u:hunter2@db/x").unwrap())
                .find("hunter2")
                .is_none()
        );
    }
}
