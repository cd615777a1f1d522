//! Request values checked before anything is sent: [`PatientId`], [`NhsNumber`], [`MessageText`],
//! [`ContactDetail`] and [`SnomedCode`].
//!
//! The generated request builders take these through `TryFrom<&str>`, so a bad value fails the
//! request with [`crate::ErrorKind::InvalidRequest`] naming the field, and nothing reaches the network.
//! The error never contains the value itself.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::redact::REDACTED;

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
    type Error: fmt::Display;
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
into_optional_text!(String, crate::redact::Sensitive);

impl IntoOptional<crate::redact::Sensitive> for String {
    type Error = std::convert::Infallible;
    fn into_optional(self) -> Result<Option<crate::redact::Sensitive>, Self::Error> {
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
    ($ty:ident, redacted = $redacted:expr) => {
        impl $ty {
            /// The value as it is sent.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        validated_string!($ty, redacted = $redacted, as_str = defined);
    };
    ($ty:ident, redacted = $redacted:expr, as_str = defined) => {
        impl FromStr for $ty {
            type Err = InvalidValue;
            #[inline]
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = InvalidValue;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl TryFrom<&String> for $ty {
            type Error = InvalidValue;
            fn try_from(s: &String) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = InvalidValue;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            /// A string, checked as [`parse`](Self::parse) checks it; neither a refused string nor
            /// a value of another type (a number) is quoted in the error.
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = crate::redact::text(deserializer)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if $redacted {
                    write!(f, "{}({})", stringify!($ty), REDACTED)
                } else {
                    write!(f, "{}({:?})", stringify!($ty), self.as_str())
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if $redacted {
                    f.write_str(REDACTED)
                } else {
                    f.write_str(self.as_str())
                }
            }
        }
    };
}

/// A Hero patient id: one or more ASCII digits (from `registerPatientPds`).
///
/// ```
/// use herohealth::PatientId;
/// assert_eq!(PatientId::parse("98765").unwrap().as_str(), "98765");
/// assert!(PatientId::parse("98a65").is_err());
/// // A number works too (`.patient_id(98765)`); a negative one is refused.
/// assert_eq!(PatientId::try_from(98765).unwrap().as_str(), "98765");
/// assert_eq!(PatientId::from(98765u64).as_str(), "98765");
/// assert!(PatientId::try_from(-1).is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PatientId(String);

impl PatientId {
    /// Accepts digits only (`^\d+$`).
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        if s.is_empty() {
            return Err(InvalidValue::new("a patient id", "must not be empty"));
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidValue::new("a patient id", "must be digits only"));
        }
        Ok(Self(s.to_owned()))
    }
}
validated_string!(PatientId, redacted = false);

// A patient id held as a number: `.patient_id(98765)` works as `.patient_id("98765")` does; a
// negative number is refused as text with a `-` would be (see `PatientId`'s example).
macro_rules! patient_id_from_integers {
    (unsigned: $($u:ty),+; signed: $($i:ty),+) => {
        $(impl From<$u> for PatientId {
            fn from(id: $u) -> Self {
                Self(id.to_string())
            }
        })+
        $(impl TryFrom<$i> for PatientId {
            type Error = InvalidValue;
            fn try_from(id: $i) -> Result<Self, InvalidValue> {
                Self::parse(&id.to_string())
            }
        })+
    };
}
patient_id_from_integers!(unsigned: u32, u64; signed: i32, i64);

/// A valid NHS number: ten digits whose last is the Modulus 11 check digit.
///
/// Accepts `"943 476 5919"`, `"943-476-5919"` and `"9434765919"`, with any white space around
/// the number (a tab, a line end, a non-breaking space from a spreadsheet) ignored; inside it,
/// only one space or one hyphen between the groups. Sends the ten digits. `Debug` and `Display`
/// never show it.
///
/// ```
/// use herohealth::NhsNumber;
/// let n = NhsNumber::parse("943 476 5919").unwrap();
/// assert_eq!(n.as_str(), "9434765919");
/// assert_eq!(format!("{n:?}"), "NhsNumber(<redacted>)");
/// assert_eq!(NhsNumber::parse("943 476 5919\u{a0}").unwrap(), n);
/// assert!(NhsNumber::parse("943  476 5919").is_err());
/// let err = NhsNumber::parse("943 476 5918").unwrap_err();
/// assert_eq!(err.to_string(), "an NHS number has a wrong check digit");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct NhsNumber(arrayvec::ArrayString<10>);

impl NhsNumber {
    const KIND: &'static str = "an NHS number";

