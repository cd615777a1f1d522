//! A PostgreSQL failure told from its structure, never from its text (a database's message can
//! quote a row's values): what went wrong, whether the connection is lost, whether a failure to
//! connect may pass.

use std::error::Error as StdError;

use tokio_postgres::error::SqlState;

use super::super::tls::{SslMode, tls_reason};
use crate::journal::JournalError;

/// A PostgreSQL error as text that holds no value: what was being done and the SQLSTATE (a
/// database's own message can quote a row's values, such as a patient id in a key that
/// conflicts), or the kind of failure.
pub(crate) fn pg_error(what: &str, e: &tokio_postgres::Error) -> JournalError {
    JournalError::Storage(format!("{what}: {}", reason(e)))
}

/// What went wrong, from the error's structure: the SQLSTATE, the I/O error's kind, or the
/// closed connection.
pub(super) fn reason(e: &tokio_postgres::Error) -> String {
    if let Some(code) = e.code() {
        return format!("postgres error {}", code.code());
    }
    if let Some(io) = io_source(e) {
        return io_reason(io);
    }
    if e.is_closed() {
        return "the connection was closed".into();
    }
    "the server's answer could not be used".into()
}

pub(super) fn io_source(e: &tokio_postgres::Error) -> Option<&std::io::Error> {
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        source = s.source();
    }
    None
}

pub(super) fn io_reason(io: &std::io::Error) -> String {
    if let Some(tls) = io
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return tls_reason(tls).to_owned();
    }
    // The kind's name (`connection refused`), never the OS's text (it can name a path).
    let kind = format!("{:?}", io.kind());
    let mut words = String::new();
    for c in kind.chars() {
        if c.is_uppercase() && !words.is_empty() {
            words.push(' ');
        }
        words.push(c.to_ascii_lowercase());
    }
    words
}

/// Whether a statement's failure means the connection is gone (run it again on a new one).
pub(super) fn is_lost(e: &tokio_postgres::Error) -> bool {
    if let Some(code) = e.code() {
        let c = code.code();
        return c.starts_with("08")
            || c.starts_with("53")
            || [
                SqlState::ADMIN_SHUTDOWN,
                SqlState::CRASH_SHUTDOWN,
                SqlState::CANNOT_CONNECT_NOW,
            ]
            .contains(code);
    }
    e.is_closed() || io_source(e).is_some()
}

/// Whether a failure to connect may pass (the server is restarting, the network is down)
/// rather than being the configuration's (a password, a database that does not exist, TLS).
pub(super) fn may_pass(e: &tokio_postgres::Error) -> bool {
    if e.code().is_some() {
        return is_lost(e);
    }
    match io_source(e) {
        Some(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .is_none(),
        None => e.is_closed(),
    }
}

/// A failure to connect, described from its structure.
pub(super) fn connect_failure(e: &tokio_postgres::Error, mode: SslMode) -> String {
    if let Some(code) = e.code() {
        let meaning = match code.code() {
            "28P01" => ": the password was refused",
            "28000" => ": the server does not let this role connect from here (pg_hba.conf)",
            "3D000" => ": the database does not exist",
            "42501" => ": the role may not connect",
            "57P03" => ": the server is starting or stopping",
            "53300" => ": the server has too many connections",
            _ => "",
        };
        return format!("postgres error {}{meaning}", code.code());
    }
    if io_source(e).is_some() || e.is_closed() {
        return reason(e);
    }
    if mode.requires_tls() {
        "TLS could not be set up (does the server offer TLS? sslmode requires it)".into()
    } else {
        "the server's answer to connecting could not be used (its authentication method?)".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_io_error_is_named_by_its_kind() {
        let e = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "/secret/path");
        assert_eq!(io_reason(&e), "connection refused");
    }
}
