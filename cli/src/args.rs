//! What the command families' arguments share: list-only subcommands, list options, waiting,
//! times, values checked by the library's types, and the API's enum values as arguments.
//!
//! An API enum argument is accepted in any case (`sms`, `SMS`), sent in the spelling of the API,
//! and listed in `--help` from the client's enums (generated from `openapi.yaml`), so a value
//! added to the spec is a value of the CLI with no other edit.

use std::{ffi::OsStr, marker::PhantomData, path::PathBuf, str::FromStr, time::Duration};

use chrono::{DateTime, NaiveDate, Utc};
use clap::{
    Arg, Args, Command, Subcommand,
    builder::{PossibleValue, TypedValueParser},
    error::{ContextKind, ContextValue, ErrorKind},
};
use herohealth::{PageOptions, WaitOptions};

use crate::exit::{Exit, Failure};

#[derive(Subcommand)]
pub(crate) enum ListOnly<A: Args> {
    /// List them.
    List(A),
}

#[derive(Args)]
pub(crate) struct NoArgs {}

/// Why a value typed on the command line was refused, in the CLI's own words (a `&'static str`
/// cannot hold what was typed): the only refusal of a value parser that `usage` shows. Any other
/// (clap's own, a library's) may quote the value, and is not shown.
#[derive(Debug)]
pub(crate) struct Refused(pub(crate) &'static str);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Refused {}

/// What `--journal` names, for every command that takes one: a PostgreSQL database by its URL
/// (which may hold a password), or an SQLite file by its path (which may name a patient:
/// `Zebedee_Quenby_9434765919.db`). Output never shows either: only [`JournalArg::shown`].
#[derive(Clone)]
pub(crate) enum JournalArg {
    /// A `postgres://` or `postgresql://` URL, its scheme in any case.
    Postgres(String),
    /// Any other text: a file's path.
    File(PathBuf),
}

impl JournalArg {
    /// How output names the journal: by its option, never by what was typed.
    pub(crate) fn shown(&self) -> &'static str {
        match self {
            JournalArg::Postgres(_) => "the database given to --journal",
            JournalArg::File(_) => "the file given to --journal",
        }
    }

    /// The URL of a PostgreSQL journal; for a file, a usage error: `command` needs a database.
    pub(crate) fn postgres(&self, command: &str) -> Result<&str, Failure> {
        match self {
            JournalArg::Postgres(url) => Ok(url),
            JournalArg::File(_) => Err(Failure::new(
                Exit::Usage,
                format!("--journal: `{command}` needs a PostgreSQL journal (postgres://...)"),
                Some(
                    "an SQLite journal has one writer: run `hero messages send-many` on it"
                        .to_owned(),
                ),
            )),
        }
    }
}

impl From<std::ffi::OsString> for JournalArg {
    /// The scheme is read as URL schemes are, whatever its case: a
    /// `POSTGRESQL://user:password@...` is a database, never a file name to open.
    fn from(typed: std::ffi::OsString) -> Self {
        let postgres = |text: &str| {
            ["postgres://", "postgresql://"].iter().any(|scheme| {
                text.get(..scheme.len())
                    .is_some_and(|start| start.eq_ignore_ascii_case(scheme))
            })
        };
        match typed.into_string() {
            Ok(url) if postgres(&url) => JournalArg::Postgres(url),
            Ok(text) => JournalArg::File(PathBuf::from(text)),
            Err(path) => JournalArg::File(PathBuf::from(path)),
        }
    }
}

/// A date (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 date-time. The refusal never quotes the
/// text (it may be a date of birth typed in the wrong place).
pub(crate) fn parse_time(s: &str) -> Result<DateTime<Utc>, Refused> {
    absolute_time(s).ok_or(Refused("not a date (YYYY-MM-DD) or an RFC 3339 date-time"))
}

fn absolute_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
}

/// A time for a filter: as [`parse_time`], or a time ago: a number and a unit, `30m`, `12h`, `7d`
/// or `2w` (minutes, hours, days, weeks before now).
pub(crate) fn parse_time_or_ago(s: &str) -> Result<DateTime<Utc>, Refused> {
    absolute_time(s)
        .or_else(|| ago(s, Utc::now()))
        .ok_or(Refused(
            "not a date (YYYY-MM-DD), an RFC 3339 date-time or a time ago (30m, 12h, 7d, 2w)",
        ))
}

/// `now` less a time ago (`7d`), or `None` when `s` is not one.
fn ago(s: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].parse().ok()?;
    let minutes = match unit.to_ascii_lowercase() {
        'm' => 1,
        'h' => 60,
        'd' => 60 * 24,
        'w' => 60 * 24 * 7,
        _ => return None,
    };
    let span = chrono::Duration::try_minutes(n.checked_mul(minutes)?)?;
    (n >= 0).then(|| now.checked_sub_signed(span)).flatten()
}