    /// Parses ten digits, optionally grouped 3-3-4 by single spaces or hyphens, and checks the
    /// Modulus 11 check digit.
    // Inlined into the caller's loop: out of line, the value went back through the stack in
    // pieces and was read whole, a store-forwarding stall per number (perf, BENCHMARKS.md).
    #[inline(always)]
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        const FORM: &str = "must be 10 digits, optionally grouped 3-3-4 by spaces or hyphens";
        const ZEROS: u64 = u64::from_ne_bytes([b'0'; 8]);
        // Trimming (Unicode white space, e.g. a non-breaking space from a spreadsheet) only when needed.
        let bare = |b: Option<&u8>| b.is_some_and(u8::is_ascii_digit);
        let s = if bare(s.as_bytes().first()) && bare(s.as_bytes().last()) {
            s
        } else {
            s.trim()
        };
        // The first eight digits as one little-endian word, the last two apart, read from the
        // text in whole words and kept in registers.
        let b = s.as_bytes();
        let word_at = |at: usize| -> u32 {
            let mut w = [0u8; 4];
            w.copy_from_slice(&b[at..at + 4]);
            u32::from_le_bytes(w)
        };
        let (word, last2) = match b.len() {
            10 => {
                let mut w = [0u8; 8];
                w.copy_from_slice(&b[..8]);
                (u64::from_le_bytes(w), u16::from_le_bytes([b[8], b[9]]))
            }
            12 if b[3] == b[7] && (b[3] == b' ' || b[3] == b'-') => {
                let (g1, g2, g3) = (word_at(0), word_at(4), word_at(8));
                let word = u64::from(g1 & 0x00FF_FFFF)
                    | u64::from(g2 & 0x00FF_FFFF) << 24
                    | u64::from(g3 & 0xFFFF) << 48;
                (word, (g3 >> 16) as u16)
            }
            _ => return Err(InvalidValue::new(Self::KIND, FORM)),
        };
        let last2 = last2.to_le_bytes();
        // Eight bytes at once: each is a digit when its high nibble is 3 and stays 3 after adding
        // 6 (no byte can carry into the next once every high nibble is 3).
        let eight_digits = (word & 0xF0F0_F0F0_F0F0_F0F0)
            | (((word.wrapping_add(0x0606_0606_0606_0606)) & 0xF0F0_F0F0_F0F0_F0F0) >> 4)
            == 0x3333_3333_3333_3333;
        let d8 = last2[0].wrapping_sub(b'0');
        let d9 = last2[1].wrapping_sub(b'0');
        if !eight_digits || d8 > 9 || d9 > 9 {
            return Err(InvalidValue::new(Self::KIND, "must contain only digits"));
        }
        // The weighted sum of all ten digits (weights 10 down to 1) is a multiple of 11 exactly
        // when the check digit is right. The eight in the word are summed in 16-bit lanes: even
        // and odd digits apart, each multiplied so that the top lane collects its weighted sum (at
        // most 9 x 28 + 9 x 24, no lane carries).
        let d = word - ZEROS;
        let even = d & 0x00FF_00FF_00FF_00FF; // digits 0, 2, 4, 6
        let odd = (d >> 8) & 0x00FF_00FF_00FF_00FF; // digits 1, 3, 5, 7
        let even_sum = (even.wrapping_mul(0x000A_0008_0006_0004) >> 48) as u32; // 10, 8, 6, 4
        let odd_sum = (odd.wrapping_mul(0x0009_0007_0005_0003) >> 48) as u32; // 9, 7, 5, 3
        let sum = even_sum + odd_sum + 2 * u32::from(d8);
        if !(sum + u32::from(d9)).is_multiple_of(11) {
            return Err(Self::check_digit_error(sum));
        }
        // The value is built from the word, not copied from the text: one character at a time,
        // which the compiler merges into whole-word stores (copied in pieces and read whole, the
        // grouped form stalled store forwarding; `str::from_utf8` on the ten bytes cost 4 ns a
        // number; a loop over an iterator of the ten, 18 ns: BENCHMARKS.md). `& 0x7F` changes
        // no digit; it tells the compiler each character is one byte of UTF-8.
        let mut digits = arrayvec::ArrayString::new();
        for i in 0..8 {
            let _ = digits.try_push(char::from((word >> (8 * i)) as u8 & 0x7F));
        }
        let _ = digits.try_push(char::from(last2[0] & 0x7F));
        let _ = digits.try_push(char::from(last2[1] & 0x7F));
        if digits.len() == 10 {
            Ok(Self(digits))
        } else {
            Err(InvalidValue::new(Self::KIND, FORM))
        }
    }

