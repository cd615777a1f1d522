//! Property bodies shared by the cargo-fuzz targets (`fuzz/`) and the bounded proptest runs in
//! `cargo test` (`tests/properties.rs`): the same checks, two kinds of input. Not a stable API.

use crate::{Error, NhsNumber};

/// Decodes `data` as every response body the client reads; a failure must become an [`Error`]
/// whose text shows no patient-like value of the body (phone numbers, NHS numbers, emails).
///
/// # Panics
/// When a property does not hold (that is what the fuzzer looks for).
pub fn decode_every_response(data: &[u8]) {
    // The list of types is generated from the spec (every success body and error body).
    crate::api::spec::decode_each_response(data, |_, failure| {
        if let Some(e) = failure {
            let err = Error::from(progenitor_client::Error::<()>::InvalidResponsePayload(
                bytes::Bytes::copy_from_slice(data),
                e,
            ));
            check_redacted(data, &format!("{err} {err:?}"));
        }
    });
}

/// Patient-like strings of the body (8+ characters of digits, `+` and spaces, or holding an `@`)
/// must not appear in `shown`.
fn check_redacted(data: &[u8], shown: &str) {
    fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
            serde_json::Value::Object(map) => map.values().for_each(|i| strings(i, out)),
            _ => {}
        }
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let mut found = Vec::new();
    strings(&value, &mut found);
    for s in found {
        let phone_like = s.len() >= 8
            && s.chars()
                .all(|c| c.is_ascii_digit() || c == '+' || c == ' ')
            && s.trim().len() >= 8;
        let email_like = s.contains('@') && s.len() >= 3;
        if phone_like || email_like {
            assert!(!shown.contains(&s), "{s:?} shown in an error: {shown}");
        }
    }
}

/// Parses `text` as an NHS number: never panics; what is accepted is ten digits whose check digit
/// is right, and it parses again to itself.
///
/// # Panics
/// When a property does not hold.
pub fn parse_nhs_number(text: &str) {
    if let Ok(n) = NhsNumber::parse(text) {
        let digits: Vec<u32> = n.as_str().chars().filter_map(|c| c.to_digit(10)).collect();
        assert_eq!(digits.len(), 10, "accepted {text:?}");
        let sum: u32 = digits[..9]
            .iter()
            .enumerate()
            .map(|(i, d)| d * (10 - i as u32))
            .sum();
        assert_eq!(
            (11 - sum % 11) % 11,
            digits[9],
            "accepted {text:?} with a wrong check digit"
        );
        assert_eq!(NhsNumber::parse(n.as_str()).as_ref(), Ok(&n));
    }
}
