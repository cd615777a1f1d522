//! The rows to send ([`Row`]), checked before anything is sent, and the whole input ([`Input`])
//! with its fingerprint.

use std::fmt;

use chrono::{DateTime, Utc};
use herohealth::{ContactDetail, MessageText, MessageType, PatientId, SnomedCode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One message to send: to one patient, by one channel, with its own text.
///
/// Every value is checked when it is set (the same rules the `herohealth` client applies before
/// it sends), so a [`Row`] that exists can be sent. Its `Debug` shows only the line and the
/// message type: never the patient id, the text or the recipient.
///
/// ```
/// use herohealth::MessageType;
/// use herohealth_outbox::Row;
///
/// let row = Row::new("98765", MessageType::Sms, "Your results are ready")?
///     .to("+447700900123")?
///     .write_to_record(Some("1240751000000100"), Some("Results"))?;
/// assert_eq!(format!("{row:?}"), "Row { line: None, message_type: Sms, .. }");
/// assert_eq!(Row::new("98a", MessageType::Sms, "Hi").unwrap_err().field(), "patient_id");
/// # Ok::<(), herohealth_outbox::InvalidRow>(())
/// ```
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    line: Option<u64>,
    patient_id: String,
    message_type: MessageType,
    text: String,
    to: Option<String>,
    write_to_record: bool,
    snomed_code: Option<String>,
    snomed_term: Option<String>,
    send_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Row")
            .field("line", &self.line)
            .field("message_type", &self.message_type)
            .finish_non_exhaustive()
    }
}

/// Why a row was refused: the line (when it came from a file), the field, and the rule it broke.
/// It never shows the refused value.
///
/// ```
/// use herohealth::MessageType;
/// let err = herohealth_outbox::Row::new("1", MessageType::Sms, "").unwrap_err();
/// assert_eq!(err.to_string(), "field `text`: message text must not be empty");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InvalidRow {
    line: Option<u64>,
    field: String,
    reason: String,
}

impl fmt::Display for InvalidRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        write!(f, "field `{}`: {}", self.field, self.reason)
    }
}

