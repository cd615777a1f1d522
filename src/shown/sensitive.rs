//! [`Sensitive`]: a string of patient data that never prints.

use std::{borrow::Cow, fmt};

use serde::{
    Deserialize, Deserializer, Serialize,
    de::{self, Visitor},
};

use super::REDACTED;

/// A string of patient data (a name, contact detail, NHS number or message content).
///
/// `Debug` and `Display` never show the value; [`expose`](Self::expose) does.
///
/// ```
/// use herohealth::Sensitive;
///
/// let name = Sensitive::from("Ada Lovelace");
/// assert_eq!(format!("{name:?} {name}"), "<redacted> <redacted>");
/// assert_eq!(name.expose(), "Ada Lovelace");
/// ```
///
/// Decoded from anything but a string, its error is one fixed text of the crate's own, whatever
/// the format said (serde's own would quote the value: ``invalid type: integer `7700900123` ``):
///
/// ```
/// use herohealth::Sensitive;
///
/// let err = serde_json::from_str::<Sensitive>("7700900123").unwrap_err();
/// assert_eq!(err.to_string(), "expected a string (what came is not shown)");
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Sensitive(String);

impl<'de> Deserialize<'de> for Sensitive {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        text(deserializer).map(|s| Self(s.into_owned()))
    }
}

/// The one error [`text`] gives, whatever went wrong.
pub(crate) const NOT_TEXT: &str = "expected a string (what came is not shown)";

/// Reads a string that may hold patient data. It is asked for as a string (never inferred: a CSV
/// reader would read `07700900123` as a number and lose its 0); a character and UTF-8 bytes are
/// read as `String` reads them. Any failure is [`NOT_TEXT`]: the format's own error, which may
/// quote the value (a number where a string belongs is just what an NHS number sent without
/// quotes is), is dropped unread.
pub(crate) fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Cow<'de, str>, D::Error> {
    deserializer
        .deserialize_str(Text)
        .map_err(|_| de::Error::custom(NOT_TEXT))
}

/// The [`Visitor`] of [`text`]: anything but text is refused by serde's defaults, whose error
/// [`text`] drops.
struct Text;

impl<'de> Visitor<'de> for Text {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
    fn visit_char<E: de::Error>(self, v: char) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        std::str::from_utf8(v)
            .map(|s| Cow::Owned(s.to_owned()))
            .map_err(|_| E::custom(NOT_TEXT))
    }
    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
        std::str::from_utf8(v)
            .map(Cow::Borrowed)
            .map_err(|_| E::custom(NOT_TEXT))
    }
}

impl Sensitive {
    /// The value itself. Call it only where the value is meant to be shown or sent.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The value itself, by value.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<String> for Sensitive {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Sensitive {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl std::str::FromStr for Sensitive {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use serde::de::{IntoDeserializer, value};

    use super::*;

    type E = value::Error;

    #[test]
    fn anything_but_text_is_refused_in_one_fixed_text() {
        let refused = |r: Result<Sensitive, E>| r.expect_err("refused").to_string();
        let not_utf8: &[u8] = b"94347\xff65919";
        for shown in [
            refused(Sensitive::deserialize(value::I64Deserializer::new(
                -9434765919,
            ))),
            refused(Sensitive::deserialize(value::U64Deserializer::new(
                9434765919,
            ))),
            refused(Sensitive::deserialize(value::F64Deserializer::new(
                9434765919.5,
            ))),
            refused(Sensitive::deserialize(value::BoolDeserializer::new(true))),
            refused(Sensitive::deserialize(value::BytesDeserializer::new(
                not_utf8,
            ))),
            refused(Sensitive::deserialize(
                value::BorrowedBytesDeserializer::new(not_utf8),
            )),
        ] {
            assert_eq!(shown, NOT_TEXT);
        }
    }

    #[test]
    fn text_is_read_as_string_reads_it() {
        let read = |d: value::StrDeserializer<'_, E>| Sensitive::deserialize(d).unwrap();
        assert_eq!(
            read("07700 900123".into_deserializer()).expose(),
            "07700 900123"
        );
        let borrowed = value::BorrowedStrDeserializer::<E>::new("Ada");
        assert!(matches!(text(borrowed).unwrap(), Cow::Borrowed("Ada")));
        let owned = value::StringDeserializer::<E>::new("Ada".to_owned());
        assert_eq!(Sensitive::deserialize(owned).unwrap().expose(), "Ada");
        let c = value::CharDeserializer::<E>::new('9');
        assert_eq!(Sensitive::deserialize(c).unwrap().expose(), "9");
        let bytes = value::BytesDeserializer::<E>::new(b"07700900123");
        assert_eq!(
            Sensitive::deserialize(bytes).unwrap().expose(),
            "07700900123"
        );
        let bytes = value::BorrowedBytesDeserializer::<E>::new(b"07700900123");
        assert!(matches!(text(bytes).unwrap(), Cow::Borrowed("07700900123")));
    }

    #[test]
    fn sensitive_holds_the_value_and_prints_only_the_placeholder() {
        let made: [Sensitive; 4] = [
            Sensitive::from("Ada Lovelace"),
            Sensitive::from(String::from("Ada Lovelace")),
            "Ada Lovelace".parse().unwrap(),
            serde_json::from_str("\"Ada Lovelace\"").unwrap(),
        ];
        for s in made {
            assert_eq!(
                format!("{s:?}|{s}|{s:#?}"),
                "<redacted>|<redacted>|<redacted>"
            );
            assert_eq!(s.expose(), "Ada Lovelace");
            assert_eq!(serde_json::to_string(&s).unwrap(), "\"Ada Lovelace\"");
            assert_eq!(s.into_inner(), "Ada Lovelace");
        }
    }
}
