//! Texts from outside, by structure: a body excerpt keeps JSON punctuation, `true`/`false`/
//! `null` and the keys the API description declares (`api::spec::STRUCTURAL_WORDS`); every value,
//! every other key and every other run of text becomes `…` (numbers `#`), whether or not the body
//! parses. A JSON path keeps declared keys and indices. A decode failure is described by its path
//! and serde_json's category, never by serde's text.

use std::fmt::Write as _;

/// Whether the API description declares `word` (a property name, an enum value, a listed word).
pub(crate) fn structural(word: &str) -> bool {
    crate::api::spec::STRUCTURAL_WORDS
        .binary_search(&word)
        .is_ok()
}

/// At most this many characters of a masked body go into an error.
pub(crate) const EXCERPT_CHARS: usize = 300;

/// At most this many bytes of a body are looked at for an excerpt.
const EXCERPT_INPUT: usize = 16 * 1024;

/// A bounded excerpt of a body with every value masked (see the module docs), and its length.
///
/// ```text
/// {"data":[{"first_name":"Ada","count":3}]}   ->  {"data":[{"first_name":"…","count":#}]} (41 bytes)
/// {"data":[{"first_name":"Ada                 ->  {"data":[{"first_name":"… (29 bytes)
/// <html><body>Ada Lovelace</body></html>      ->  … (38 bytes)
/// ```
pub(crate) fn mask_body(bytes: &[u8]) -> String {
    let input = &bytes[..bytes.len().min(EXCERPT_INPUT)];
    let mut out = String::new();
    let mut i = 0;
    let push_gap = |out: &mut String| {
        if !out.ends_with('…') {
            out.push('…');
        }
    };
    while i < input.len() && out.chars().count() <= EXCERPT_CHARS {
        let b = input[i];
        match b {
            b'{' | b'}' | b'[' | b']' | b':' | b',' => {
                out.push(b as char);
                i += 1;
            }
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < input.len() && input[j] != b'"' {
                    j += if input[j] == b'\\' { 2 } else { 1 };
                }
                let closed = j < input.len();
                let content = &input[start..j.min(input.len())];
                let mut k = j + 1;
                while k < input.len() && input[k].is_ascii_whitespace() {
                    k += 1;
                }
                let is_key = closed && input.get(k) == Some(&b':');
                match std::str::from_utf8(content) {
                    Ok(key) if is_key && structural(key) => {
                        out.push('"');
                        out.push_str(key);
                        out.push('"');
                    }
                    _ if closed => out.push_str("\"…\""),
                    _ => out.push_str("\"…"),
                }
                i = j + 1;
            }
            b'-' | b'0'..=b'9' => {
                while i < input.len()
                    && matches!(input[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                out.push('#');
            }
            _ => {
                let start = i;
                while i < input.len()
                    && !matches!(
                        input[i],
                        b'{' | b'}'
                            | b'['
                            | b']'
                            | b':'
                            | b','
                            | b'"'
                            | b' '
                            | b'\t'
                            | b'\r'
                            | b'\n'
                    )
                {
                    i += 1;
                }
                match &input[start..i] {
                    b"true" | b"false" | b"null" => {
                        out.push_str(std::str::from_utf8(&input[start..i]).unwrap_or("…"))
                    }
                    _ => push_gap(&mut out),
                }
            }
        }
    }
    if out.chars().count() > EXCERPT_CHARS || input.len() < bytes.len() && i >= input.len() {
        out = out.chars().take(EXCERPT_CHARS).collect();
        push_gap(&mut out);
    }
    format!("{out} ({} bytes)", bytes.len())
}

/// A key of a JSON path or an issue path: kept when the API description declares it, else `…`.
pub(crate) fn mask_key(key: &str) -> &str {
    if structural(key) { key } else { "…" }
}

/// A JSON path from serde_path_to_error, in `$.data[3].patient.title` form, keys masked.
pub(crate) fn json_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::from("$");
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push('.');
                out.push_str(mask_key(key));
            }
            Segment::Unknown => out.push_str(".?"),
        }
    }
    out
}

