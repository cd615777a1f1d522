//! Usage errors in the CLI's own words. clap's own rendering quotes what was typed
//! (`invalid value '02/06/1955' for '--dob'`, `unexpected argument 'Jane' found`), and what was typed
//! is often patient data (a name, an NHS number, a phone number, a date of birth) in the wrong place.
//! So an error is rendered here from its kind and context: the option's name (safe: the CLI's own
//! text), the rule it broke (only in the CLI's own words, `args::Refused`), the values it takes,
//! the position of an unexpected word or an unknown option; never what was typed.

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
            let reason = list(ContextKind::ValidValue)
                .map(|v| format!("expected one of: {v}"))
                .or_else(|| {
                    // The reason of one of the CLI's own value parsers (`Refused`, which cannot
                    // hold what was typed); any other's (clap's, a library's) may quote it.
                    let source = std::error::Error::source(e)?;
                    Some(source.downcast_ref::<crate::args::Refused>()?.to_string())
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
            // What was typed is not shown, option or not (`--Jane-Lovelace` is text typed too):
            // its place on the command line, and clap's suggestion of an option it has, are.
            let typed_arg = name.unwrap_or_default();
            if typed_arg.starts_with('-') {
                format!("unknown option {}", position(typed, &typed_arg))
            } else {
                format!(
                    "unexpected argument {}: a value with spaces must be in quotes \
                     (--text \"Your results are ready\")",
                    position(typed, &typed_arg)
                )
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

/// Where `word` is on the command line: `at word 7 of the command line` (an option typed with its
/// value, `--frob=x`, is found by its name as clap read it), or `on the command line` when it is
/// not found as typed.
fn position(typed: &[OsString], word: &str) -> String {
    let is_word = |a: &str| {
        a == word
            || (word.starts_with('-')
                && a.strip_prefix(word)
                    .is_some_and(|rest| rest.starts_with('=')))
    };
    typed
        .iter()
        .skip(1)
        .position(|a| a.to_str().is_some_and(is_word))
        .map_or_else(
            || "on the command line".to_owned(),
            |i| format!("at word {} of the command line", i + 1),
        )
}
