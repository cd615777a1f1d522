//! Patient data that must never reach a log: [`Sensitive`].
//!
//! Names, contact details, NHS numbers and message content decoded from Hero's responses are held in
//! [`Sensitive`], whose `Debug` and `Display` print `<redacted>`. Read the value with
//! [`Sensitive::expose`] where the program really shows it to a person.
//!
//! Also what else may be shown of a value from outside: an id only in an identifier's shape
//! ([`id_shaped`]), and the masked `Debug` of the generated types ([`Masked`], [`Id`]).

use std::{borrow::Cow, fmt};

use serde::{
    Deserialize, Deserializer, Serialize,
    de::{self, Unexpected, Visitor},
};

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
///
/// Decoded from anything but a string, its error names the type it was given but does not quote
/// the value (serde's own would: ``invalid type: integer `7700900123` ``):
///
/// ```
/// use herohealth::Sensitive;
///
/// let err = serde_json::from_str::<Sensitive>("7700900123").unwrap_err();
/// assert_eq!(err.to_string(), "invalid type: integer, expected a string");
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Sensitive(String);

impl<'de> Deserialize<'de> for Sensitive {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        text(deserializer).map(|s| Self(s.into_owned()))
    }
}

/// Reads a string that may hold patient data, refusing anything else without quoting it: serde's
/// own refusal of a number where a string belongs quotes it (``invalid type: integer `7700900123` ``),
/// and a number is just what an NHS or phone number sent without quotes is. The string is asked for
/// as a string (never inferred: a CSV reader would read `07700900123` as a number and lose its 0),
/// and a refusal of another type is written again without the value.
pub(crate) fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Cow<'de, str>, D::Error> {
    deserializer.deserialize_str(Text).map_err(|e| {
        let message = e.to_string();
        if let Some(kind) = unquoted_type(&message) {
            de::Error::invalid_type(Unexpected::Other(kind), &Text)
        } else if message.contains(['`', '"']) {
            // A format's own words for it (ron: "found the unsigned integer `..`").
            de::Error::custom(unquoted(&message, |_| false, MESSAGE_CHARS))
        } else {
            e
        }
    })
}

/// At most this many characters of a format's own refusal are kept.
const MESSAGE_CHARS: usize = 300;

/// For serde's refusal of a value's type (``invalid type: integer `9434765919`, expected ..``),
/// the name it gives the type (`integer`), without what it quotes; `None` for any other error.
fn unquoted_type(message: &str) -> Option<&str> {
    // Anywhere in the message: some formats wrap serde's words (ciborium: `Semantic(None, "..")`).
    let (_, got) = message.split_once("invalid type: ")?;
    // serde names what it got (`integer`, `floating point`, `sequence`), then quotes it.
    let kind = got.split([',', '`', '"']).next().unwrap_or_default().trim();
    if !kind.is_empty() && kind.bytes().all(|c| c.is_ascii_lowercase() || c == b' ') {
        Some(kind)
    } else {
        Some("a value that is not a string")
    }
}

/// A deserializer's message without the values it quotes, and at most `max_chars` long: what is
/// between double quotes becomes `…`, and what is between backquotes too unless `keep` keeps it
/// (a key the API declares); serde_json's ` at line L column C` goes.
pub(crate) fn unquoted(full: &str, keep: impl Fn(&str) -> bool, max_chars: usize) -> String {
    let full = match full.rfind(" at line ") {
        Some(i) => &full[..i],
        None => full,
    };
    let mut out = String::new();
    let mut rest = full;
    while let Some(open) = rest.find(['`', '"']) {
        let quote = rest.as_bytes()[open] as char;
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find(quote) else {
            out.push('…');
            rest = "";
            break;
        };
        let inner = &after[..close];
        out.push_str(if quote == '`' && keep(inner) {
            inner
        } else {
            "…"
        });
        out.push(quote);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out.chars().take(max_chars).collect()
}

/// The [`Visitor`] of [`text`].
struct Text;

impl Text {
    fn refuse<T, E: de::Error>(&self, what: &str) -> Result<T, E> {
        Err(E::invalid_type(Unexpected::Other(what), self))
    }

    /// Bytes read as text when they are UTF-8, as `String` reads them.
    fn utf8<'a, E: de::Error>(&self, v: &'a [u8]) -> Result<&'a str, E> {
        std::str::from_utf8(v).or_else(|_| self.refuse("bytes that are not text"))
    }
}

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
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        self.refuse("a number")
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        self.refuse("a number")
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Self::Value, E> {
        self.refuse("a number")
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Self::Value, E> {
        self.refuse("a number")
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        self.refuse("a number")
    }
    // Read as `String` reads them: a character, and bytes that are UTF-8 (MessagePack's `bin`).
    fn visit_char<E: de::Error>(self, v: char) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        self.utf8(v).map(|s| Cow::Owned(s.to_owned()))
    }
    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
        self.utf8(v).map(Cow::Borrowed)
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

