//! The rows to send ([`Row`]), checked before anything is sent, and what identifies them (their
//! fingerprint); the whole input ([`Input`]) read from a CSV file is in `row/input.rs`.

use std::fmt;

use chrono::{DateTime, Utc};
use herohealth::{ContactDetail, MessageText, MessageType, PatientId, SnomedCode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod input;

pub use input::{COLUMNS, Input, InputError};

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
