//! The mock's world: a clock that can run fast or be moved on, and per-practice-group stores of
//! patients, messages and batches whose statuses follow from the clock.
//!
//! Lifecycles (in mock time; see [`crate::MockConfig::time_scale`] and [`crate::MockServer::advance`]):
//! - a message is `pending` until 1 s after it is due (created, or `send_at` when scheduled), `sent`
//!   until 3 s, then `delivered` (or `declined`/`fatal` for the configured test recipients); with
//!   `write_to_record` its record entry is written 4 s after it is due (`failed` for a SNOMED code
//!   that fails the offline check, or one of [`crate::MockConfig::failing_snomed_code`]); with
//!   [`crate::MockConfig::write_approval`] and without `auto_write_to_record`, only once approved
//!   (and at least 1 s after the approval); then the group's webhooks for
//!   `write-to-record.succeeded` / `.failed` get the event (`crate::deliver`);
//! - a batch is `CREATED` until it is sent, then `PENDING` for 1 s, `SENDING` until 3 s, then
//!   `COMPLETED`; its recipients are enriched when the batch is created (a valid NHS number is
//!   `ENRICHED` with a name and contacts, an invalid one `ENRICHMENT_ERROR`, and so is one set to
//!   [`crate::RecipientOutcome::EnrichmentError`]); each enriched recipient gets a send that is
//!   `QUEUED`, then `SENT` after 1 s, then `SUCCESS` (or `ERROR`) after 2 s.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
};

use tokio::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};

/// The mock's clock: time since start, times a scale, plus whatever tests advanced it by. Time is
/// the client's ([`herohealth::now`]): the real clock, except under tokio's paused test clock,
/// where it moves as the runtime's does, so a test on a paused clock has the mock and the client
/// agree on the time however far it advances.
#[derive(Debug)]
pub struct Clock {
    started: Instant,
    base: DateTime<Utc>,
    scale: f64,
    offset: Mutex<Duration>,
}

impl Clock {
    pub(crate) fn new(scale: f64) -> Self {
        Self {
            started: Instant::now(),
            base: herohealth::now(),
            scale,
            offset: Mutex::new(Duration::zero()),
        }
    }

    /// Now, in mock time.
    pub fn now(&self) -> DateTime<Utc> {
        let real = self.started.elapsed().mul_f64(self.scale);
        let offset = *self.offset.lock().expect("clock lock");
        self.base + Duration::from_std(real).unwrap_or(Duration::zero()) + offset
    }

    /// How many times faster than real time the clock runs.
    pub(crate) fn scale(&self) -> f64 {
        self.scale
    }

    pub(crate) fn advance(&self, by: Duration) {
        *self.offset.lock().expect("clock lock") += by;
    }
}

/// Whether a message's write into the record waits for approval
/// ([`crate::MockConfig::write_approval`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Approval {
    /// Written without approval (the option is off, `auto_write_to_record` was set, or nothing
    /// is to be written).
    NotNeeded,
    /// Waiting; `token` is in its `confirm_write_to_record_url`.
    Pending { token: String },
    /// Approved at this mock time.
    Approved { token: String, at: DateTime<Utc> },
}

impl Approval {
    pub(crate) fn token(&self) -> Option<&str> {
        match self {
            Approval::NotNeeded => None,
            Approval::Pending { token } | Approval::Approved { token, .. } => Some(token),
        }
    }
}

/// How a message to a contact ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered.
    Delivered,
    /// Declined by the recipient's network or app.
    Declined,
    /// Failed for good.
    Fatal,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Declined => "declined",
            Outcome::Fatal => "fatal",
        }
    }
}

/// How one batch recipient ends, set by NHS number ([`crate::MockConfig::batch_outcome`],
/// [`crate::MockServer::set_batch_outcome`], `--batch-outcome NHS=STATUS`): it wins over the
/// outcome of the recipient's contact detail ([`crate::MockConfig::outcome`]).
///
/// ```
/// use herohealth_mock::RecipientOutcome;
/// assert_eq!("error".parse::<RecipientOutcome>(), Ok(RecipientOutcome::Error));
/// assert_eq!("ENRICHMENT_ERROR".parse::<RecipientOutcome>(), Ok(RecipientOutcome::EnrichmentError));
/// assert!("lost".parse::<RecipientOutcome>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecipientOutcome {
    /// Its send ends `SUCCESS`.
    Success,
    /// Its send ends `ERROR` (the patient is not reached).
    Error,
    /// Hero cannot trace them on the Spine: the recipient is `ENRICHMENT_ERROR` and gets no send.
    EnrichmentError,
}

impl std::str::FromStr for RecipientOutcome {
    type Err = String;
    /// `SUCCESS`, `ERROR` or `ENRICHMENT_ERROR`, in any case.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_uppercase().replace('-', "_").as_str() {
            "SUCCESS" => Ok(RecipientOutcome::Success),
            "ERROR" => Ok(RecipientOutcome::Error),
            "ENRICHMENT_ERROR" => Ok(RecipientOutcome::EnrichmentError),
            _ => Err("expected SUCCESS, ERROR or ENRICHMENT_ERROR".to_owned()),
        }
    }
}