/// Whether a value from outside (a request id, a message id, an enum value Hero added) has the
/// shape of an identifier (a UUID, or with no run of ten digits or more: a whole phone or NHS
/// number): a UUID, a
/// number of at most 9 digits, hexadecimal of 16 to 64 digits with letters and numbers in it, a
/// base64url token of 20 to 64 characters without separators that has upper and lower case letters
/// and digits (at least two of each), or after a prefix of 1 to 8 lower-case letters and `_` a
/// number, or two joined by `_`, of at most 9 digits in all (`bm_000001`, `bm_000001_3`). Anything
/// else is shown as `…`.
pub(crate) fn id_shaped(s: &str) -> bool {
    let b = s.as_bytes();
    let uuid = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    let count = |f: fn(&u8) -> bool| b.iter().filter(|c| f(c)).count();
    let digits = count(u8::is_ascii_digit);
    let number = (1..=9).contains(&b.len()) && digits == b.len();
    let hex = (16..=64).contains(&b.len())
        && b.iter().all(u8::is_ascii_hexdigit)
        && digits >= 2
        && b.len() - digits >= 2;
    let token = (20..=64).contains(&b.len())
        && b.iter().all(u8::is_ascii_alphanumeric)
        && digits >= 2
        && count(u8::is_ascii_uppercase) >= 2
        && count(u8::is_ascii_lowercase) >= 2;
    // A lower-case prefix and a number of at most 9 digits, or two numbers holding at most 9
    // digits together (`bm_000001`, `bm_000001_3`): never a whole NHS or phone number.
    let prefixed = s.split_once('_').is_some_and(|(prefix, rest)| {
        let mut groups = rest.split('_');
        let numbers = groups
            .by_ref()
            .take(2)
            .all(|g| !g.is_empty() && g.bytes().all(|c| c.is_ascii_digit()));
        (1..=8).contains(&prefix.len())
            && prefix.bytes().all(|c| c.is_ascii_lowercase())
            && numbers
            && groups.next().is_none()
            && (1..=9).contains(&(rest.len() - rest.matches('_').count()))
    });
    // Whatever the shape but a UUID's, no run of ten digits or more: a whole NHS or phone number.
    // (A random UUID's last group of 12 has one about once in 40: request ids Hero's support asks
    // for would be hidden.)
    let long_number = b.split(|c| !c.is_ascii_digit()).any(|run| run.len() >= 10);
    uuid || (!long_number && (number || hex || token || prefixed))
}

/// An id from Hero (a message id, a batch id, a request id) as it may be shown in output: the id
/// when it has an identifier's shape (a UUID, a number of at most 9 digits, hexadecimal of 16 to
/// 64 digits, a base64url token of 20 to 64 characters with upper and lower case letters and
/// digits, a number of at most 9 digits (or two joined by `_`, 9 digits in all) after a short
/// lower-case prefix and `_`), else `…`, so a server that puts anything else in an id field cannot
/// make a program print it. Use the id itself for further calls; print this.
///
/// ```
/// assert_eq!(herohealth::shown_id("123456"), "123456");
/// assert_eq!(herohealth::shown_id("4c3a1b7e-9f0d-4e2a-8b6c-1d2e3f4a5b6c"), "4c3a1b7e-9f0d-4e2a-8b6c-1d2e3f4a5b6c");
/// assert_eq!(herohealth::shown_id("Ada Lovelace 07700 900123"), "…");
/// ```
pub fn shown_id(id: &str) -> &str {
    if id_shaped(id) { id } else { "…" }
}

