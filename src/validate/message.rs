//! What a message says: its [`MessageText`], and the [`SnomedCode`] of its entry in the record.

use super::InvalidValue;

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
validated_string!(MessageText, shown = redacted);

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
validated_string!(SnomedCode, shown = as_is);
