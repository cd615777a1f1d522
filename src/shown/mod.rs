//! What of a value may be shown, decided by its declared type, never by how it looks.
//!
//! A value reaches `Display`, `Debug`, an error, a log or `hero`'s output only when its declared
//! type says it cannot carry patient data, and only in the form that type declares; everything
//! else is masked (its length or kind may be shown, never its text):
//!
//! - patient data is held in [`Sensitive`] (and the checked values of `crate::validate`), which
//!   print [`REDACTED`];
//! - an id is shown only in the form `openapi.yaml` declares for its kind ([`ids`]: a message id
//!   is one to nine digits, an attachment's a UUID); any other text in an id field is kept whole
//!   for further calls and shown as `…`;
//! - an enum value is shown when the spec declares it, else as `unknown(N chars)`
//!   (`crate::enums`);
//! - a body excerpt keeps JSON punctuation and the keys the spec declares ([`body`]); Hero's own
//!   message is shown only as a phrase the spec declares ([`hero`]);
//! - the generated types show each field by its declared type as [`Shown`], the JSON `hero`
//!   prints, and their `Debug` prints that same value ([`debug`]);
//! - a lower layer's error (serde, reqwest, h2) is never parsed, rewritten or shown: errors are
//!   built from structure (JSON path, category, operation, status).
//!
//! Libraries below the crate log on their own: [`log_directives`] caps them.

pub(crate) mod body;
pub(crate) mod debug;
pub(crate) mod hero;
pub mod ids;
pub(crate) mod json;
mod sensitive;

pub use json::Shown;
pub use sensitive::Sensitive;
pub(crate) use sensitive::text;

/// The text every redacting `Debug`/`Display` impl of this crate prints instead of a value.
pub const REDACTED: &str = "<redacted>";

/// What an id that does not have its declared form prints as.
pub const MASKED_ID: &str = "…";

/// The log targets below this crate that can log what passes through them (headers, URLs, frames,
/// statement parameters: an API key, a patient's name), each turned off by [`log_directives`].
pub const CAPPED_LOG_TARGETS: &[&str] = &[
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
    "rustls",
    "tokio_postgres",
    "postgres",
    "axum",
    "tower",
    "tower_http",
];

/// `tracing_subscriber::EnvFilter` directives: `default` (for example `info`, or
/// `herohealth=trace`), then every target of [`CAPPED_LOG_TARGETS`] turned off. The crate's own
/// events never carry patient data; the libraries below it log what passes through them at
/// `debug` and `trace` (tokio_postgres every statement's parameters, h2 and hyper headers and
/// frames), and even their warnings quote what a server sent (hyper an illegal `Content-Length`
/// value, h2 a `PING` payload), so a filter that lets any of those through shows what it holds.
///
/// ```
/// let directives = herohealth::log_directives("herohealth=trace");
/// assert!(directives.starts_with("herohealth=trace,"));
/// assert!(directives.contains("tokio_postgres=off"));
/// // tracing_subscriber::EnvFilter::new(directives)
/// ```
pub fn log_directives(default: &str) -> String {
    let mut out = default.trim().to_owned();
    for target in CAPPED_LOG_TARGETS {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(target);
        out.push_str("=off");
    }
    out
}

/// A value shown by its length only: `…(17 chars)`.
pub(crate) fn by_length(text: &str) -> String {
    format!("…({} chars)", text.chars().count())
}

#[cfg(test)]
mod tests {
    #[test]
    fn directives_cap_every_target_after_the_default() {
        let d = super::log_directives(" info ");
        assert!(d.starts_with("info,hyper=off,"), "{d}");
        assert_eq!(d.matches("=off").count(), super::CAPPED_LOG_TARGETS.len());
        assert_eq!(
            super::log_directives("").split(',').next(),
            Some("hyper=off")
        );
        assert_eq!(super::by_length("Ada Lové"), "…(8 chars)");
    }
}