/// A base URL as `Debug` may show it: an `http(s)` URL with a host, by its scheme, host and port,
/// every part that may hold a secret (user info, a path other than `/`, a query, a fragment)
/// masked; `None` for anything else (not a URL, another scheme, no host).
pub(crate) fn shown_url(text: &str) -> Option<String> {
    let url = url::Url::parse(text.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str().filter(|h| !h.is_empty())?;
    let mut shown = format!("{}://", url.scheme());
    if !url.username().is_empty() || url.password().is_some() {
        shown.push_str(REDACTED);
        shown.push('@');
    }
    shown.push_str(host);
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push('/');
    if !matches!(url.path(), "" | "/") {
        shown.push_str(REDACTED);
    }
    if url.query().is_some() {
        shown.push('?');
        shown.push_str(REDACTED);
    }
    if url.fragment().is_some() {
        shown.push('#');
        shown.push_str(REDACTED);
    }
    Some(shown)
}

/// How a value of a generated type prints in a masked `Debug` (the impls `build.rs` writes):
/// its shape only (`None`, `Some(<redacted>)`, a list of masked items), or, for an id, the id
/// when it has an identifier's shape.
pub(crate) trait MaskedDebug {
    /// Prints the value masked; `as_id`: text is shown when it is [`id_shaped`].
    fn fmt_masked(&self, f: &mut std::fmt::Formatter<'_>, as_id: bool) -> std::fmt::Result;
}

impl MaskedDebug for String {
    fn fmt_masked(&self, f: &mut std::fmt::Formatter<'_>, as_id: bool) -> std::fmt::Result {
        if as_id && id_shaped(self) {
            write!(f, "{self:?}")
        } else if as_id {
            f.write_str("\"…\"")
        } else {
            f.write_str(REDACTED)
        }
    }
}

impl<T: MaskedDebug> MaskedDebug for Option<T> {
    fn fmt_masked(&self, f: &mut std::fmt::Formatter<'_>, as_id: bool) -> std::fmt::Result {
        match self {
            None => f.write_str("None"),
            Some(v) => f.debug_tuple("Some").field(&Shape(v, as_id)).finish(),
        }
    }
}

impl<T: MaskedDebug> MaskedDebug for Vec<T> {
    fn fmt_masked(&self, f: &mut std::fmt::Formatter<'_>, as_id: bool) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|v| Shape(v, as_id)))
            .finish()
    }
}

impl<T: MaskedDebug> MaskedDebug for Box<T> {
    fn fmt_masked(&self, f: &mut std::fmt::Formatter<'_>, as_id: bool) -> std::fmt::Result {
        (**self).fmt_masked(f, as_id)
    }
}

/// Values that are masked whole, whatever `as_id` says.
macro_rules! masked_whole {
    ($($t:ty),+) => {$(
        impl MaskedDebug for $t {
            fn fmt_masked(&self, f: &mut std::fmt::Formatter<'_>, _: bool) -> std::fmt::Result {
                f.write_str(REDACTED)
            }
        }
    )+};
}
masked_whole!(
    chrono::DateTime<chrono::Utc>,
    chrono::NaiveDate,
    serde_json::Value,
    serde_json::Map<String, serde_json::Value>
);

impl<K, V> MaskedDebug for std::collections::HashMap<K, V> {
    fn fmt_masked(&self, f: &mut std::fmt::Formatter<'_>, _: bool) -> std::fmt::Result {
        write!(f, "{{{} entries: {}}}", self.len(), REDACTED)
    }
}

impl<K, V> MaskedDebug for std::collections::BTreeMap<K, V> {
    fn fmt_masked(&self, f: &mut std::fmt::Formatter<'_>, _: bool) -> std::fmt::Result {
        write!(f, "{{{} entries: {}}}", self.len(), REDACTED)
    }
}

struct Shape<'a, T: ?Sized>(&'a T, bool);

impl<T: MaskedDebug + ?Sized> std::fmt::Debug for Shape<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt_masked(f, self.1)
    }
}

/// A field of a generated type printed masked (see [`MaskedDebug`]).
pub(crate) struct Masked<'a, T: ?Sized>(pub(crate) &'a T);

impl<T: MaskedDebug + ?Sized> std::fmt::Debug for Masked<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt_masked(f, false)
    }
}

/// An id field of a generated type: shown when it has an identifier's shape, else `…`.
pub(crate) struct Id<'a, T: ?Sized>(pub(crate) &'a T);

