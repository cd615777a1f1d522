//! A webhook's [`SigningKey`].

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::InvalidValue;
use crate::shown::REDACTED;

/// A webhook's signing key: the secret Hero signs each delivery with. Its `Debug` and `Display`
/// never show it; [`expose`](Self::expose) does.
///
/// ```
/// use herohealth::webhooks::SigningKey;
/// let key: SigningKey = "whsec-kept-out-of-logs".parse().unwrap();
/// assert_eq!(format!("{key:?} {key}"), "SigningKey(<redacted>) <redacted>");
/// assert_eq!(key.expose(), "whsec-kept-out-of-logs");
/// assert_eq!("".parse::<SigningKey>().unwrap_err().to_string(), "a signing key must not be empty");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SigningKey(String);

impl SigningKey {
    /// A key: any text but the empty one.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        if s.is_empty() {
            return Err(InvalidValue::new("a signing key", "must not be empty"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The key itself. Call it only where the key is meant to be sent or stored.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl crate::shown::Shown for SigningKey {
    fn shown(&self) -> serde_json::Value {
        serde_json::Value::from(REDACTED)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({REDACTED})")
    }
}

impl fmt::Display for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl std::str::FromStr for SigningKey {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for SigningKey {
    type Error = InvalidValue;
    fn try_from(s: &str) -> Result<Self, InvalidValue> {
        Self::parse(s)
    }
}

impl TryFrom<String> for SigningKey {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        Self::parse(&s)
    }
}

impl TryFrom<&String> for SigningKey {
    type Error = InvalidValue;
    fn try_from(s: &String) -> Result<Self, InvalidValue> {
        Self::parse(s)
    }
}

impl Serialize for SigningKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Reads any text Hero sends (an answer is never refused over its echoed key).
impl<'de> Deserialize<'de> for SigningKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

impl crate::validate::IntoOptional<SigningKey> for SigningKey {
    type Error = std::convert::Infallible;
    fn into_optional(self) -> Result<Option<SigningKey>, Self::Error> {
        Ok(Some(self))
    }
}

impl crate::validate::IntoOptional<SigningKey> for &str {
    type Error = InvalidValue;
    fn into_optional(self) -> Result<Option<SigningKey>, InvalidValue> {
        SigningKey::parse(self).map(Some)
    }
}

impl crate::validate::IntoOptional<SigningKey> for String {
    type Error = InvalidValue;
    fn into_optional(self) -> Result<Option<SigningKey>, InvalidValue> {
        SigningKey::parse(&self).map(Some)
    }
}

impl crate::validate::IntoOptional<SigningKey> for &String {
    type Error = InvalidValue;
    fn into_optional(self) -> Result<Option<SigningKey>, InvalidValue> {
        SigningKey::parse(self).map(Some)
    }
}
