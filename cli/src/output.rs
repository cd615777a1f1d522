//! Output in four formats: tables for people; JSON, NDJSON and CSV for pipes. NDJSON and CSV are
//! written item by item as a listing streams in; tables and JSON are written at the end.

use std::io::Write;

use serde_json::Value;

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
    columns: &'static [Column],
    items: Vec<Value>,
    csv: Option<csv::Writer<std::io::Stdout>>,
    single: bool,
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
    pub fn list(format: Format, columns: &'static [Column]) -> Self {
        Self {
            format,
            columns,
            items: Vec::new(),
            csv: None,
            single: false,
        }
    }

    /// A printer for one object (a table shows it field by field).
    pub fn single(format: Format, columns: &'static [Column]) -> Self {
        Self {
            single: true,
            ..Self::list(format, columns)
        }
    }

    /// One item.
    pub fn push(&mut self, item: Value) -> std::io::Result<()> {
        match self.format {
            Format::Ndjson => {
                let mut out = std::io::stdout().lock();
                serde_json::to_writer(&mut out, &item)?;
                out.write_all(b"\n")?;
                out.flush()
            }
            Format::Csv => {
                let columns = self.columns;
                let w = self.csv.get_or_insert_with(|| {
                    let mut w = csv::Writer::from_writer(std::io::stdout());
                    let _ = w.write_record(columns.iter().map(|c| c.0));
                    w
                });
                w.write_record(columns.iter().map(|c| cell(&item, c.1)))?;
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
                    for (header, pointer) in self.columns {
                        table.add_row(vec![header.to_string(), cell(item, pointer)]);
                    }
                }
                writeln!(out, "{table}")
            }
            Format::Table => {
                let mut table = comfy_table::Table::new();
                table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
                table.set_header(self.columns.iter().map(|c| c.0));
                for item in &self.items {
                    table.add_row(self.columns.iter().map(|c| cell(item, c.1)));
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