/// What went wrong decoding a body as `T`, from structure only: where (the JSON path, keys
/// masked), what kind of failure (serde_json's category), and what was expected (the crate's
/// own type). serde's message, which quotes what it read, is never looked at.
pub(crate) fn decode_failure(
    path: Option<&serde_path_to_error::Path>,
    error: &serde_json::Error,
    expected: &str,
) -> String {
    use serde_json::error::Category;
    let what = match error.classify() {
        Category::Data => "a value does not fit",
        Category::Syntax => "not valid JSON",
        Category::Eof => "the body ends early",
        Category::Io => "the body could not be read",
    };
    let mut out = String::new();
    if let Some(path) = path {
        let _ = write!(out, "at {}: ", json_path(path));
    }
    let expected = expected.rsplit("::").next().unwrap_or(expected);
    let _ = write!(
        out,
        "{what} (line {} column {}; expected {expected})",
        error.line(),
        error.column()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_keep_structure_only() {
        let body =
            br#"{"first_name":"Ada","nhs":9434765919,"ok":true,"x":[null],"Ada Lovelace":1}"#;
        assert_eq!(
            mask_body(body),
            format!(
                r#"{{"first_name":"…","…":#,"…":true,"…":[null],"…":#}} ({} bytes)"#,
                body.len()
            )
        );
        let cut = br#"{"data":[{"title":"Dr","first_name":"Ada","last_name":"Cav"#;
        assert_eq!(
            mask_body(cut),
            format!(
                r#"{{"data":[{{"title":"…","first_name":"…","last_name":"… ({} bytes)"#,
                cut.len()
            )
        );
        let html = b"<html><body>502 Bad Gateway for ada@example.org</body></html>";
        assert_eq!(mask_body(html), format!("… ({} bytes)", html.len()));
    }

    #[test]
    fn keys_are_read_across_white_space_and_far_into_a_body() {
        // White space between a key and its colon (pretty printers put it there).
        let spaced = br#"{ "count" : 3, "first_name"	:	"Ada" }"#;
        assert_eq!(
            mask_body(spaced),
            format!(r#"{{"count":#,"first_name":"…"}} ({} bytes)"#, spaced.len())
        );
        // The structure after a long value (8 KiB of a letter) is still read: the excerpt looks
        // at the first 16 KiB, not the first 1 KiB.
        let long = format!(r#"{{"content":"{}","count":7}}"#, "A".repeat(8 * 1024));
        assert_eq!(
            mask_body(long.as_bytes()),
            format!(r#"{{"content":"…","count":#}} ({} bytes)"#, long.len())
        );
    }

    #[test]
    fn an_excerpt_is_cut_at_its_length_and_says_so() {
        // Under the 16 KiB read, but more than 300 characters once masked: cut, and marked.
        let many = format!("[{}1]", "1,".repeat(400));
        let masked = mask_body(many.as_bytes());
        let excerpt = masked
            .strip_suffix(&format!(" ({} bytes)", many.len()))
            .unwrap();
        assert_eq!(excerpt.chars().count(), EXCERPT_CHARS + 1, "{excerpt}");
        assert!(
            excerpt.starts_with("[#,#,") && excerpt.ends_with('…'),
            "{excerpt}"
        );
    }

    #[test]
    fn an_excerpt_of_exactly_its_length_is_whole_and_a_cut_read_is_marked() {
        // Masked to exactly 300 characters: whole, no mark.
        let exact = format!("[{}1", "1,".repeat(149));
        assert_eq!(
            mask_body(exact.as_bytes()),
            format!("[{}# ({} bytes)", "#,".repeat(149), exact.len())
        );
        // Only the first 16 KiB are read: a body longer than that is marked as cut, even when
        // what was read ends in structure (here white space runs past the 16 KiB).
        let padded = format!(r#"{{"count":1{}}}"#, " ".repeat(20 * 1024));
        assert_eq!(
            mask_body(padded.as_bytes()),
            format!(r#"{{"count":#… ({} bytes)"#, padded.len())
        );
    }

    #[test]
    fn a_decode_failure_is_told_by_its_path_and_category_never_its_text() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Row {
            count: u32,
        }
        let bytes = br#"{"count":"Zebedee Quenby 9434765919"}"#;
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let e = serde_path_to_error::deserialize::<_, Row>(&mut de).unwrap_err();
        assert_eq!(
            decode_failure(Some(e.path()), e.inner(), "herohealth::types::Row"),
            "at $.count: a value does not fit (line 1 column 36; expected Row)"
        );
        let e = serde_json::from_slice::<Row>(b"{\"count\":").unwrap_err();
        assert_eq!(
            decode_failure(None, &e, "Row"),
            "the body ends early (line 1 column 9; expected Row)"
        );
        let e = serde_json::from_slice::<Row>(b"{Zebedee}").unwrap_err();
        assert!(decode_failure(None, &e, "Row").starts_with("not valid JSON (line 1 column 2"));
    }
}
