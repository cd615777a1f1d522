//! Property bodies shared by the cargo-fuzz targets (`fuzz/`) and the bounded proptest runs in
//! `cargo test` (`tests/properties.rs`): the same checks, two kinds of input. Not a stable API.

use crate::NhsNumber;

/// Decodes `data` as every response body the client reads, and reads it as the body of error
/// statuses; whatever error results must show no word of the body that the API description does
/// not declare (a name, a phone number, message text), whether or not the body is JSON.
///
/// # Panics
/// When a property does not hold (that is what the fuzzer looks for).
pub fn decode_every_response(data: &[u8]) {
    let shown = shown_for(data);
    for word in words(data) {
        // JSON's own words and the words the spec declares are structure, kept on purpose.
        if ["true", "false", "null"].contains(&word.as_str())
            || crate::spec::STRUCTURAL_WORDS.contains(&word.as_str())
            || crate::spec::RESPONSE_WORDS.contains(&word.to_ascii_lowercase().as_str())
            || !shown.iter().any(|(_, text)| text.contains(word.as_str()))
        {
            continue;
        }
        // The word is shown: it must come from the crate's own text, not from the body. With
        // the word disguised in the body (same shape, other letters and digits), it is still
        // shown where it came from the crate, and gone where it was echoed.
        let disguised = disguise(data, &word);
        for ((name, before), (_, after)) in shown.iter().zip(shown_for(&disguised)) {
            if before.contains(word.as_str()) {
                assert!(
                    after.contains(word.as_str()),
                    "the body's {word:?} shown in the {name} error: {before}"
                );
            }
        }
    }
}

/// The text of every error `data` gives: as each success body (`{err} {err:?}`), decoded by the
/// decoder `send()` uses, and as the body of a 400, 404, 429 and 500 answer.
fn shown_for(data: &[u8]) -> Vec<(&'static str, String)> {
    let mut shown = Vec::new();
    // The list of types is generated from the spec (every success body and error body).
    crate::api::decode_each_response(data, |name, failure| {
        let text = failure.map(|err| format!("{err} {err:?}"));
        shown.push((name, text.unwrap_or_default()));
    });
    for (name, status) in [("400", 400), ("404", 404), ("429", 429), ("500", 500)] {
        let err = crate::transport::error_for_status_body(status, data);
        shown.push((name, format!("{err} {err:?}")));
    }
    shown
}

/// Runs of 4 or more ASCII letters, digits and `_` (so that `first_name` is one word): the
/// shortest text that could name a patient.
fn words(data: &[u8]) -> std::collections::BTreeSet<String> {
    data.split(|b| !is_word(*b))
        .filter(|w| w.len() >= 4)
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect()
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `data` with every whole-word `word` replaced by one of the same shape: letters shifted by one
/// (keeping case), digits 1-9 shifted within 1-9 (so a number stays a number), 0 kept.
fn disguise(data: &[u8], word: &str) -> Vec<u8> {
    let other: Vec<u8> = word
        .bytes()
        .map(|b| match b {
            b'a'..=b'y' | b'A'..=b'Y' => b + 1,
            b'z' => b'a',
            b'Z' => b'A',
            b'1'..=b'8' => b + 1,
            b'9' => b'1',
            b => b,
        })
        .collect();
    let w = word.as_bytes();
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        let starts = data[i..].starts_with(w)
            && (i == 0 || !is_word(data[i - 1]))
            && data.get(i + w.len()).is_none_or(|b| !is_word(*b));
        if starts {
            out.extend_from_slice(&other);
            i += w.len();
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out
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
