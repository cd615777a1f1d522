//! The one place that knows Hero's auth headers: `x-api-key` and `x-practice-group-id`.
//!
//! Both values are held as sensitive [`HeaderValue`]s: their `Debug` prints `Sensitive`, HTTP/2
//! never indexes them, and [`Credentials`]' own `Debug` shows neither.

use std::fmt;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::Error;

/// Header carrying the partner API key (security scheme `apiKeyAuth`).
pub const API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");
/// Header carrying the practice group id (security scheme `practiceGroupId`).
pub const PRACTICE_GROUP_ID_HEADER: HeaderName = HeaderName::from_static("x-practice-group-id");

/// An API key and the practice group it acts for.
#[derive(Clone)]
pub(crate) struct Credentials {
    api_key: HeaderValue,
    practice_group_id: HeaderValue,
}

/// The SHA-256 (hex) of a practice group id: the one way the crate keys per-group state.
pub(crate) fn practice_group_key(practice_group_id: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(practice_group_id))
}

impl Credentials {
    /// Checks both values (non-empty, printable ASCII, no white space) without echoing them.
    /// The SHA-256 (hex) of the practice group id: a key for per-group state that does not
    /// hold the id.
    pub(crate) fn practice_group_key(&self) -> String {
        practice_group_key(self.practice_group_id.as_bytes())
    }

    pub(crate) fn new(api_key: &str, practice_group_id: &str) -> Result<Self, Error> {
        Ok(Self {
            api_key: header_value("api_key", api_key)?,
            practice_group_id: header_value("practice_group_id", practice_group_id)?,
        })
    }

    /// Sets both headers on an outgoing request, replacing any value already there.
    pub(crate) fn apply(&self, headers: &mut HeaderMap) {
        headers.insert(API_KEY_HEADER, self.api_key.clone());
        headers.insert(PRACTICE_GROUP_ID_HEADER, self.practice_group_id.clone());
    }
}

fn header_value(field: &str, value: &str) -> Result<HeaderValue, Error> {
    if value.trim().is_empty() {
        return Err(Error::config(format!("{field} is missing or empty")));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::config(format!(
            "{field} must be printable ASCII without white space"
        )));
    }
    let mut v = HeaderValue::from_str(value)
        .map_err(|_| Error::config(format!("{field} is not a valid header value")))?;
    v.set_sensitive(true);
    Ok(v)
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &crate::REDACTED)
            .field("practice_group_id", &crate::REDACTED)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_values_without_echoing_them() {
        let err = Credentials::new("", "practice-pg").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid client configuration: api_key is missing or empty"
        );
        let err = Credentials::new("hero-k-test-key", "practice 1").unwrap_err();
        assert!(
            err.to_string()
                .contains("practice_group_id must be printable ASCII")
        );
        assert!(!err.to_string().contains("practice 1"));
    }

    #[test]
    fn debug_shows_neither_value() {
        let c = Credentials::new("hero-secret-test-key", "practice-abc123").unwrap();
        let mut h = HeaderMap::new();
        c.apply(&mut h);
        let debug = format!("{c:?} {h:?}");
        assert!(
            !debug.contains("hero-secret-test-key") && !debug.contains("practice-abc123"),
            "{debug}"
        );
        assert_eq!(h[API_KEY_HEADER], "hero-secret-test-key");
    }
}