impl<T: MaskedDebug + ?Sized> std::fmt::Debug for Id<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt_masked(f, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_identifiers_keep_their_shape() {
        for id in [
            "3f2b9c1e-8a4d-4f6b-9c2e-1a2b3c4d5e6f",
            "251",
            "9f86d081884c7d659a2feaa0c55ad015",
            "Root1AbCdEf2GhIjK3lMnOp",
            "bm_000001",
            "msg_7",
            "bm_000001_1",
            // A UUID keeps its shape whatever its last group holds.
            "c0ffee00-1234-4abc-9def-0123456789ab",
            "bm_1_2",
            "b_12345678_9",
        ] {
            assert!(id_shaped(id), "{id}");
        }
        for not_id in [
            "",
            "Jane Doe",
            "JaneDoe",
            "9434765919",
            "07700900123",
            "+447700900123",
            "jane.doe@example.org",
            "Jane-Doe-1955-06-02",
            "NyeSeacoleMaidaVale",
            "deadbeefdeadbeef",
            // Sixteen digits (a card number's length): hexadecimal needs letters too.
            "4929123456789012",
            "a929123456789012",
            "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef1",
            "3f2b9c1e_8a4d_4f6b_9c2e_1a2b3c4d5e6f",
            // Prefixed, but a phone or NHS number, a name, an upper-case or long prefix.
            "tel_07700900123",
            "nhs_9434765919",
            "ada_lovelace",
            "Ada_1",
            "patients_x_1",
            "patientxy_1",
            "_1",
            "bm_",
            // Two numbers of ten digits in all (an NHS number split), three numbers, an empty one.
            "nhs_943476_5919",
            "n_943_476_5919",
            "tel_07700_900123",
            "bm_1_2_3",
            "bm_1_",
            "bm__1",
            "bm_1_x",
            // An identifier's shape holding a whole NHS or phone number.
            "JaneDoe9434765919ABC",
            // Hexadecimal with one letter (no ten digits in a row): it needs two.
            "12345678a12345678",
            "NyeSeacole07700900123",
            "9434765919abcdef",
            "07700900123deadbeef",
        ] {
            assert!(!id_shaped(not_id), "{not_id}");
            assert_eq!(shown_id(not_id), "…");
        }
    }

    #[test]
    fn a_refused_type_is_named_and_never_quoted() {
        use serde::de::{IntoDeserializer, value};
        type E = value::Error;
        fn refused<'de>(d: impl Deserializer<'de, Error = E>) -> String {
            Sensitive::deserialize(d).expect_err("refused").to_string()
        }
        let not_utf8: &[u8] = b"94347\xff65919";
        let cases = [
            (
                refused(value::I64Deserializer::new(-9434765919)),
                "a number",
            ),
            (refused(value::U64Deserializer::new(9434765919)), "a number"),
            (
                refused(value::I128Deserializer::new(-9434765919)),
                "a number",
            ),
            (
                refused(value::U128Deserializer::new(9434765919)),
                "a number",
            ),
            (
                refused(value::F64Deserializer::new(9434765919.5)),
                "a number",
            ),
            (
                refused(value::BytesDeserializer::new(not_utf8)),
                "bytes that are not text",
            ),
            (
                refused(value::BorrowedBytesDeserializer::new(not_utf8)),
                "bytes that are not text",
            ),
            (refused(value::BoolDeserializer::new(true)), "boolean"),
        ];
        for (shown, kind) in cases {
            assert_eq!(shown, format!("invalid type: {kind}, expected a string"));
        }
        // Read as `String` reads them: text, a character, bytes that are UTF-8.
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

        // A format's own words: serde's wrapped (ciborium), its own (ron), one that quotes nothing.
        let own = |m: &str| text(Refusing(m)).unwrap_err().to_string();
        assert_eq!(
            own(r#"Semantic(None, "invalid type: integer `9434765919`, expected str")"#),
            "invalid type: integer, expected a string"
        );
        assert_eq!(
            own("1:24: Expected a string but found the unsigned integer `9434765919` instead"),
            "1:24: Expected a string but found the unsigned integer `…` instead"
        );
        assert_eq!(own("unexpected end of input"), "unexpected end of input");

        assert_eq!(
            unquoted_type("invalid type: integer `943`, expected a string"),
            Some("integer")
        );
        assert_eq!(
            unquoted_type("invalid type: floating point `9.4`, expected x"),
            Some("floating point")
        );
        assert_eq!(
            unquoted_type("invalid type: sequence, expected a string"),
            Some("sequence")
        );
        assert_eq!(
            unquoted_type("invalid type: Some(943), expected"),
            Some("a value that is not a string")
        );
        assert_eq!(
            unquoted_type("invalid type: `943`"),
            Some("a value that is not a string")
        );
        assert_eq!(unquoted_type("EOF while parsing a string"), None);
    }

    /// A deserializer that refuses whatever is asked of it, in the words it is given.
    struct Refusing<'a>(&'a str);

    impl<'de> Deserializer<'de> for Refusing<'_> {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom(self.0))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
            identifier ignored_any
        }
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