// The stores below hold a test's patient data (names, contacts, NHS numbers, message text): they
// have no `Debug`, so nothing can print them by accident.

#[derive(Clone)]
pub(crate) struct Patient {
    pub id: String,
    pub title: Option<&'static str>,
    pub first_name: String,
    pub last_name: String,
    pub mobile: String,
    pub email: String,
}

#[derive(Clone)]
pub(crate) struct Message {
    pub id: u64,
    pub patient_id: String,
    pub message_type: String,
    pub content: String,
    pub contact: String,
    pub write_to_record: bool,
    pub snomed_code: Option<String>,
    pub snomed_valid: bool,
    pub send_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub outcome: Outcome,
    pub sent_by: String,
    pub campaign: Option<(String, String)>,
    pub short_link: Option<(String, String)>,
    pub attachment_uuid: Option<String>,
    pub approval: Approval,
}

/// A message's state at one instant.
pub(crate) struct MessageState {
    pub status: &'static str,
    pub sent_at: Option<DateTime<Utc>>,
    /// `success`, `failed` or `not_written`, with when and why.
    pub wtr_status: Option<&'static str>,
    pub wtr_at: Option<DateTime<Utc>>,
    pub wtr_failure: Option<&'static str>,
    pub send_error: Option<&'static str>,
}

impl Message {
    pub(crate) fn due(&self) -> DateTime<Utc> {
        self.send_at
            .map_or(self.created_at, |at| at.max(self.created_at))
    }

    pub(crate) fn state(&self, now: DateTime<Utc>) -> MessageState {
        let due = self.due();
        let (status, sent_at) = if now < due + Duration::seconds(1) {
            ("pending", None)
        } else if now < due + Duration::seconds(3) {
            ("sent", Some(due + Duration::seconds(1)))
        } else {
            (self.outcome.as_str(), Some(due + Duration::seconds(1)))
        };
        let send_error = match (status, self.outcome) {
            ("declined", _) => Some("Declined by the recipient's network"),
            ("fatal", _) => Some("Permanent delivery failure"),
            _ => None,
        };
        // When the write happens: 4 s after the message is due, and (when it waits for
        // approval) at least 1 s after it was approved; never while approval is pending.
        let written = match &self.approval {
            Approval::NotNeeded => Some(due + Duration::seconds(4)),
            Approval::Pending { .. } => None,
            Approval::Approved { at, .. } => {
                Some((due + Duration::seconds(4)).max(*at + Duration::seconds(1)))
            }
        };
        let (wtr_status, wtr_at, wtr_failure) = match written {
            _ if !self.write_to_record => (Some("not_written"), None, None),
            Some(at) if now >= at && self.snomed_valid => (Some("success"), Some(at), None),
            Some(at) if now >= at => (Some("failed"), Some(at), Some("Invalid SNOMED code")),
            _ => (None, None, None),
        };
        MessageState {
            status,
            sent_at,
            wtr_status,
            wtr_at,
            wtr_failure,
            send_error,
        }
    }
}

#[derive(Clone)]
pub(crate) struct Recipient {
    pub nhs_number: String,
    pub enriched: Option<Patient>,
    pub outcome: Outcome,
}

#[derive(Clone)]
pub(crate) struct Batch {
    pub id: String,
    pub name: String,
    pub channel: String,
    pub subject: Option<String>,
    pub content: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub recipients: Vec<Recipient>,
}

impl Batch {
    pub(crate) fn status(&self, now: DateTime<Utc>) -> &'static str {
        match self.sent_at {
            None => "CREATED",
            Some(t) if now < t + Duration::seconds(1) => "PENDING",
            Some(t) if now < t + Duration::seconds(3) => "SENDING",
            Some(_) => "COMPLETED",
        }
    }

    /// `(status, sent_at)` of the send to recipient `r`, once the batch was sent.
    pub(crate) fn send_state(
        &self,
        r: &Recipient,
        now: DateTime<Utc>,
    ) -> Option<(&'static str, Option<DateTime<Utc>>)> {
        let t = self.sent_at?;
        r.enriched.as_ref()?;
        Some(if now < t + Duration::seconds(1) {
            ("QUEUED", None)
        } else if now < t + Duration::seconds(2) {
            ("SENT", Some(t + Duration::seconds(1)))
        } else if r.outcome == Outcome::Delivered {
            ("SUCCESS", Some(t + Duration::seconds(1)))
        } else {
            ("ERROR", Some(t + Duration::seconds(1)))
        })
    }

    pub(crate) fn contact_of<'a>(&self, p: &'a Patient) -> &'a str {
        if self.channel == "EMAIL" {
            &p.email
        } else {
            &p.mobile
        }
    }
}