    /// Why a number whose digits' weighted sum is not a multiple of 11 is refused.
    #[cold]
    fn check_digit_error(sum_of_nine: u32) -> InvalidValue {
        if sum_of_nine % 11 == 1 {
            InvalidValue::new(Self::KIND, "is not a valid number (check digit 10)")
        } else {
            InvalidValue::new(Self::KIND, "has a wrong check digit")
        }
    }
}
impl NhsNumber {
    /// The ten digits, as they are sent.
    #[inline]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}
validated_string!(NhsNumber, redacted = true, as_str = defined);

/// Message content: must contain at least one character that is not white space.
/// `Debug` and `Display` never show it.
///
/// ```
/// use herohealth::MessageText;
/// assert!(MessageText::parse("Your results are ready").is_ok());
/// assert_eq!(MessageText::parse("  ").unwrap_err().to_string(), "message text must not be empty");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MessageText(String);

impl MessageText {
    /// Refuses empty and all-white-space text.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        if s.trim().is_empty() {
            return Err(InvalidValue::new("message text", "must not be empty"));
        }
        Ok(Self(s.to_owned()))
    }
}
validated_string!(MessageText, redacted = true);

/// Where a message goes: a phone number (at least 10 digits; `+`, spaces, hyphens and brackets
/// allowed) or an email address. `Debug` and `Display` never show it.
///
/// ```
/// use herohealth::ContactDetail;
/// assert!(ContactDetail::parse("07788 123456").is_ok());
/// assert!(ContactDetail::parse("+44 7700 900123").is_ok());
/// assert!(ContactDetail::parse("patient@example.org").is_ok());
/// assert!(ContactDetail::parse("call me").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ContactDetail(String);

impl ContactDetail {
    const KIND: &'static str = "a contact detail";

    /// Accepts a phone number or an email address.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let s = s.trim();
        if s.is_empty() {
            return Err(InvalidValue::new(Self::KIND, "must not be empty"));
        }
        if s.contains('@') {
            let mut parts = s.split('@');
            let (local, domain) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let ok = parts.next().is_none()
                && !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(char::is_whitespace);
            if !ok {
                return Err(InvalidValue::new(
                    Self::KIND,
                    "is not a valid email address",
                ));
            }
        } else {
            let allowed = s
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')'));
            let digits = s.chars().filter(char::is_ascii_digit).count();
            if !allowed || !(10..=15).contains(&digits) || s[1..].contains('+') {
                return Err(InvalidValue::new(
                    Self::KIND,
                    "is neither an email address nor a phone number of 10 to 15 digits",
                ));
            }
        }
        Ok(Self(s.to_owned()))
    }

    /// The one form every spelling of the same address or UK number compares equal in: an email
    /// in lower case; a phone number as `+` and its digits, with a UK number in international
    /// form whichever way it was written (`07700 900123`, `+44 (0)7700 900123`,
    /// `0044 7700 900123`, `447700900123` and `+44-7700-900-123` are all `+447700900123`).
    ///
    /// ```
    /// use herohealth::ContactDetail;
    /// let forms = ["07700 900123", "+44 (0)7700 900123", "0044 7700 900123", "447700900123", "+44-7700-900-123"];
    /// for f in forms {
    ///     assert_eq!(ContactDetail::parse(f)?.canonical(), "+447700900123");
    /// }
    /// assert_eq!(ContactDetail::parse("Ada@Example.ORG")?.canonical(), "ada@example.org");
    /// # Ok::<(), herohealth::InvalidValue>(())
    /// ```
    pub fn canonical(&self) -> String {
        canonical_contact(&self.0)
    }

    /// Whether it is an email address (else a phone number).
    pub fn is_email(&self) -> bool {
        self.0.contains('@')
    }
}
validated_string!(ContactDetail, redacted = true);

