//! Where a message goes: a [`ContactDetail`], and the one form every spelling of it compares in.

use super::InvalidValue;

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
validated_string!(ContactDetail, shown = redacted);

/// [`ContactDetail::canonical`] of any text (Hero's `recipient_contact_detail` as listed, which
/// was never parsed).
///
/// Built in one buffer (`find_send` canonicalises every listed recipient, a thousand or more for
/// one answer): `+` and the digits, then the prefix rewritten in place.
pub(crate) fn canonical_contact(text: &str) -> String {
    let text = text.trim();
    if text.contains('@') {
        return text.to_lowercase();
    }
    let plus = text.starts_with('+');
    let mut out = String::with_capacity(text.len() + 2);
    out.push('+');
    let mut rest = text.as_bytes();
    while let Some((&b, after)) = rest.split_first() {
        if let Some(after) = rest.strip_prefix(b"(0)") {
            // A `(0)` after the country code is the trunk prefix, written but never dialled.
            rest = after;
            continue;
        }
        if b.is_ascii_digit() {
            out.push(char::from(b));
        }
        rest = after;
    }
    // `out` is `+` and the digits; the digits' own prefix decides the international form.
    if !plus {
        let digits = &out[1..];
        if digits.starts_with("00") {
            out.replace_range(1..3, "");
        } else if digits.starts_with('0') {
            out.replace_range(1..2, "44");
        } else if !(digits.starts_with("44") && digits.len() == 12) {
            out.remove(0);
            return out;
        }
    }
    // `+44 0 7700...`: the trunk 0 written after the country code.
    if out[1..].starts_with("440") {
        out.remove(3);
    }
    out
}
