//! The patient's ids: Hero's [`PatientId`] and the [`NhsNumber`].

use super::InvalidValue;

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
validated_string!(PatientId, shown = PATIENT_ID);

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
validated_string!(NhsNumber, shown = redacted, as_str = defined);