/// [`ContactDetail::canonical`] of any text (Hero's `recipient_contact_detail` as listed, which
/// was never parsed).
pub(crate) fn canonical_contact(text: &str) -> String {
    let text = text.trim();
    if text.contains('@') {
        return text.to_lowercase();
    }
    let plus = text.starts_with('+');
    // A `(0)` after the country code is the trunk prefix, written but never dialled.
    let text = text.replace("(0)", "");
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let international = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else if let Some(rest) = digits.strip_prefix('0') {
        format!("44{rest}")
    } else if digits.starts_with("44") && digits.len() == 12 {
        digits
    } else {
        return digits;
    };
    // `+44 0 7700...`: the trunk 0 written after the country code.
    let international = match international.strip_prefix("440") {
        Some(rest) => format!("44{rest}"),
        None => international,
    };
    format!("+{international}")
}

/// A SNOMED CT concept id: 6 to 18 digits, no leading zero, and a valid Verhoeff check digit.
///
/// This is the offline check; Hero's `validateSnomedCode` operation says whether the code exists.
///
/// ```
/// use herohealth::SnomedCode;
/// assert!(SnomedCode::parse("1240751000000100").is_ok());
/// assert_eq!(
///     SnomedCode::parse("1240751000000101").unwrap_err().to_string(),
///     "a SNOMED code has a wrong Verhoeff check digit"
/// );
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SnomedCode(String);

impl SnomedCode {
    const KIND: &'static str = "a SNOMED code";

