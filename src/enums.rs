//! Forward-compatible enums for every enum Hero returns.
//!
//! progenitor generates closed enums: a value Hero adds tomorrow (a new delivery status, a title
//! beyond the ten the reference lists) would fail the whole response. build.rs replaces those schemas
//! with these types. Each has the known values plus `Unknown`, which holds the server's text.
//!
//! `Unknown` can only come from the server: [`UnknownValue`] has no public constructor, and
//! `FromStr`/`TryFrom<&str>` refuse values this version does not know (they take a known value in
//! any case: `"SMS"` is `MessageType::Sms`, sent as `sms`). So the client is tolerant in
//! what it reads and strict in what code can make up: the only value outside the documented ones it
//! can send is one Hero itself sent (an `Unknown` read from a response and passed back, e.g. as a
//! list filter), which Hero knows.
//!
//! A value the spec declares prints as it is; an unknown one prints as `unknown(17 chars)`, in
//! `Display` and `Debug` alike: a server can put anything in an enum field (a name, an NHS
//! number). Its text is for programs only, through [`UnknownValue::as_str`] (or `as_str()` of the
//! enum, the wire value).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An enum value the server sent that this version of the crate does not know. Its `Debug` and
/// `Display` show its length only (`unknown(17 chars)`: a value from outside could be anything);
/// [`as_str`](Self::as_str) gives it.
///
/// ```
/// use herohealth::DeliveryStatus;
/// let s: DeliveryStatus = serde_json::from_str("\"held_for_Zebedee\"").unwrap();
/// if let DeliveryStatus::Unknown(v) = &s {
///     assert_eq!(v.as_str(), "held_for_Zebedee");
/// }
/// assert_eq!(format!("{s} {s:?}"), "unknown(16 chars) Unknown(unknown(16 chars))");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UnknownValue(String);

impl fmt::Debug for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown({} chars)", self.0.chars().count())
    }
}

impl UnknownValue {
    /// The value as the server sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A string that is not one of an enum's known values (from `FromStr`/`TryFrom<&str>`).
///
/// Its `Display` and `Debug` never echo the refused text (it may be patient data typed in the
/// wrong field); `?` turns it into an [`crate::Error`] of kind `InvalidRequest`.
///
/// ```
/// let err = "fax".parse::<herohealth::MessageType>().unwrap_err();
/// assert_eq!(err.to_string(), "not a known MessageType; expected one of: hero, sms, email, nhs_app");
/// ```
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a known {type_name}; expected one of: {expected}")]
pub struct UnknownVariant {
    type_name: &'static str,
    expected: String,
}

impl fmt::Debug for UnknownVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UnknownVariant({self})")
    }
}

/// What every forward-compatible enum of the API has in common, for code that handles them all
/// alike (a command-line value parser, a mock's validation): its name and the values it knows.
///
/// ```
/// use herohealth::{MessageType, OpenEnum};
/// fn listed<T: OpenEnum>() -> String {
///     format!("{}: {}", T::NAME, T::KNOWN_WIRE.join(", "))
/// }
/// assert_eq!(listed::<MessageType>(), "MessageType: hero, sms, email, nhs_app");
/// ```
pub trait OpenEnum:
    Sized + Clone + fmt::Debug + fmt::Display + std::str::FromStr<Err = UnknownVariant> + 'static
{
    /// The type's name (the spec's schema name, `Nullable` left off).
    const NAME: &'static str;
    /// Every value this version knows, as the API spells it, in the spec's order.
    const KNOWN_WIRE: &'static [&'static str];
    /// Every value this version knows.
    fn known() -> &'static [Self];
    /// The value as it goes on the wire.
    fn wire(&self) -> &str;
}

macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)+ }) => {
        $(#[$meta])*
        ///
        /// Forward-compatible: a value this version does not know decodes as `Unknown`; text
        /// parses only to a known value.
        ///
        /// ```
        #[doc = concat!("use herohealth::", stringify!($name), ";")]
        #[doc = concat!("let all = ", stringify!($name), "::KNOWN;")]
        #[doc = concat!("let first: ", stringify!($name), " = all[0].as_str().parse().unwrap();")]
        /// assert!(first.is_known());
        #[doc = concat!("let shouted: ", stringify!($name), " = format!(\" {} \", all[0].as_str().to_uppercase()).parse().unwrap();")]
        /// assert_eq!(shouted, first);
        #[doc = concat!("let later: ", stringify!($name), " = serde_json::from_str(\"\\\"NEW_VALUE\\\"\").unwrap();")]
        /// assert_eq!((later.is_known(), later.as_str()), (false, "NEW_VALUE"));
        #[doc = concat!("assert!(\"NEW_VALUE\".parse::<", stringify!($name), ">().is_err());")]
        /// ```
        #[derive(Clone, PartialEq, Eq, Hash, Debug)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* #[doc = concat!("`", $wire, "`")] $variant,)+
            /// A value the server sent that this version of the crate does not know.
            Unknown(UnknownValue),
        }

        impl $name {
            /// Every value this version knows, in the order the reference lists them.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The value as it goes on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Unknown(v) => v.as_str(),
                }
            }

            /// `false` for a value this version of the crate does not know.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Unknown(_))
            }

            fn from_wire(s: &str) -> Option<Self> {
                match s {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        /// A value the spec declares as it is; an unknown one as `unknown(N chars)`.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $name::Unknown(v) => fmt::Display::fmt(v, f),
                    known => f.write_str(known.as_str()),
                }
            }
        }

        /// As its `Display`: a declared value, or `unknown(N chars)`.
        impl crate::shown::Shown for $name {
            fn shown(&self) -> serde_json::Value {
                serde_json::Value::from(self.to_string())
            }
        }

        impl OpenEnum for $name {
            const NAME: &'static str = stringify!($name);
            const KNOWN_WIRE: &'static [&'static str] = &[$($wire),+];
            fn known() -> &'static [Self] {
                Self::KNOWN
            }
            fn wire(&self) -> &str {
                self.as_str()
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownVariant;
            /// A known value, in any case (`"SMS"` is `sms`), around white space; what is
            /// sent is always the wire value.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let s = s.trim();
                [$($wire),+]
                    .into_iter()
                    .find(|w| w.eq_ignore_ascii_case(s))
                    .and_then(Self::from_wire)
                    .ok_or_else(|| UnknownVariant {
                    type_name: stringify!($name),
                    expected: [$($wire),+].join(", "),
                })
            }
        }

        impl TryFrom<&str> for $name {
            type Error = UnknownVariant;
            fn try_from(s: &str) -> Result<Self, UnknownVariant> {
                s.parse()
            }
        }

        impl TryFrom<String> for $name {
            type Error = UnknownVariant;
            fn try_from(s: String) -> Result<Self, UnknownVariant> {
                s.parse()
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                // A value that is not text is refused in the crate's words (serde's would quote it).
                let s = crate::shown::text(deserializer)?;
                Ok(Self::from_wire(&s).unwrap_or_else(|| $name::Unknown(UnknownValue(s.into_owned()))))
            }
        }
    };
}

// One `open_enum!` per enum schema of `openapi.yaml` (`x-herohealth-rust-type: crate::enums::X`),
// generated by build.rs from its `enum:` list and `description`: a value added to the spec is a
// value of the type with no other edit.
include!(concat!(env!("OUT_DIR"), "/enums.rs"));

open_enum! {
    /// What a webhook event is about: the `object` of a delivery ([`crate::webhooks::WebhookEvent`]).
    /// Hero's AsyncAPI description lists the first four. The write-to-record events' payload is
    /// unpublished: they are about a message, read here as `Message` (what herohealth-mock sends);
    /// should Hero send another value, it is read as `Unknown`, never refused.
    WebhookObject {
        /// `Message` on the wire: the write-to-record events' object (inferred, see above).
        Message = "Message",
        /// `Appointment` on the wire.
        Appointment = "Appointment",
        /// `FormSubmission` on the wire.
        FormSubmission = "FormSubmission",
        /// `Prescription` on the wire.
        Prescription = "Prescription",
        /// `Patient` on the wire.
        Patient = "Patient",
    }
}

impl DeliveryStatus {
    /// `true` for `delivered`, `declined` and `fatal`: the status will not change again.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Delivered | Self::Declined | Self::Fatal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_decode_and_round_trip() {
        let s: DeliveryStatus = serde_json::from_str("\"bounced\"").unwrap();
        assert!(!s.is_known());
        assert_eq!(s.as_str(), "bounced");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"bounced\"");
        let t: PatientTitle = serde_json::from_str("\"Mx\"").unwrap();
        assert_eq!(
            (t.as_str(), t.to_string()),
            ("Mx", "unknown(2 chars)".to_owned())
        );
        assert_eq!(PatientTitle::Dr.to_string(), "Dr");
    }

    #[test]
    fn unknown_values_cannot_be_built_from_text() {
        let err = "bounced".parse::<DeliveryStatus>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "not a known DeliveryStatus; expected one of: delivered, declined, sent, pending, retry, fatal"
        );
        assert_eq!(
            "fatal".parse::<DeliveryStatus>().unwrap(),
            DeliveryStatus::Fatal
        );
    }

    #[test]
    fn every_open_enums_known_values_are_its_wire_values() {
        fn check<T: OpenEnum>() -> usize {
            let wire: Vec<&str> = T::known().iter().map(|v| v.wire()).collect();
            assert_eq!(wire, T::KNOWN_WIRE, "{}", T::NAME);
            wire.len()
        }
        assert!(check::<MessageType>() > 0 && check::<DeliveryStatus>() > 0);
        assert!(OPEN_ENUMS.iter().any(|(n, _)| *n == "PatientTitle"));
    }

    #[test]
    fn known_lists_match_wire_values() {
        for v in PatientTitle::KNOWN {
            assert_eq!(&v.as_str().parse::<PatientTitle>().unwrap(), v);
        }
        assert_eq!(PatientTitle::KNOWN.len(), 10);
    }
}
