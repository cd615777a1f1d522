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

pub(crate) fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
        .map_err(|_| format!("`{s}` is not a date (YYYY-MM-DD) or an RFC 3339 date-time"))
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
    let bar = if show_progress {
        progress("reading")
    } else {
        None
    };
    let mut printer = Printer::list(format, columns);
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