/// A webhook subscription (`POST /v1/webhooks`). Holds the signing key: no `Debug`.
#[derive(Clone)]
pub(crate) struct Webhook {
    pub id: String,
    pub event_type: String,
    pub url: String,
    pub description: Option<String>,
    pub signing_key: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
}

/// An attachment link (`POST /v1/attachment_links`): the file as uploaded (or the record file it
/// names). Patient data: no `Debug`.
#[derive(Clone)]
pub(crate) struct Attachment {
    pub uuid: String,
    pub link: String,
    pub patient_id: String,
    pub file_name: Option<String>,
    pub contents: Option<Vec<u8>>,
    pub ehr_file_id: Option<String>,
    pub expiry_date: Option<DateTime<Utc>>,
    pub maximum_use_count: Option<u64>,
    pub created_at: DateTime<Utc>,
}

/// Everything one practice group owns.
#[derive(Default)]
pub(crate) struct Group {
    pub patients: BTreeMap<String, Patient>,
    pub by_nhs: HashMap<String, String>,
    pub next_patient: u64,
    pub messages: Vec<Message>,
    pub batches: Vec<Batch>,
    pub webhooks: Vec<Webhook>,
    pub attachments: Vec<Attachment>,
}

const FIRST: [&str; 8] = [
    "Ada", "Grace", "Alan", "Mary", "Tim", "Edith", "Rosalind", "Nye",
];
const LAST: [&str; 8] = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Seacole",
    "Berners-Lee",
    "Cavell",
    "Franklin",
    "Bevan",
];
const TITLES: [Option<&str>; 4] = [Some("Dr"), None, Some("Dame"), Some("Captain")];

/// The `sent_by` of the seeded messages.
pub(crate) const SEEDED_BY: &str = "Seed";

/// A made-up person, the same for the same seed. A batch recipient's seed is their NHS number,
/// so their mobile is `+447700900` and the number's last three digits (NHS numbers that end alike
/// share a mobile), and their email `first.last{nhs}@example.org` (one each).
pub(crate) fn person(seed: u64, id: String) -> Patient {
    let f = FIRST[(seed % 8) as usize];
    let l = LAST[((seed / 8) % 8) as usize];
    Patient {
        id,
        title: TITLES[(seed % 4) as usize],
        first_name: f.to_owned(),
        last_name: l.to_owned(),
        mobile: format!("+447700{:06}", 900_000 + seed % 1000),
        email: format!(
            "{}.{}{}@example.org",
            f.to_lowercase(),
            l.to_lowercase().replace('-', ""),
            seed
        ),
    }
}

impl Group {
    /// The patient with this id, made up if the mock has not seen it yet.
    pub(crate) fn patient(&mut self, id: &str) -> Patient {
        let seed = id.parse::<u64>().unwrap_or(0);
        self.patients
            .entry(id.to_owned())
            .or_insert_with(|| person(seed, id.to_owned()))
            .clone()
    }

    /// The patient with this NHS number, registered if new.
    pub(crate) fn register_nhs(&mut self, nhs: &str) -> Patient {
        if let Some(id) = self.by_nhs.get(nhs) {
            return self.patients[id].clone();
        }
        self.next_patient += 1;
        let id = (100_000 + self.next_patient).to_string();
        let p = person(nhs.parse().unwrap_or(0), id.clone());
        self.by_nhs.insert(nhs.to_owned(), id.clone());
        self.patients.insert(id, p.clone());
        p
    }

    /// `n` historical messages, the same every time.
    pub(crate) fn seed_sent_messages(&mut self, n: u64) {
        let start = Utc
            .with_ymd_and_hms(2024, 1, 1, 8, 0, 0)
            .single()
            .expect("valid date");
        let types = ["sms", "email", "nhs_app", "hero"];
        let outcomes = [
            Outcome::Delivered,
            Outcome::Delivered,
            Outcome::Delivered,
            Outcome::Declined,
            Outcome::Fatal,
        ];
        for i in 0..n {
            let patient = self.patient(&(1000 + i % 500).to_string());
            let message_type = types[(i % 4) as usize].to_owned();
            let contact = if message_type == "email" {
                patient.email.clone()
            } else {
                patient.mobile.clone()
            };
            let id = self.messages.len() as u64 + 1;
            self.messages.push(Message {
                id,
                patient_id: patient.id,
                message_type,
                content: format!("Seeded message {id}"),
                contact,
                write_to_record: i % 3 == 0,
                snomed_code: None,
                snomed_valid: i % 7 != 0,
                send_at: None,
                created_at: start + Duration::minutes(i as i64),
                outcome: outcomes[(i % 5) as usize],
                sent_by: SEEDED_BY.to_owned(),
                campaign: (i % 10 == 0)
                    .then(|| ((i / 10 + 1).to_string(), "Flu clinic".to_owned())),
                short_link: (i % 6 == 0).then(|| ("17".to_owned(), "booking".to_owned())),
                attachment_uuid: None,
                approval: Approval::NotNeeded,
            });
        }
    }
}