#[derive(Args)]
pub(crate) struct ListOpts {
    /// Every item, page after page.
    #[arg(long, conflicts_with = "limit")]
    pub(crate) all: bool,
    /// At most N items, 1 or more (default: one page).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) limit: Option<u64>,
    /// Items per page asked of Hero, 1 or more.
    #[arg(long, default_value_t = 100, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) page_size: u64,
}

impl ListOpts {
    pub(crate) fn options(&self) -> PageOptions {
        let o = PageOptions::default()
            .page_size(self.page_size)
            .concurrency(4);
        if self.all {
            o
        } else {
            o.limit(usize::try_from(self.limit.unwrap_or(self.page_size)).unwrap_or(usize::MAX))
        }
    }
}

/// A command-line value checked by the library's type; the error names the option.
pub(crate) fn field<T: FromStr<Err = herohealth::InvalidValue>>(
    option: &str,
    value: &str,
) -> Result<T, Failure> {
    value.parse().map_err(|e| {
        Failure::new(
            Exit::Invalid,
            format!("--{option}: {e}"),
            Some("fix the value and run the command again; nothing was sent".to_owned()),
        )
    })
}

#[derive(Args)]
pub(crate) struct WaitArgs {
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 600)]
    pub(crate) timeout: u64,
}

pub(crate) fn wait_options(wait: &WaitArgs) -> WaitOptions {
    WaitOptions::default()
        .deadline(Duration::from_secs(wait.timeout))
        .max_interval(Duration::from_secs(10))
}

/// The value parser of an API enum argument: one of the client's open enums, whose values (as
/// the API spells them) come from the enum itself, so there is no list of them here to keep.
pub(crate) fn api_enum<T: herohealth::OpenEnum>() -> ApiEnum<T> {
    ApiEnum {
        values: T::KNOWN_WIRE.to_vec(),
        _type: PhantomData,
    }
}

/// The value parser of a closed enum progenitor generates (request-only filters): no list of
/// values to show, but still accepted in any case, and refused naming the option.
pub(crate) fn closed_enum<T>() -> ApiEnum<T> {
    ApiEnum {
        values: Vec::new(),
        _type: PhantomData,
    }
}

/// See [`api_enum`].
#[derive(Clone)]
pub(crate) struct ApiEnum<T> {
    values: Vec<&'static str>,
    _type: PhantomData<fn() -> T>,
}

impl<T> TypedValueParser for ApiEnum<T>
where
    T: FromStr + Clone + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(&self, cmd: &Command, arg: Option<&Arg>, value: &OsStr) -> Result<T, clap::Error> {
        let name = arg.map_or_else(|| "the value".to_owned(), |a| a.to_string());
        let refuse = || {
            // The refused text is not put in the error: it may be patient data typed in the wrong
            // place. The option and the values it takes are (the CLI's `usage` renders them).
            let mut err = clap::Error::new(ErrorKind::InvalidValue).with_cmd(cmd);
            err.insert(ContextKind::InvalidArg, ContextValue::String(name.clone()));
            if !self.values.is_empty() {
                let valid = self.values.iter().map(|v| (*v).to_owned()).collect();
                err.insert(ContextKind::ValidValue, ContextValue::Strings(valid));
            }
            err
        };
        let text = value.to_str().ok_or_else(refuse)?;
        let listed = self.values.iter().find(|v| v.eq_ignore_ascii_case(text));
        let candidates = match listed {
            Some(wire) => vec![(*wire).to_owned()],
            None => vec![
                text.to_owned(),
                text.to_ascii_lowercase(),
                text.to_ascii_uppercase(),
            ],
        };
        candidates
            .iter()
            .find_map(|c| c.parse::<T>().ok())
            .ok_or_else(refuse)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        if self.values.is_empty() {
            return None;
        }
        Some(Box::new(self.values.iter().map(|v| PossibleValue::new(*v))))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::{ago, parse_time_or_ago};

    #[test]
    fn a_time_ago_is_a_number_and_a_unit() {
        let now = "2026-01-10T12:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let at = |s: &str| ago(s, now).map(|t| t.to_rfc3339());
        assert_eq!(at("7d").as_deref(), Some("2026-01-03T12:00:00+00:00"));
        assert_eq!(at("12h").as_deref(), Some("2026-01-10T00:00:00+00:00"));
        assert_eq!(at("30m").as_deref(), Some("2026-01-10T11:30:00+00:00"));
        assert_eq!(at("2W").as_deref(), Some("2025-12-27T12:00:00+00:00"));
        for bad in [
            "d",
            "7",
            "7y",
            "-1d",
            "1.5d",
            "99999999999999999d",
            "1955-06-02",
        ] {
            assert_eq!(at(bad), None, "{bad}");
        }
        assert!(parse_time_or_ago("1955-06-02").is_ok());
        let err = parse_time_or_ago("02/06/1955").unwrap_err().to_string();
        assert!(!err.contains("1955"), "{err}");
    }
}
