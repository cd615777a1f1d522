//! Request values checked before anything is sent: [`PatientId`], [`NhsNumber`], [`MessageText`],
//! [`ContactDetail`] and [`SnomedCode`]; and a webhook's [`SigningKey`].
//!
//! The generated request builders take these through `TryFrom<&str>`, so a bad value fails the
//! request with [`crate::ErrorKind::InvalidRequest`] naming the field, and nothing reaches the network.
//! The error never contains the value itself.

//!
//! One file per kind of value: `patient.rs` (the patient's ids), `message.rs` (a message's text and
//! SNOMED code), `contact.rs` (where a message goes), `signing_key.rs`. This file holds what they
//! share: [`InvalidValue`], [`IntoOptional`] and the conversions every checked string has.

mod refusal;
pub use refusal::{Refusal, Rule};

/// A value for an optional checked request field: the value itself, `None`/`Some(value)`, or text
/// to check (`&str`, `String`; `Some("text")` is not taken, so that `Some(text.parse()?)` infers), so that `.snomed_code("1240751000000100")` works as
/// `.patient_id("98765")` does. A bad text fails the request with an error naming the field.
///
/// ```
/// use herohealth::{IntoOptional, SnomedCode};
/// assert!(IntoOptional::<SnomedCode>::into_optional("1240751000000100").unwrap().is_some());
/// assert!(IntoOptional::<SnomedCode>::into_optional(None::<SnomedCode>).unwrap().is_none());
/// assert!(IntoOptional::<SnomedCode>::into_optional("12").is_err());
/// ```
pub trait IntoOptional<T> {
    /// Why a text was refused.
    type Error: Rule;
    /// The checked value, or `None`.
    fn into_optional(self) -> Result<Option<T>, Self::Error>;
}

impl<T> IntoOptional<T> for Option<T> {
    type Error = std::convert::Infallible;
    fn into_optional(self) -> Result<Option<T>, Self::Error> {
        Ok(self)
    }
}

/// Implements [`IntoOptional`] for a checked type: the value, text, and optional text.
macro_rules! into_optional {
    ($($ty:ty),+) => {$(
        impl $crate::validate::IntoOptional<$ty> for $ty {
            type Error = std::convert::Infallible;
            fn into_optional(self) -> Result<Option<$ty>, std::convert::Infallible> {
                Ok(Some(self))
            }
        }
        impl $crate::validate::IntoOptional<$ty> for &str {
            type Error = <$ty as TryFrom<&'static str>>::Error;
            fn into_optional(self) -> Result<Option<$ty>, <$ty as TryFrom<&'static str>>::Error> {
                self.parse().map(Some)
            }
        }
        impl $crate::validate::IntoOptional<$ty> for String {
            type Error = <$ty as TryFrom<&'static str>>::Error;
            fn into_optional(self) -> Result<Option<$ty>, <$ty as TryFrom<&'static str>>::Error> {
                self.parse().map(Some)
            }
        }
        impl $crate::validate::IntoOptional<$ty> for &String {
            type Error = <$ty as TryFrom<&'static str>>::Error;
            fn into_optional(self) -> Result<Option<$ty>, <$ty as TryFrom<&'static str>>::Error> {
                self.parse().map(Some)
            }
        }
    )+};
}

into_optional!(PatientId, NhsNumber, MessageText, ContactDetail, SnomedCode);
// The forward-compatible enums get theirs where build.rs generates them (`$OUT_DIR/enums.rs`).
pub(crate) use into_optional;

/// Optional text fields (`.snomed_term("...")`, `.subject("...")`) take text as it comes, as
/// the required ones do; `None` and `Some(text)` still work.
macro_rules! into_optional_text {
    ($($ty:ty),+) => {$(
        impl IntoOptional<$ty> for $ty {
            type Error = std::convert::Infallible;
            fn into_optional(self) -> Result<Option<$ty>, Self::Error> {
                Ok(Some(self))
            }
        }
        impl IntoOptional<$ty> for &str {
            type Error = std::convert::Infallible;
            fn into_optional(self) -> Result<Option<$ty>, Self::Error> {
                Ok(Some(self.into()))
            }
        }
        impl IntoOptional<$ty> for &String {
            type Error = std::convert::Infallible;
            fn into_optional(self) -> Result<Option<$ty>, Self::Error> {
                Ok(Some(self.as_str().into()))
            }
        }
    )+};
}
into_optional_text!(String, crate::shown::Sensitive);

impl IntoOptional<crate::shown::Sensitive> for String {
    type Error = std::convert::Infallible;
    fn into_optional(self) -> Result<Option<crate::shown::Sensitive>, Self::Error> {
        Ok(Some(self.into()))
    }
}

/// Why a value was refused. Its `Display` names the rule, never the value.
///
/// ```
/// let err = herohealth::PatientId::parse("12a").unwrap_err();
/// assert_eq!((err.to_string().as_str(), err.rule()), ("a patient id must be digits only", "must be digits only"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {rule}")]
pub struct InvalidValue {
    kind: &'static str,
    rule: &'static str,
}

impl InvalidValue {
    pub(crate) const fn new(kind: &'static str, rule: &'static str) -> Self {
        Self { kind, rule }
    }

    /// The rule the value broke, e.g. `"has a wrong check digit"`.
    pub fn rule(&self) -> &'static str {
        self.rule
    }
}

/// Implements the string conversions, serde and `Debug` for a validated string newtype.
macro_rules! validated_string {
    ($ty:ident, shown = $shown:ident) => {
        impl $ty {
            /// The value as it is sent.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        validated_string!($ty, shown = $shown, as_str = defined);
    };
    ($ty:ident, shown = $shown:ident, as_str = defined) => {
        impl ::std::str::FromStr for $ty {
            type Err = $crate::validate::InvalidValue;
            #[inline]
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = $crate::validate::InvalidValue;
            fn try_from(s: &str) -> ::std::result::Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl TryFrom<&String> for $ty {
            type Error = $crate::validate::InvalidValue;
            fn try_from(s: &String) -> ::std::result::Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = $crate::validate::InvalidValue;
            fn try_from(s: String) -> ::std::result::Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            /// A string, checked as [`parse`](Self::parse) checks it; neither a refused string nor
            /// a value of another type (a number) is quoted in the error.
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let s = $crate::shown::text(deserializer)?;
                Self::parse(&s).map_err(::serde::de::Error::custom)
            }
        }

        impl $ty {
            /// What `Debug`, `Display` and `Shown` print: nothing of patient data, an id only in
            /// its kind's declared form.
            fn shown_text(&self) -> &str {
                validated_string!(@shown self, $shown)
            }
        }

        impl ::std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self.shown_text() {
                    $crate::shown::REDACTED => write!(f, "{}({})", stringify!($ty), $crate::shown::REDACTED),
                    shown => write!(f, "{}({:?})", stringify!($ty), shown),
                }
            }
        }

        impl $crate::shown::Shown for $ty {
            fn shown(&self) -> ::serde_json::Value {
                ::serde_json::Value::from(self.shown_text())
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.shown_text())
            }
        }
    };
    (@shown $self:ident, redacted) => { $crate::shown::REDACTED };
    (@shown $self:ident, as_is) => { $self.as_str() };
    (@shown $self:ident, $form:ident) => { $crate::ids::$form.shown($self.as_str()).as_str() };
}

mod contact;
mod message;
mod patient;
mod signing_key;
#[cfg(test)]
mod tests;

pub use contact::ContactDetail;
pub(crate) use contact::canonical_contact;
pub use message::{MessageText, SnomedCode};
pub use patient::{NhsNumber, PatientId};
pub use signing_key::SigningKey;
