//! Output in four formats: tables for people; JSON, NDJSON and CSV for pipes. NDJSON and CSV are
//! written item by item as a listing streams in; tables and JSON are written at the end. Every
//! command prints through here: one item (`print_one`), a stream of them (`print_stream`,
//! `print_rows`), and a spinner on stderr while it waits (`progress`).
//!
//! What is printed is only ever a [`Shown`] value: Hero's types as their declared types let them
//! be shown (patient data `<redacted>`, an id only in its kind's declared form, an enum value the
//! spec does not declare as `unknown(N chars)`), or a [`Row`] the command builds of such values
//! and its own words. No function here takes a `String` or a JSON value, so a command cannot
//! print a value of Hero's (or a patient's, or a path typed) as it came.

use std::{
    io::{IsTerminal as _, Write},
    time::Duration,
};

use futures::{Stream, StreamExt as _};
use herohealth::{Error, Shown, ids::IdForm};
use serde_json::Value;

use crate::exit::Outcome;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table (for people).
    Table,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header row.
    Csv,
}

/// A column: its header and the JSON pointer of its value in an item.
pub type Column = (&'static str, &'static str);

/// Prints items in the chosen format.
pub struct Printer {
    format: Format,
    columns: Vec<Column>,
    items: Vec<Value>,
    csv: Option<csv::Writer<std::io::Stdout>>,
    single: bool,
    /// JSON and NDJSON items hold only the columns, by their names (`--columns`): an export
    /// that must not hold a field does not, whatever the format.
    projected: bool,
}

/// Where a column's value is in an item as pushed: its pointer, or (projected) its name.
fn pointer(projected: bool, c: &Column) -> String {
    if projected {
        format!("/{}", c.0)
    } else {
        c.1.to_owned()
    }
}

fn cell(item: &Value, pointer: &str) -> String {
    match item.pointer(pointer) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

impl Printer {
    /// A printer for a list of items with these columns.
    pub fn list(format: Format, columns: &[Column]) -> Self {
        Self {
            format,
            columns: columns.to_vec(),
            items: Vec::new(),
            csv: None,
            single: false,
            projected: false,
        }
    }

    /// A printer for a list of items that prints only `columns` in every format: JSON and NDJSON
    /// items become objects of those columns, by name.
    pub fn projected(format: Format, columns: Vec<Column>) -> Self {
        Self {
            projected: true,
            ..Self::list(format, &columns)
        }
    }

    /// A printer for one object (a table shows it field by field).
    pub fn single(format: Format, columns: &[Column]) -> Self {
        Self {
            single: true,
            ..Self::list(format, columns)
        }
    }

    /// One item.
    pub fn push(&mut self, item: &impl Shown) -> std::io::Result<()> {
        self.push_value(item.shown())
    }

    fn push_value(&mut self, item: Value) -> std::io::Result<()> {
        let item = if self.projected {
            Value::Object(
                self.columns
                    .iter()
                    .map(|(name, pointer)| {
                        let v = item.pointer(pointer).cloned().unwrap_or(Value::Null);
                        ((*name).to_owned(), v)
                    })
                    .collect(),
            )
        } else {
            item
        };
        match self.format {
            Format::Ndjson => {
                let mut out = std::io::stdout().lock();
                serde_json::to_writer(&mut out, &item)?;
                out.write_all(b"\n")?;
                out.flush()
            }
            Format::Csv => {
                let columns = &self.columns;
                let projected = self.projected;
                let w = self.csv.get_or_insert_with(|| {
                    let mut w = csv::Writer::from_writer(std::io::stdout());
                    let _ = w.write_record(columns.iter().map(|c| c.0));
                    w
                });
                w.write_record(
                    columns
                        .iter()
                        .map(|c| herohealth_outbox::csv_safe(cell(&item, &pointer(projected, c)))),
                )?;
                w.flush()
            }
            Format::Table | Format::Json => {
                self.items.push(item);
                Ok(())
            }
        }
    }

    /// Writes what was kept for the end.
    pub fn finish(mut self) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        match self.format {
            Format::Json if self.single => {
                let item = self.items.pop().unwrap_or(Value::Null);
                writeln!(out, "{}", serde_json::to_string_pretty(&item)?)
            }
            Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&self.items)?),
            Format::Table if self.single => {
                let mut table = comfy_table::Table::new();
                table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
                if let Some(item) = self.items.first() {
                    for c in &self.columns {
                        table.add_row(vec![
                            c.0.to_string(),
                            cell(item, &pointer(self.projected, c)),
                        ]);
                    }
                }
                writeln!(out, "{table}")
            }
            Format::Table => {
                let mut table = comfy_table::Table::new();
                table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
                table.set_header(self.columns.iter().map(|c| c.0));
                for item in &self.items {
                    table.add_row(
                        self.columns
                            .iter()
                            .map(|c| cell(item, &pointer(self.projected, c))),
                    );
                }
                writeln!(out, "{table}")?;
                writeln!(out, "{} item(s)", self.items.len())
            }
            Format::Csv if self.csv.is_none() => {
                // An empty listing still gets its header row.
                let mut w = csv::Writer::from_writer(out);
                w.write_record(self.columns.iter().map(|c| c.0))?;
                w.flush()
            }
            Format::Ndjson | Format::Csv => Ok(()),
        }
    }
}

