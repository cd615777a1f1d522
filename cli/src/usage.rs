//! Usage errors in the CLI's own words. clap's own rendering quotes what was typed
//! (`invalid value '02/06/1955' for '--dob'`, `unexpected argument 'Jane' found`), and what was typed
//! is often patient data (a name, an NHS number, a phone number, a date of birth) in the wrong place.
//! So an error is rendered here from its kind and context: the option's name (safe: the CLI's own
//! text), the rule it broke, the values it takes, the position of an unexpected word; never the
//! value itself.

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// What to print on stderr for a command line clap refused (the caller exits 2).
pub(crate) fn render(e: &clap::Error, typed: &[OsString]) -> String {
    let arg = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => Some(v.join(", ")),
        _ => None,
    };
    let list = |kind| match e.get(kind) {
        Some(ContextValue::Strings(v)) if !v.is_empty() => Some(v.join(", ")),
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let name = arg(ContextKind::InvalidArg);
    let message = match e.kind() {
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let what = name.unwrap_or_else(|| "an argument".to_owned());
            let value = match e.get(ContextKind::InvalidValue) {
                Some(ContextValue::String(v)) => v.clone(),
                _ => String::new(),
            };
            let reason = list(ContextKind::ValidValue)
                .map(|v| format!("expected one of: {v}"))
                .or_else(|| {
                    // The value parser's own reason, when it does not quote the value (the
                    // CLI's parsers never do; a library's might).
                    let source = std::error::Error::source(e)?.to_string();
                    let echoes = !value.trim().is_empty() && source.contains(value.trim());
                    (!echoes && !source.trim().is_empty()).then_some(source)
                })
                .unwrap_or_else(|| "not a valid value (see --help)".to_owned());
            // clap's own "a value is required" has an empty value; a value parser's refusal
            // (ours leave the value out of the error) has none or the value.
            let missing = matches!(e.get(ContextKind::InvalidValue), Some(ContextValue::String(v)) if v.is_empty());
            if missing && e.kind() == ErrorKind::InvalidValue {
                format!("{what} needs a value")
            } else {
                format!("invalid value for {what}: {reason}")
            }
        }
        ErrorKind::UnknownArgument => {
            let typed_arg = name.unwrap_or_default();
            match flag_name(&typed_arg) {
                Some(flag) => format!("unknown option {flag}"),
                None => format!(
                    "unexpected argument {}: a value with spaces must be in quotes \
                     (--text \"Your results are ready\")",
                    position(typed, &typed_arg)
                ),
            }
        }
        ErrorKind::InvalidSubcommand => {
            let typed_sub = arg(ContextKind::InvalidSubcommand).unwrap_or_default();
            format!("unknown command {}", position(typed, &typed_sub))
        }
        ErrorKind::MissingRequiredArgument => format!(
            "missing: {}",
            name.unwrap_or_else(|| "a required argument".to_owned())
        ),
        ErrorKind::MissingSubcommand => "a command is needed".to_owned(),
        ErrorKind::ArgumentConflict => {
            let other = arg(ContextKind::PriorArg).unwrap_or_else(|| "another option".to_owned());
            format!(
                "{} cannot be used with {other}",
                name.unwrap_or_else(|| "an option".to_owned())
            )
        }
        ErrorKind::NoEquals => format!(
            "{} needs `=` before its value",
            name.unwrap_or_else(|| "an option".to_owned())
        ),
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues | ErrorKind::TooFewValues => {
            format!(
                "wrong number of values for {}",
                name.unwrap_or_else(|| "an option".to_owned())
            )
        }
        ErrorKind::InvalidUtf8 => format!(
            "{} is not UTF-8 text",
            name.unwrap_or_else(|| "an argument".to_owned())
        ),
        _ => "the command line could not be read".to_owned(),
    };
    let mut out = format!("error: {message}\n");
    for (kind, lead) in [
        (ContextKind::SuggestedArg, "did you mean"),
        (ContextKind::SuggestedSubcommand, "did you mean"),
        (ContextKind::ValidSubcommand, "commands"),
    ] {
        if let Some(s) = list(kind) {
            out.push_str(&format!("  {lead}: {s}\n"));
        }
    }
    if let Some(ContextValue::StyledStr(usage)) = e.get(ContextKind::Usage) {
        out.push_str(&format!("\n{usage}\n"));
    }
    out.push_str("\nFor more information, try '--help'.\n");
    out
}

/// The option's name when `typed` is an option (`--frobnicate`, `--to=...` gives `--to`, `-x`);
/// `None` for anything else, which is a value typed where none is expected.
fn flag_name(typed: &str) -> Option<String> {
    let name = typed.split('=').next().unwrap_or_default();
    let long = name
        .strip_prefix("--")
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    let short = name.len() == 2
        && name.starts_with('-')
        && name[1..].chars().all(|c| c.is_ascii_alphabetic());
    (long || short).then(|| name.to_owned())
}

/// Where `word` is on the command line: `(word 7 of the command line)`, or nothing when it is not
/// found as typed.
fn position(typed: &[OsString], word: &str) -> String {
    typed
        .iter()
        .skip(1)
        .position(|a| a.to_str() == Some(word))
        .map_or_else(
            || "on the command line".to_owned(),
            |i| format!("at word {} of the command line", i + 1),
        )
}

#[cfg(test)]
mod tests {
    use super::flag_name;

    #[test]
    fn only_option_shaped_words_are_named() {
        assert_eq!(flag_name("--frobnicate").as_deref(), Some("--frobnicate"));
        assert_eq!(flag_name("--to=07700900123").as_deref(), Some("--to"));
        assert_eq!(flag_name("-x").as_deref(), Some("-x"));
        for value in [
            "Jane",
            "-07700900123",
            "--",
            "--Jane Doe",
            "943-476-5919",
            "-1",
        ] {
            assert_eq!(flag_name(value), None, "{value}");
        }
    }
}
