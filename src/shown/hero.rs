//! Hero's own words, shown only as the spec declares them: its error message as a whole phrase of
//! `x-herohealth-messages` (slots masked), and a validation issue's path, code and expected type
//! only in the spec's words.

use super::body::{mask_key, structural};

/// At most this many characters of a masked text go into an error.
const TEXT_CHARS: usize = super::body::EXCERPT_CHARS;

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
    for c in text.chars().take(4 * TEXT_CHARS) {
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
    out.trim().chars().take(TEXT_CHARS).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

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
        // A Hero message is shown only whole: a long one that ends in a declared phrase is not.
        let long = format!("{}not found", "Ada ".repeat(200));
        assert_eq!(mask_hero_message(&long), "…");
    }
}