impl InvalidRow {
    fn new(field: &str, reason: impl Into<String>) -> Self {
        Self {
            line: None,
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    fn at(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    /// The line of the file (1 is the header), when the row came from one.
    pub fn line(&self) -> Option<u64> {
        self.line
    }

    /// The refused field (the CSV column's name).
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The rule it broke (never the value).
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

fn check<T>(field: &str, r: Result<T, herohealth::InvalidValue>) -> Result<T, InvalidRow> {
    r.map_err(|e| InvalidRow::new(field, e.to_string()))
}

impl Row {
    /// A row to `patient_id` (Hero's patient id: digits) by `message_type` with `text`.
    pub fn new(patient_id: &str, message_type: MessageType, text: &str) -> Result<Row, InvalidRow> {
        check("patient_id", PatientId::parse(patient_id))?;
        check("text", MessageText::parse(text))?;
        Ok(Row {
            line: None,
            patient_id: patient_id.to_owned(),
            message_type,
            text: text.to_owned(),
            to: None,
            write_to_record: false,
            snomed_code: None,
            snomed_term: None,
            send_at: None,
        })
    }

    /// Send to this phone number or email instead of the one on the patient's record: a phone
    /// number for an sms, an email address for an email (herohealth's rule across fields).
    pub fn to(self, contact: &str) -> Result<Row, InvalidRow> {
        let row = self.contact(contact)?;
        row.check_across()?;
        Ok(row)
    }

    /// [`to`](Self::to) without the rules across fields, for a row still being read (they are
    /// checked once, when it is whole).
    fn contact(mut self, contact: &str) -> Result<Row, InvalidRow> {
        check("to", ContactDetail::parse(contact))?;
        self.to = Some(contact.to_owned());
        Ok(self)
    }

    /// herohealth's rules across a message's fields (`herohealth::check_send_message`, the check
    /// `.send()` makes before sending) on this row, with nothing sent: a row that breaks one is
    /// refused with the rest of its file, not failed mid-run.
    fn check_across(&self) -> Result<(), InvalidRow> {
        let request = self.request()?;
        herohealth::check_send_message(&request).map_err(|e| {
            let refusal = e.refusal().expect("a rule across fields names its field");
            // The request's fields a row fills, by the CSV column that fills them.
            let column = match refusal.field() {
                "recipient_contact_detail" => "to",
                "send_at" => "send_at",
                "snomed_code" => "snomed_code",
                "snomed_term" => "snomed_term",
                "patient_id" => "patient_id",
                "message_string" => "text",
                "message_type" => "type",
                _ => "record",
            };
            InvalidRow::new(column, refusal.rule())
        })
    }

    /// Write the message to the patient's record, with this SNOMED code and term (Hero's defaults
    /// when `None`).
    pub fn write_to_record(
        mut self,
        snomed_code: Option<&str>,
        snomed_term: Option<&str>,
    ) -> Result<Row, InvalidRow> {
        if let Some(code) = snomed_code {
            check("snomed_code", SnomedCode::parse(code))?;
        }
        if snomed_term.is_some_and(|t| t.trim().is_empty()) {
            return Err(InvalidRow::new("snomed_term", "must not be blank"));
        }
        self.write_to_record = true;
        self.snomed_code = snomed_code.map(str::to_owned);
        self.snomed_term = snomed_term.map(str::to_owned);
        Ok(self)
    }

    /// Schedule the message for this time.
    pub fn send_at(mut self, at: DateTime<Utc>) -> Row {
        self.send_at = Some(at);
        self
    }

    /// The line of the file it came from (1 is the header), if it came from one.
    pub fn line(&self) -> Option<u64> {
        self.line
    }

    /// The patient's Hero id.
    pub fn patient_id(&self) -> &str {
        &self.patient_id
    }

    /// How it is sent.
    pub fn message_type(&self) -> &MessageType {
        &self.message_type
    }

    /// The request this row sends, typed: what `send_message` sends, what a
    /// [`herohealth::SendAttempt`] is made from. Every value was checked when the row was made.
    pub fn request(&self) -> Result<herohealth::types::SendMessageRequest, InvalidRow> {
        let mut b = herohealth::types::SendMessageRequest::builder()
            .patient_id(self.patient_id.as_str())
            .message_type(self.message_type.clone())
            .message_string(self.text.as_str())
            .write_to_record(self.write_to_record)
            .snomed_term(self.snomed_term.clone())
            .send_at(self.send_at);
        if let Some(to) = &self.to {
            b = b.recipient_contact_detail(to.as_str());
        }
        if let Some(code) = &self.snomed_code {
            b = b.snomed_code(code.as_str());
        }
        // Every value was checked when the row was made; the message names the field only.
        b.try_into()
            .map_err(|e: herohealth::types::error::ConversionError| {
                InvalidRow::new("record", e.to_string())
            })
    }
}

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
        let n = self.problems.len();
        write!(
            f,
            "{n} row{} refused, nothing was sent:",
            if n == 1 { "" } else { "s" }
        )?;
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What identifies a row, whatever file it came from: the values sent, in one canonical form
/// (the recipient as [`ContactDetail::canonical`], `send_at` in UTC), never its line or bytes.
#[derive(Serialize)]
struct Canonical<'a> {
    patient_id: &'a str,
    message_type: &'a str,
    text: &'a str,
    to: Option<String>,
    write_to_record: bool,
    snomed_code: Option<&'a str>,
    snomed_term: Option<&'a str>,
    send_at: Option<String>,
}

impl Row {
    fn canonical(&self) -> Canonical<'_> {
        Canonical {
            patient_id: &self.patient_id,
            message_type: self.message_type.as_str(),
            text: &self.text,
            to: self
                .to
                .as_deref()
                .map(|t| ContactDetail::parse(t).map_or_else(|_| t.to_owned(), |c| c.canonical())),
            write_to_record: self.write_to_record,
            snomed_code: self.snomed_code.as_deref(),
            snomed_term: self.snomed_term.as_deref(),
            send_at: self
                .send_at
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        }
    }
}

/// The fingerprint of `rows`: the SHA-256 (hex) of their canonical form, in order, under a
/// version tag (a journal records which version it holds).
pub(crate) fn fingerprint(rows: &[Row]) -> String {
    let canonical: Vec<Canonical<'_>> = rows.iter().map(Row::canonical).collect();
    let mut hash = Sha256::new();
    hash.update(FINGERPRINT_TAG);
    hash.update(serde_json::to_vec(&canonical).expect("rows serialize"));
    hex(&hash.finalize())
}

/// The tag of the fingerprint's version (v1, the file's bytes, is gone: see the journal's schema).
const FINGERPRINT_TAG: &[u8] = b"herohealth-outbox rows v2\n";

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
                Err(e) => problems.push(e.at(line)),
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

fn row_of<'a>(cell: impl Fn(usize) -> Option<&'a str>) -> Result<Row, InvalidRow> {
    let message_type: MessageType = cell(1)
        .ok_or_else(|| InvalidRow::new("type", "must not be empty"))?
        .parse()
        .map_err(|e: herohealth::UnknownVariant| InvalidRow::new("type", e.to_string()))?;
    let mut row = Row::new(cell(0).unwrap_or(""), message_type, cell(2).unwrap_or(""))?;
    if let Some(to) = cell(3) {
        row = row.contact(to)?;
    }
    let write = match cell(4).map(str::to_ascii_lowercase).as_deref() {
        None => None,
        Some("true" | "yes" | "1") => Some(true),
        Some("false" | "no" | "0") => Some(false),
        Some(_) => {
            return Err(InvalidRow::new(
                "write_to_record",
                "must be true or false (yes/no, 1/0)",
            ));
        }
    };
    let (code, term) = (cell(5), cell(6));
    match write {
        Some(false) if code.is_some() || term.is_some() => {
            return Err(InvalidRow::new(
                if code.is_some() {
                    "snomed_code"
                } else {
                    "snomed_term"
                },
                "needs write_to_record (it is false)",
            ));
        }
        Some(true) => row = row.write_to_record(code, term)?,
        None if code.is_some() || term.is_some() => row = row.write_to_record(code, term)?,
        _ => {}
    }
    if let Some(at) = cell(7) {
        let at = DateTime::parse_from_rfc3339(at).map_err(|_| {
            InvalidRow::new(
                "send_at",
                "must be an RFC 3339 date-time (2026-01-31T09:00:00Z)",
            )
        })?;
        row = row.send_at(at.with_timezone(&Utc));
    }
    row.check_across()?;
    Ok(row)
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
        assert_eq!(
            refused("patient_id,type,text\n"),
            ["line 2: field `record`: the file has no rows"]
        );
    }
}
