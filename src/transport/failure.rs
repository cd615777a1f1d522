//! A transport failure in the crate's own words. A lower layer's `Display` is never shown: h2's
//! includes the GOAWAY frame's debug data and reqwest's a URL, both chosen by whoever is on the
//! other end. The failure is classified by the types in its source chain instead.

use crate::error::ErrorKind;

/// The kind of a transport failure and the crate's own description of it.
pub(crate) fn classify(e: &reqwest::Error) -> (ErrorKind, String) {
    let mut io_kind = None;
    let mut h2 = None;
    let mut hyper_incomplete = false;
    let mut hyper_parse = false;
    // A TLS library's own error in the chain (native-tls; rustls's is an `InvalidData` io error).
    let mut tls_failed = false;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            // An io::Error may wrap another (rustls's InvalidData inside hyper's Other), which
            // the chain of `source()`s skips: the most specific kind is the innermost.
            let mut io = io;
            while let Some(inner) = io
                .get_ref()
                .and_then(|e| e.downcast_ref::<std::io::Error>())
            {
                io = inner;
            }
            if io_kind.is_none_or(|k| k == std::io::ErrorKind::Other) {
                io_kind = Some(io.kind());
            }
        }
        if let Some(h) = c.downcast_ref::<h2::Error>() {
            h2.get_or_insert((h.reason(), h.is_go_away(), h.is_reset(), h.is_remote()));
        }
        tls_failed |= is_tls_error(c);
        if let Some(h) = c.downcast_ref::<hyper::Error>() {
            hyper_incomplete |= h.is_incomplete_message();
            hyper_parse |= h.is_parse() || h.is_parse_status();
        }
        cause = c.source();
    }
    use std::io::ErrorKind as Io;
    if e.is_timeout() || io_kind == Some(Io::TimedOut) {
        let what = if e.is_connect() {
            "no connection within the connect timeout"
        } else {
            "no answer within the attempt's timeout"
        };
        return (ErrorKind::Timeout, what.to_owned());
    }
    if let Some((reason, go_away, reset, remote)) = h2 {
        let frame = if go_away {
            "GOAWAY"
        } else if reset {
            "RST_STREAM"
        } else {
            "error"
        };
        let by = if remote {
            "from the server"
        } else {
            "detected"
        };
        let code = reason.map_or_else(|| "no code".to_owned(), |r| format!("{r:?}"));
        return (
            ErrorKind::Connection,
            format!("HTTP/2 {frame} {by} ({code})"),
        );
    }
    // Only what can be told apart from the types; anything else is named generally.
    let message = match io_kind {
        Some(Io::ConnectionRefused) => "connection refused",
        Some(Io::ConnectionReset | Io::ConnectionAborted) => "connection reset by the server",
        Some(Io::InvalidData) if e.is_connect() => "TLS handshake failed",
        Some(Io::UnexpectedEof) => "connection closed before the answer was complete",
        _ if tls_failed && e.is_connect() => "TLS handshake failed",
        _ if hyper_incomplete => "connection closed before the answer was complete",
        _ if hyper_parse => "the server's answer was not valid HTTP",
        _ if e.is_connect() => "could not connect (name resolution, TCP or TLS failed)",
        _ => "the exchange with Hero failed",
    };
    (ErrorKind::Connection, message.to_owned())
}

/// Whether `c` is a TLS library's own error: native-tls's (OpenSSL, SChannel, Security framework).
/// rustls's reaches the chain as an `InvalidData` io error, read as such in [`classify`].
fn is_tls_error(c: &(dyn std::error::Error + 'static)) -> bool {
    #[cfg(feature = "native-tls")]
    if c.downcast_ref::<native_tls::Error>().is_some() {
        return true;
    }
    let _ = c;
    false
}

/// Whether the failure proves the request was never written: the connection could not be made.
pub(crate) fn never_written(e: &reqwest::Error) -> bool {
    e.is_connect()
}
