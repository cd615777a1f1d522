//! The masks every text from outside goes through before it reaches an error, a log or a
//! `Debug`.
//!
//! The masks work by structure, not by guessing what looks sensitive. A body excerpt keeps JSON
//! punctuation, `true`/`false`/`null`, and the keys the API description declares
//! (`api::spec::STRUCTURAL_WORDS`); every value, every other key and every other run of
//! text becomes `…` (numbers `#`), whether or not the body parses: a truncated string, an HTML page
//! or a text error are masked the same way. Hero's own message keeps only the words the API
//! description's responses use. serde's messages lose everything they quote.

/// At most this many characters of a masked body go into an error.
pub(crate) const EXCERPT_CHARS: usize = 300;

/// At most this many bytes of a body are looked at for an excerpt.
const EXCERPT_INPUT: usize = 16 * 1024;

fn structural(word: &str) -> bool {
    crate::api::spec::STRUCTURAL_WORDS
        .binary_search(&word)
        .is_ok()
}

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

/// Hero's own error message, shown only when it is, whole, one of the messages the spec declares
/// (`api::spec::HERO_MESSAGES`; case, surrounding white space and a final full stop aside), or one
/// with slots whose text becomes `…`: `"No patient found: Ada Lovelace"` -> `"No patient found:
/// …"`. Anything else is `…`: a message is never shown word by word, so a name that happens to be
/// a word of the API does not slip through.
pub(crate) fn mask_hero_message(message: &str) -> String {
    let m = message.trim().trim_end_matches('.').trim_end();
    for phrase in crate::api::spec::HERO_MESSAGES {
        match phrase.split_once("{}") {
            None if m.eq_ignore_ascii_case(phrase) => return (*phrase).to_owned(),
            Some((before, after))
                if m.len() > before.len() + after.len()
                    && m.is_char_boundary(before.len())
                    && m.is_char_boundary(m.len() - after.len())
                    && m[..before.len()].eq_ignore_ascii_case(before)
                    && m[m.len() - after.len()..].eq_ignore_ascii_case(after) =>
            {
                return format!("{before}…{after}");
            }
            _ => {}
        }
    }
    "…".to_owned()
}

/// `text` with every word `keep` refuses replaced by `…` (runs of them by one).
fn mask_words(text: &str, keep: impl Fn(&str) -> bool) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        if keep(word) {
            out.push_str(word);
        } else if !out.trim_end().ends_with('…') {
            out.push('…');
        }
        word.clear();
    };
    for c in text.chars().take(4 * EXCERPT_CHARS) {
        if c.is_whitespace() || "()[].,;:/!?|'\"`=<>".contains(c) {
            flush(&mut word, &mut out);
            let c = if c.is_whitespace() { ' ' } else { c };
            if !(c == ' ' && (out.ends_with(' ') || out.trim_end().ends_with('…'))) {
                out.push(c);
            }
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out.trim().chars().take(EXCERPT_CHARS).collect()
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

impl crate::api::types::ValidationIssue {
    /// The field Hero refused, as a dotted path (`recipients.0.dob`): names the API description
    /// declares and indices; any other text Hero put in the path is masked (`…`).
    ///
    /// ```
    /// # fn show(err: &herohealth::Error) {
    /// for issue in err.validation_issues() {
    ///     eprintln!("Hero refused {}", issue.field());
    /// }
    /// # }
    /// ```
    pub fn field(&self) -> String {
        use crate::api::types::ValidationIssuePathItem as P;
        let path: Vec<String> = self
            .path
            .iter()
            .map(|p| match p {
                P::String(s) => mask_key(s).to_owned(),
                P::Integer(i) => i.to_string(),
            })
            .collect();
        path.join(".")
    }
}

/// One of Hero's validation issues with everything outside the spec's words masked: path strings
/// the API does not declare, and any word of `code` or `expected` it does not list, become `…`.
pub(crate) fn mask_issue(
    issue: &crate::api::types::ValidationIssue,
) -> crate::api::types::ValidationIssue {
    use crate::api::types::ValidationIssuePathItem as P;
    let word = |s: &str| mask_words(s, structural);
    crate::api::types::ValidationIssue {
        code: word(&issue.code),
        expected: word(&issue.expected),
        path: issue
            .path
            .iter()
            .map(|p| match p {
                P::String(s) => P::String(mask_key(s).to_owned()),
                P::Integer(i) => P::Integer(*i),
            })
            .collect(),
    }
}

/// One of Hero's validation issues, masked: `recipients.0.dob (invalid_date, expected date)`.
pub(crate) fn describe_issue(issue: &crate::api::types::ValidationIssue) -> String {
    // Zod's codes and expected types: the words `openapi.yaml` declares for them, and enum values.
    let word = |s: &str| mask_words(s, structural);
    format!(
        "{} ({}, expected {})",
        issue.field(),
        word(&issue.code),
        word(&issue.expected)
    )
}

/// serde_json's message without the values it quotes: "invalid type: string \"Ada\", expected a
/// boolean at line 1 column 9" becomes "invalid type: string \"…\", expected a boolean"; a
/// backquoted name is kept only when the API description declares it.
pub(crate) fn serde_message(e: &serde_json::Error) -> String {
    crate::redact::unquoted(&e.to_string(), structural, EXCERPT_CHARS)
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
        // A Hero message is shown only whole: a long one that ends in a declared phrase is not.
        let long = format!("{}not found", "Ada ".repeat(200));
        assert_eq!(mask_hero_message(&long), "…");
    }

    #[test]
    fn serde_messages_lose_their_values() {
        let e = serde_json::from_str::<bool>("\"Ada Lovelace\"").unwrap_err();
        assert_eq!(
            serde_message(&e),
            "invalid type: string \"…\", expected a boolean"
        );
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct S {
            created_at: String,
        }
        let e = serde_json::from_str::<S>("{}").unwrap_err();
        assert_eq!(serde_message(&e), "missing field `created_at`");
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct T {}
        let e = serde_json::from_str::<T>(r#"{"Ada":1}"#).unwrap_err();
        assert!(!serde_message(&e).contains("Ada"), "{}", serde_message(&e));
    }

    #[test]
    fn hero_messages_show_only_as_declared_phrases() {
        assert_eq!(mask_hero_message("Unauthorised"), "Unauthorised");
        assert_eq!(mask_hero_message("  not FOUND. "), "Not found");
        assert_eq!(
            mask_hero_message("No patient found: Ada Lovelace (9434765919)"),
            "No patient found: …"
        );
        assert_eq!(
            mask_hero_message("Batch 12 already sent"),
            "Batch … already sent"
        );
        // A surname that is also a word of the API never shows: the message is not a phrase.
        assert_eq!(
            mask_hero_message("No patient found for Page, Hero Key"),
            "…"
        );
        assert_eq!(
            mask_hero_message("Not found: Ada Lovelace (9434765919)"),
            "…"
        );
        // An empty slot is not a match.
        assert_eq!(mask_hero_message("No patient found: "), "…");
        assert_eq!(mask_hero_message("Batch  already sent"), "…");
        assert_eq!(mask_hero_message(""), "…");
    }
}
