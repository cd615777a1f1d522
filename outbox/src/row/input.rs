//! The whole input of a run ([`Input`]): every row read from a CSV file (or built in code) and
//! checked, every refused row named by its line and field ([`InputError`]).

use std::fmt;

use chrono::{DateTime, Utc};
use herohealth::MessageType;

use herohealth::{ContactDetail, MessageText, PatientId, SnomedCode};

use super::{InvalidRow, Row, check, fingerprint};

/// Every row of one run and the fingerprint that ties a journal to it.
///
/// ```
/// use herohealth_outbox::Input;
/// let csv = "patient_id,type,text,to\n98765,sms,Your results are ready,+447700900123\n";
/// let input = Input::from_csv(csv.as_bytes()).unwrap();
/// assert_eq!(input.rows().len(), 1);
/// assert_eq!(input.rows()[0].line(), Some(2));
///
/// let bad = "patient_id,type,text\n98765,fax,Hello\n12a,sms,Hello\n";
/// let err = Input::from_csv(bad.as_bytes()).unwrap_err();
/// assert_eq!(err.to_string(), "2 rows refused, nothing was sent:\n\
///     line 2: field `type`: not a known MessageType; expected one of: hero, sms, email, nhs_app\n\
///     line 3: field `patient_id`: a patient id must be digits only");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    fingerprint: String,
    rows: Vec<Row>,
}

/// Every refused row of an input (none of its rows is sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InputError {
    problems: Vec<InvalidRow>,
}

impl InputError {
    /// Each refused row's line, field and reason.
    pub fn problems(&self) -> &[InvalidRow] {
        &self.problems
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Rows, not problems: a row with two bad cells is one row refused, both named below. A
        // refused header (line 1) is not a row: no row was read.
        let mut lines: Vec<Option<u64>> = self.problems.iter().map(InvalidRow::line).collect();
        lines.dedup();
        if lines.contains(&Some(1)) {
            write!(f, "the header is refused, nothing was sent:")?;
        } else {
            let n = lines.len();
            write!(
                f,
                "{n} row{} refused, nothing was sent:",
                if n == 1 { "" } else { "s" }
            )?;
        }
        for p in &self.problems {
            write!(f, "\n{p}")?;
        }
        Ok(())
    }
}

/// The CSV columns, required ones first.
pub const COLUMNS: [&str; 8] = [
    "patient_id",
    "type",
    "text",
    "to",
    "write_to_record",
    "snomed_code",
    "snomed_term",
    "send_at",
];

impl Input {
    /// An input of rows built in code; its fingerprint is that of the rows (see
    /// [`fingerprint`](Self::fingerprint)).
    pub fn from_rows(rows: Vec<Row>) -> Input {
        Input {
            fingerprint: fingerprint(&rows),
            rows,
        }
    }

