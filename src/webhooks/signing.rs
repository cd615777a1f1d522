//! Signing a delivery: the HMAC-SHA256 over `"{timestamp}.{body}"`, how a signature and a
//! timestamp are written, and a key's tag.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{KeyInit, Mac};

use super::SigningKey;
#[cfg(doc)]
use super::Verifier;

pub(super) type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// HMAC-SHA256 keyed with `key`.
pub(super) fn mac(key: &SigningKey) -> HmacSha256 {
    // HMAC takes a key of any length: this never fails.
    <HmacSha256 as KeyInit>::new_from_slice(key.expose().as_bytes())
        .expect("HMAC accepts a key of any length")
}

/// How a signature is written: Hero does not say, so [`Verifier`] accepts both; [`sign`] writes
/// either (for your own tests, and for herohealth-mock).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SignatureEncoding {
    /// 64 lower-case hex digits.
    #[default]
    Hex,
    /// Standard base64, padded (44 characters).
    Base64,
}

/// How a timestamp is written: Hero does not say, so [`Verifier`] reads all three.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TimestampFormat {
    /// Seconds since the Unix epoch (`1700000000`).
    #[default]
    UnixSeconds,
    /// Milliseconds since the Unix epoch (`1700000000000`).
    UnixMillis,
    /// RFC 3339 (`2023-11-14T22:13:20Z`).
    Rfc3339,
}

impl TimestampFormat {
    /// `at` as this format writes it.
    ///
    /// ```
    /// use herohealth::webhooks::TimestampFormat;
    /// let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    /// assert_eq!(TimestampFormat::UnixSeconds.format(at), "1700000000");
    /// assert_eq!(TimestampFormat::UnixMillis.format(at), "1700000000000");
    /// assert_eq!(TimestampFormat::Rfc3339.format(at), "2023-11-14T22:13:20Z");
    /// ```
    pub fn format(self, at: DateTime<Utc>) -> String {
        match self {
            Self::UnixSeconds => at.timestamp().to_string(),
            Self::UnixMillis => at.timestamp_millis().to_string(),
            Self::Rfc3339 => at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        }
    }
}

/// The signature Hero would send for `body` signed at `timestamp` (the timestamp header's text):
/// HMAC-SHA256 with `key` over `"{timestamp}.{body}"`, written in `encoding`. For tests of your
/// own handler, and for herohealth-mock's deliveries.
///
/// ```
/// use herohealth::webhooks::{SignatureEncoding, SigningKey, sign};
/// let key: SigningKey = "whsec-example".parse().unwrap();
/// let hex = sign(&key, "1700000000", br#"{"id":"1"}"#, SignatureEncoding::Hex);
/// assert_eq!(hex.len(), 64);
/// let b64 = sign(&key, "1700000000", br#"{"id":"1"}"#, SignatureEncoding::Base64);
/// assert_eq!(b64.len(), 44);
/// ```
pub fn sign(key: &SigningKey, timestamp: &str, body: &[u8], encoding: SignatureEncoding) -> String {
    let mut mac = mac(key);
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    match encoding {
        SignatureEncoding::Hex => hex::encode(tag),
        SignatureEncoding::Base64 => base64::engine::general_purpose::STANDARD.encode(tag),
    }
}

/// A short public name for a signing key: 16 hex digits, the start of HMAC-SHA256 keyed with the
/// key over a fixed text. It tells keys apart in a log (which key verified a delivery, as
/// `hero webhooks listen --seen-log` records) without the key: it says no more about the key than
/// any signed delivery already does.
///
/// ```
/// use herohealth::webhooks::{SigningKey, key_tag};
/// let key: SigningKey = "whsec-example".parse().unwrap();
/// let tag = key_tag(&key);
/// assert_eq!(tag.len(), 16);
/// assert_ne!(tag, key_tag(&"whsec-other".parse().unwrap()));
/// assert!(!tag.contains("whsec"));
/// ```
pub fn key_tag(key: &SigningKey) -> String {
    let mut mac = mac(key);
    mac.update(b"herohealth webhook signing key tag v1");
    hex::encode(&mac.finalize().into_bytes()[..8])
}