    /// Checks length, digits and the Verhoeff check digit.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        if !s.bytes().all(|b| b.is_ascii_digit()) || s.is_empty() {
            return Err(InvalidValue::new(Self::KIND, "must contain only digits"));
        }
        if !(6..=18).contains(&s.len()) {
            return Err(InvalidValue::new(Self::KIND, "must be 6 to 18 digits long"));
        }
        if s.starts_with('0') {
            return Err(InvalidValue::new(Self::KIND, "must not start with 0"));
        }
        if !verhoeff::validate(s) {
            return Err(InvalidValue::new(
                Self::KIND,
                "has a wrong Verhoeff check digit",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}
validated_string!(SnomedCode, redacted = false);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhs_number_forms_and_check_digit() {
        for ok in [
            "9434765919",
            "943 476 5919",
            "943-476-5919",
            " 943 476 5919 ",
            // White space at one end only (a spreadsheet's trailing non-breaking space).
            "9434765919\u{a0}",
            " 9434765919",
        ] {
            assert_eq!(NhsNumber::parse(ok).unwrap().as_str(), "9434765919", "{ok}");
        }
        // Check digit 0 (11 - 0 = 11 -> 0).
        assert!(NhsNumber::parse("1000000060").is_ok());
        for (bad, rule) in [
            ("943 476 5918", "has a wrong check digit"),
            (
                "943 476-5919",
                "must be 10 digits, optionally grouped 3-3-4 by spaces or hyphens",
            ),
            (
                "94347659",
                "must be 10 digits, optionally grouped 3-3-4 by spaces or hyphens",
            ),
            ("94347659AB", "must contain only digits"),
            ("1000000010", "is not a valid number (check digit 10)"),
        ] {
            assert_eq!(NhsNumber::parse(bad).unwrap_err().rule(), rule, "{bad}");
        }
    }

    /// The rule as the NHS writes it, one byte at a time (ten digits, or 3-3-4 with one kind of
    /// separator): what the eight-at-once check in `NhsNumber::parse` must agree with.
    fn reference(s: &str) -> Result<String, &'static str> {
        let b = s.trim().as_bytes();
        let digits: Vec<u8> = match b.len() {
            10 => b.to_vec(),
            12 if b[3] == b[7] && (b[3] == b' ' || b[3] == b'-') => (0..12)
                .filter(|i| *i != 3 && *i != 7)
                .map(|i| b[i])
                .collect(),
            _ => return Err("form"),
        };
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err("digits");
        }
        let d: Vec<u32> = digits.iter().map(|c| u32::from(c - b'0')).collect();
        let sum: u32 = (0..9).map(|i| d[i] * (10 - i as u32)).sum();
        match 11 - sum % 11 {
            10 => Err("check digit 10"),
            c if c % 11 != d[9] => Err("wrong check digit"),
            _ => Ok(String::from_utf8(digits).unwrap()),
        }
    }

    fn kind(rule: &str) -> &'static str {
        match rule {
            "has a wrong check digit" => "wrong check digit",
            "is not a valid number (check digit 10)" => "check digit 10",
            "must contain only digits" => "digits",
            _ => "form",
        }
    }

    /// 300,000 numbers (a third of them valid) in the three forms, and every byte at every place
    /// of a valid number replaced by each of the 256 byte values (as a char where it is one):
    /// the parser and the reference agree on every one, and on which rule refuses it.
    #[test]
    fn nhs_number_parse_agrees_with_the_rule_written_plainly() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let agree = |s: &str| {
            let ours = NhsNumber::parse(s).map(|n| n.as_str().to_owned());
            let theirs = reference(s);
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{s:?}"),
                (Err(e), Err(r)) => assert_eq!(kind(e.rule()), *r, "{s:?}"),
                _ => panic!("{s:?}: parse {ours:?}, the rule {theirs:?}"),
            }
            ours.is_ok()
        };
        let mut valid = 0;
        for _ in 0..100_000 {
            let n = format!("{:010}", next() % 10_000_000_000);
            let grouped = |sep: char| format!("{}{sep}{}{sep}{}", &n[..3], &n[3..6], &n[6..]);
            for form in [n.clone(), grouped(' '), grouped('-')] {
                valid += usize::from(agree(&form));
            }
        }
        assert!(valid > 20_000, "valid numbers were tried: {valid}");
        for good in ["9434765919", "943 476 5919", "943-476-5919", "1000000060"] {
            for at in 0..good.len() {
                for byte in 0..=255u8 {
                    let mut s = good.as_bytes().to_vec();
                    s[at] = byte;
                    if let Ok(s) = String::from_utf8(s) {
                        agree(&s);
                    }
                    let c = char::from(byte).to_string();
                    agree(&format!("{}{c}{}", &good[..at], &good[at + 1..]));
                }
            }
        }
    }

    #[test]
    fn errors_never_contain_the_value() {
        let err = NhsNumber::parse("943 476 5918").unwrap_err();
        assert!(!err.to_string().contains("5918"));
        let err = ContactDetail::parse("07788 12").unwrap_err();
        assert!(!err.to_string().contains("07788"));
    }

    #[test]
    fn snomed_codes() {
        assert!(SnomedCode::parse("1240751000000100").is_ok());
        assert!(SnomedCode::parse("22298006").is_ok()); // myocardial infarction
        assert!(SnomedCode::parse("22298007").is_err());
        assert!(SnomedCode::parse("0229800").is_err());
        assert!(SnomedCode::parse("12345").is_err());
        // The rule named is the one broken.
        for (bad, rule) in [
            ("", "must contain only digits"),
            ("1240751a00000100", "must contain only digits"),
            ("12345", "must be 6 to 18 digits long"),
        ] {
            assert_eq!(SnomedCode::parse(bad).unwrap_err().rule(), rule, "{bad:?}");
        }
    }

    #[test]
    fn contact_details() {
        assert!(ContactDetail::parse("a@b").is_err());
        assert!(ContactDetail::parse("a@@b.com").is_err());
        assert!(ContactDetail::parse("0778+8123456").is_err());
        assert!(ContactDetail::parse("+44 (0)7700 900123").is_ok());
    }
}

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