    /// Reads a CSV file's bytes: a header with `patient_id,type,text` and optionally
    /// `to,write_to_record,snomed_code,snomed_term,send_at` (any order), then one row per line.
    /// Empty optional cells are absent; `write_to_record` is `true`/`false` (or `yes`/`no`, `1`/`0`;
    /// implied by a SNOMED code or term); `send_at` is RFC 3339. Every row is checked, and every
    /// problem is reported with its line. A UTF-8 byte order mark, CRLF line ends, a missing or
    /// extra final newline and quoting make no difference: the fingerprint is that of the rows.
    pub fn from_csv(bytes: &[u8]) -> Result<Input, InputError> {
        // A spreadsheet saves UTF-8 with a byte order mark: it is not part of the header.
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut problems = Vec::new();
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
        let headers = match reader.headers() {
            Ok(h) => h.clone(),
            Err(_) => {
                return Err(InputError {
                    problems: vec![InvalidRow::new("header", "not a readable CSV header").at(1)],
                });
            }
        };
        let mut index = [None; COLUMNS.len()];
        for (i, h) in headers.iter().enumerate() {
            match COLUMNS.iter().position(|c| *c == h.trim()) {
                Some(c) if index[c].is_some() => {
                    problems.push(InvalidRow::new(h.trim(), "column appears twice").at(1))
                }
                Some(c) => index[c] = Some(i),
                None => problems.push(
                    InvalidRow::new(
                        "header",
                        format!("unknown column {} (expected {})", i + 1, COLUMNS.join(",")),
                    )
                    .at(1),
                ),
            }
        }
        for (c, name) in COLUMNS.iter().enumerate().take(3) {
            if index[c].is_none() {
                problems.push(InvalidRow::new(name, "required column is missing").at(1));
            }
        }
        if !problems.is_empty() {
            return Err(InputError { problems });
        }
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    let reason = match e.kind() {
                        csv::ErrorKind::UnequalLengths { len, .. } => {
                            format!("has {len} fields, the header has {}", headers.len())
                        }
                        csv::ErrorKind::Utf8 { .. } => "is not UTF-8".to_owned(),
                        _ => "is not a readable CSV record".to_owned(),
                    };
                    problems.push(InvalidRow::new("record", reason).at(line));
                    continue;
                }
            };
            let line = record.position().map_or(0, |p| p.line());
            let cell = |c: usize| {
                index[c]
                    .and_then(|i| record.get(i))
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
            };
            match row_of(cell) {
                Ok(mut row) => {
                    row.line = Some(line);
                    rows.push(row);
                }
                Err(refused) => problems.extend(refused.into_iter().map(|e| e.at(line))),
            }
        }
        if !problems.is_empty() {
            return Err(InputError { problems });
        }
        if rows.is_empty() {
            return Err(InputError {
                problems: vec![InvalidRow::new("record", "the file has no rows").at(2)],
            });
        }
        Ok(Input {
            fingerprint: fingerprint(&rows),
            rows,
        })
    }

    /// The rows, in input order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// What identifies this input in a journal: the SHA-256 (hex) of its rows in a canonical form
    /// (the values sent, the recipient in its canonical form, times in UTC), in order. Not the
    /// file's bytes, nor the rows' lines: the same rows re-saved (CRLF, a byte order mark,
    /// quoting, a final newline) are the same input; a row changed, added, removed or moved is
    /// another.
    ///
    /// ```
    /// use herohealth_outbox::Input;
    /// let saved = Input::from_csv(b"patient_id,type,text\n98765,sms,Hello\n")?;
    /// let resaved = Input::from_csv(b"\xEF\xBB\xBFpatient_id,type,text\r\n\"98765\",SMS,\"Hello\"")?;
    /// assert_eq!(saved.fingerprint(), resaved.fingerprint());
    /// let other = Input::from_csv(b"patient_id,type,text\n98765,sms,Hello!\n")?;
    /// assert_ne!(saved.fingerprint(), other.fingerprint());
    /// # Ok::<(), herohealth_outbox::InputError>(())
    /// ```
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The rows that repeat an earlier row (the same patient, type, text, recipient in its
    /// canonical form, record and schedule): `(row, earlier)`, as indices into
    /// [`rows`](Self::rows), in input order. Each row is still sent, as written; a sender warns
    /// before it starts, naming the lines (never a value).
    ///
    /// ```
    /// use herohealth_outbox::Input;
    /// let input = Input::from_csv(
    ///     b"patient_id,type,text,to\n98765,sms,Hello,07700 900123\n1234,sms,Hi,\n98765,SMS,Hello,+447700900123\n",
    /// )?;
    /// assert_eq!(input.repeats(), [(2, 0)]);
    /// assert_eq!(input.rows()[2].line(), Some(4));
    /// # Ok::<(), herohealth_outbox::InputError>(())
    /// ```
    pub fn repeats(&self) -> Vec<(usize, usize)> {
        let mut first: std::collections::HashMap<String, usize> = Default::default();
        let mut repeats = Vec::new();
        for (i, row) in self.rows.iter().enumerate() {
            let key = serde_json::to_string(&row.canonical()).unwrap_or_default();
            match first.get(&key) {
                Some(&earlier) => repeats.push((i, earlier)),
                None => {
                    first.insert(key, i);
                }
            }
        }
        repeats
    }
}

