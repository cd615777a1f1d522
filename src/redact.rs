//! Patient data that must never reach a log: [`Sensitive`].
//!
//! Names, contact details, NHS numbers and message content decoded from Hero's responses are held in
//! [`Sensitive`], whose `Debug` and `Display` print `<redacted>`. Read the value with
//! [`Sensitive::expose`] where the program really shows it to a person.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The text every redacting `Debug`/`Display` impl of this crate prints instead of a value.
pub const REDACTED: &str = "<redacted>";

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
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sensitive(String);

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
    use super::*;

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