/// A row a command builds for output, of values that may be shown only: Hero's types (as
/// [`Shown`]), ids in their kind's declared form, numbers, and the command's own words.
#[derive(Default)]
pub(crate) struct Row(serde_json::Map<String, Value>);

impl Row {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The fields of one of Hero's types, as [`Shown`] gives them.
    pub(crate) fn of(item: &impl Shown) -> Self {
        match item.shown() {
            Value::Object(m) => Self(m),
            _ => Self::default(),
        }
    }

    /// A value of one of Hero's (or the crate's) types, as its declared type lets it be shown.
    pub(crate) fn field(mut self, name: &str, value: &impl Shown) -> Self {
        self.0.insert(name.to_owned(), value.shown());
        self
    }

    /// An id, shown only in the declared form of its kind.
    pub(crate) fn id(self, name: &str, form: &'static IdForm, id: &str) -> Self {
        self.words(name, form.shown(id).as_str())
    }

    /// The command's own words (not a value from outside).
    pub(crate) fn words(mut self, name: &str, words: &str) -> Self {
        self.0.insert(name.to_owned(), Value::from(words));
        self
    }

    /// A count, or any number the command computed.
    pub(crate) fn number(mut self, name: &str, n: impl Into<serde_json::Number>) -> Self {
        self.0.insert(name.to_owned(), Value::Number(n.into()));
        self
    }

    /// A nested list of rows.
    pub(crate) fn rows(mut self, name: &str, rows: Vec<Row>) -> Self {
        self.0.insert(
            name.to_owned(),
            Value::Array(rows.into_iter().map(|r| Value::Object(r.0)).collect()),
        );
        self
    }
}

impl Shown for Row {
    fn shown(&self) -> Value {
        Value::Object(self.0.clone())
    }
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

pub(crate) async fn print_stream<T: Shown>(
    format: Format,
    columns: &'static [Column],
    stream: impl Stream<Item = Result<T, Error>>,
    show_progress: bool,
) -> Outcome {
    print_rows(Printer::list(format, columns), stream, show_progress).await
}

/// Prints a stream of items with `printer` (a spinner on a terminal when `show_progress`).
pub(crate) async fn print_rows<T: Shown>(
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
        printer.push(&item?)?;
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

pub(crate) fn print_one(format: Format, columns: &'static [Column], item: impl Shown) -> Outcome {
    let mut p = Printer::single(format, columns);
    p.push(&item)?;
    p.finish()?;
    Ok(())
}
