//! What every command family shares: list-only subcommands, time arguments, list options, and
//! printing one item or a stream of them.

use super::*;

#[derive(Subcommand)]
pub(crate) enum ListOnly<A: Args> {
    /// List them.
    List(A),
}

#[derive(Args)]
pub(crate) struct NoArgs {}

/// A date (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 date-time. The refusal never quotes the
/// text (it may be a date of birth typed in the wrong place).
pub(crate) fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    absolute_time(s).ok_or_else(|| "not a date (YYYY-MM-DD) or an RFC 3339 date-time".to_owned())
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
pub(crate) fn parse_time_or_ago(s: &str) -> Result<DateTime<Utc>, String> {
    absolute_time(s)
        .or_else(|| ago(s, Utc::now()))
        .ok_or_else(|| {
            "not a date (YYYY-MM-DD), an RFC 3339 date-time or a time ago (30m, 12h, 7d, 2w)"
                .to_owned()
        })
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

pub(crate) fn value(v: impl Serialize) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// A spinner on stderr, only when stderr is a terminal.
pub(crate) fn progress(what: &str) -> Option<indicatif::ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar.set_message(what.to_owned());
        bar
    })
}

pub(crate) async fn print_stream<T: Serialize>(
    format: Format,
    columns: &'static [Column],
    stream: impl Stream<Item = Result<T, Error>>,
    show_progress: bool,
) -> Outcome {
    print_rows(Printer::list(format, columns), stream, show_progress).await
}

/// Prints a stream of items with `printer` (a spinner on a terminal when `show_progress`).
pub(crate) async fn print_rows<T: Serialize>(
    mut printer: Printer,
    stream: impl Stream<Item = Result<T, Error>>,
    show_progress: bool,
) -> Outcome {
    let bar = if show_progress {
        progress("reading")
    } else {
        None
    };
    let mut stream = std::pin::pin!(stream);
    let mut n = 0u64;
    while let Some(item) = stream.next().await {
        printer.push(value(item?))?;
        n += 1;
        if let Some(bar) = &bar {
            bar.set_message(format!("{n} item(s)"));
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    printer.finish()?;
    Ok(())
}

pub(crate) fn print_one(
    format: Format,
    columns: &'static [Column],
    item: impl Serialize,
) -> Outcome {
    let mut p = Printer::single(format, columns);
    p.push(value(item))?;
    p.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let err = parse_time_or_ago("02/06/1955").unwrap_err();
        assert!(!err.contains("1955"), "{err}");
    }
}