/// A row from its cells, or every cell it refuses: each cell is checked on its own first (a
/// row with three bad cells names all three), then the row whole, by herohealth's rules across
/// fields.
fn row_of<'a>(cell: impl Fn(usize) -> Option<&'a str>) -> Result<Row, Vec<InvalidRow>> {
    let mut problems = Vec::new();
    let mut keep = |r: Result<(), InvalidRow>| {
        if let Err(e) = r {
            problems.push(e);
        }
    };
    keep(check("patient_id", PatientId::parse(cell(0).unwrap_or(""))).map(drop));
    let message_type = match cell(1).map(str::parse::<MessageType>) {
        None => Err(InvalidRow::new("type", "must not be empty")),
        Some(Err(e)) => Err(InvalidRow::new("type", e.to_string())),
        Some(Ok(t)) => Ok(t),
    };
    keep(message_type.as_ref().map(drop).map_err(Clone::clone));
    keep(check("text", MessageText::parse(cell(2).unwrap_or(""))).map(drop));
    if let Some(to) = cell(3) {
        keep(check("to", ContactDetail::parse(to)).map(drop));
    }
    let write = match cell(4).map(str::to_ascii_lowercase).as_deref() {
        None => None,
        Some("true" | "yes" | "1") => Some(true),
        Some("false" | "no" | "0") => Some(false),
        Some(_) => {
            keep(Err(InvalidRow::new(
                "write_to_record",
                "must be true or false (yes/no, 1/0)",
            )));
            None
        }
    };
    let (code, term) = (cell(5), cell(6));
    if write == Some(false) && (code.is_some() || term.is_some()) {
        for (field, value) in [("snomed_code", code), ("snomed_term", term)] {
            if value.is_some() {
                keep(Err(InvalidRow::new(
                    field,
                    "needs write_to_record (it is false)",
                )));
            }
        }
    } else if let Some(code) = code {
        keep(check("snomed_code", SnomedCode::parse(code)).map(drop));
    }
    let send_at = cell(7).map(|at| {
        DateTime::parse_from_rfc3339(at).map_err(|_| {
            InvalidRow::new(
                "send_at",
                "must be an RFC 3339 date-time (2026-01-31T09:00:00Z)",
            )
        })
    });
    if let Some(Err(e)) = &send_at {
        keep(Err(e.clone()));
    }
    let (Ok(message_type), true) = (message_type, problems.is_empty()) else {
        return Err(problems);
    };
    // Every cell passed on its own: the row is made of them (the same checks again, by the
    // builder every row goes through), then checked whole.
    let whole = || -> Result<Row, InvalidRow> {
        let mut row = Row::new(cell(0).unwrap_or(""), message_type, cell(2).unwrap_or(""))?;
        if let Some(to) = cell(3) {
            row = row.contact(to)?;
        }
        if write == Some(true) || (write.is_none() && (code.is_some() || term.is_some())) {
            row = row.write_to_record(code, term)?;
        }
        if let Some(Ok(at)) = send_at {
            row = row.send_at(at.with_timezone(&Utc));
        }
        row.check_across()?;
        Ok(row)
    };
    whole().map_err(|e| vec![e])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(csv: &str) -> Vec<String> {
        Input::from_csv(csv.as_bytes())
            .unwrap_err()
            .problems()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn every_column_is_read_and_checked() {
        // A send_at relative to now: a literal future date breaks the day it passes.
        let at = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
        let csv = format!(
            "type,patient_id,text,to,write_to_record,snomed_code,snomed_term,send_at\n\
             email,1,Hi,a@example.org,yes,1240751000000100,Results,{at}\n\
             sms,2,Hi,,,,,\n"
        );
        let input = Input::from_csv(csv.as_bytes()).unwrap();
        let r = &input.rows()[0];
        assert_eq!((r.patient_id(), r.line()), ("1", Some(2)));
        assert!(r.write_to_record && r.snomed_code.is_some() && r.send_at.is_some());
        assert_eq!(r.to.as_deref(), Some("a@example.org"));
        let r = &input.rows()[1];
        assert!(!r.write_to_record && r.to.is_none() && r.send_at.is_none());
        // The same bytes, the same fingerprint; one byte more, another.
        let again = Input::from_csv(csv.as_bytes()).unwrap();
        assert_eq!(again.fingerprint(), input.fingerprint());
        let other = Input::from_csv(format!("{csv}sms,3,Hi,,,,,\n").as_bytes()).unwrap();
        assert_ne!(other.fingerprint(), input.fingerprint());
    }

    #[test]
    fn every_problem_is_named_with_its_line_and_field() {
        let err = Input::from_csv(b"patient_id,type,colour\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the header is refused, nothing was sent:\nline 1: field `header`"),
            "{err}"
        );
        assert_eq!(
            refused("patient_id,type,colour\n"),
            [
                "line 1: field `header`: unknown column 3 (expected patient_id,type,text,to,write_to_record,snomed_code,snomed_term,send_at)",
                "line 1: field `text`: required column is missing",
            ]
        );
        assert_eq!(
            refused(
                "patient_id,type,text,write_to_record,snomed_code,send_at\n\
                 1,sms,Hi,maybe,,\n\
                 2,sms,Hi,false,123456,\n\
                 3,sms,Hi,,,tomorrow\n\
                 4,sms\n\
                 5,sms,Hi,true,12,\n"
            ),
            [
                "line 2: field `write_to_record`: must be true or false (yes/no, 1/0)",
                "line 3: field `snomed_code`: needs write_to_record (it is false)",
                "line 4: field `send_at`: must be an RFC 3339 date-time (2026-01-31T09:00:00Z)",
                "line 5: field `record`: has 2 fields, the header has 6",
                "line 6: field `snomed_code`: a SNOMED code must be 6 to 18 digits long",
            ]
        );
        // Every bad cell of a row is named, in the file's column order, under one row refused.
        let err = Input::from_csv(
            b"patient_id,type,text,to,send_at\n12a,fax,,,soon\n1,sms,Hi,,\n3,,Hi,,\n",
        )
        .unwrap_err();
        assert_eq!(
            err.problems()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [
                "line 2: field `patient_id`: a patient id must be digits only",
                "line 2: field `type`: not a known MessageType; expected one of: hero, sms, email, nhs_app",
                "line 2: field `text`: message text must not be empty",
                "line 2: field `send_at`: must be an RFC 3339 date-time (2026-01-31T09:00:00Z)",
                "line 4: field `type`: must not be empty",
            ]
        );
        assert!(
            err.to_string()
                .starts_with("2 rows refused, nothing was sent:\n")
        );
        assert_eq!(
            refused("patient_id,type,text\n"),
            ["line 2: field `record`: the file has no rows"]
        );
    }
}
