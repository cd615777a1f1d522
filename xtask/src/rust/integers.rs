//! typify's integers: the Rust integer type an `integer` schema becomes (its `format` and bounds
//! choose it, as typify 0.8's `convert_integer` does), and the values that type holds.

use super::limit;
use crate::normal::Norm;

/// typify's integer formats, most restrictive first: format, type, type for `minimum: 1`, and
/// the range of the format.
const INTEGERS: [(&str, &str, &str, f64, f64); 10] = [
    ("int8", "i8", "NonZeroU8", -128.0, 127.0),
    ("uint8", "u8", "NonZeroU8", 0.0, 255.0),
    ("int16", "i16", "NonZeroU16", -32_768.0, 32_767.0),
    ("uint16", "u16", "NonZeroU16", 0.0, 65_535.0),
    (
        "int",
        "i32",
        "NonZeroU32",
        -2_147_483_648.0,
        2_147_483_647.0,
    ),
    (
        "int32",
        "i32",
        "NonZeroU32",
        -2_147_483_648.0,
        2_147_483_647.0,
    ),
    ("uint", "u32", "NonZeroU32", 0.0, 4_294_967_295.0),
    ("uint32", "u32", "NonZeroU32", 0.0, 4_294_967_295.0),
    (
        "int64",
        "i64",
        "NonZeroU64",
        -9.223_372_036_854_776e18,
        9.223_372_036_854_776e18,
    ),
    (
        "uint64",
        "u64",
        "NonZeroU64",
        0.0,
        1.844_674_407_370_955_2e19,
    ),
];

/// The range of an integer `format` typify knows (`int32`: `i32`'s).
pub fn integer_format(format: Option<&str>) -> Option<(f64, f64)> {
    let format = format?;
    INTEGERS
        .iter()
        .find(|(f, ..)| *f == format)
        .map(|(_, _, _, min, max)| (*min, *max))
}

/// The values an integer type holds.
pub(super) fn integer_range(ty: &str) -> (f64, f64) {
    let nonzero = ty.strip_prefix("NonZero").map(str::to_lowercase);
    let plain = nonzero.as_deref().unwrap_or(ty);
    let (_, _, _, min, max) = INTEGERS
        .iter()
        .find(|(_, t, ..)| *t == plain)
        .copied()
        .unwrap_or(INTEGERS[8]);
    (if nonzero.is_some() { 1.0 } else { min }, max)
}

/// The integer type typify chooses for an `integer` schema (its `convert_integer`).
pub(super) fn integer_type(n: &Norm) -> String {
    let (low, high) = (limit(n, "minimum"), limit(n, "exclusiveMinimum"));
    let mut min = match (low, high) {
        (None, None) => None,
        (None, Some(e)) => Some(e + 1.0),
        (Some(m), None) => Some(m),
        (Some(m), Some(e)) => Some(m.max(e + 1.0)),
    };
    let (low, high) = (limit(n, "maximum"), limit(n, "exclusiveMaximum"));
    let mut max = match (low, high) {
        (None, None) => None,
        (None, Some(e)) => Some(e - 1.0),
        (Some(m), None) => Some(m),
        (Some(m), Some(e)) => Some(m.min(e - 1.0)),
    };
    let multiple = n.assertions.contains_key("multipleOf");
    if let Some((_, ty, nonzero, fmin, fmax)) = n
        .format
        .as_deref()
        .and_then(|f| INTEGERS.iter().find(|(name, ..)| *name == f))
    {
        let fits = min.is_none_or(|m| m >= *fmin) && max.is_none_or(|m| m <= *fmax);
        if !multiple && fits {
            return (if min == Some(1.0) { nonzero } else { ty }).to_string();
        }
        min.get_or_insert(*fmin);
        max.get_or_insert(*fmax);
    }
    let found = INTEGERS
        .iter()
        .rev()
        .find_map(|(_, ty, nonzero, fmin, fmax)| match (min, max) {
            (Some(1.0), _) => Some(*nonzero),
            (None, Some(m)) if *fmax == m => Some(*ty),
            (Some(m), None) if *fmin == m => Some(*ty),
            (Some(a), Some(b)) if *fmin == a && *fmax == b => Some(*ty),
            _ => None,
        });
    found.unwrap_or("i64").to_owned()
}

#[cfg(test)]
mod tests {
    use super::super::{Field, of};
    use serde_json::{Value, json};

    fn ty(v: Value) -> super::super::Rust {
        of(&json!({}), &v, Field::Not)
    }

    #[test]
    fn integers_as_typify_chooses_them() {
        let name = |v: Value| ty(v).name;
        assert_eq!(name(json!({"type": "integer"})), "i64");
        assert_eq!(
            name(json!({"type": "integer", "format": "int64", "minimum": 1})),
            "NonZeroU64"
        );
        assert_eq!(
            name(json!({"type": "integer", "format": "int64", "minimum": 0})),
            "i64"
        );
        assert_eq!(name(json!({"type": "integer", "minimum": 0})), "u64");
        assert_eq!(name(json!({"type": "integer", "format": "int32"})), "i32");
        assert_eq!(
            name(json!({"type": "integer", "format": "int32", "maximum": 1e12})),
            "i64"
        );
        assert_eq!(
            ty(json!({"type": "integer", "minimum": 1})).integers(),
            Some((1.0, 1.844_674_407_370_955_2e19))
        );
    }
}
