//! [`SendAttempt`]: what is known of one send whose outcome may be unknown: the fields Hero lists a
//! message by, a digest of its text, and when Hero could have created it, by this machine's clock
//! and by Hero's.

use std::fmt;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::{
    MessageType, Sensitive,
    api::types::SendMessageRequest,
    clock::{ClockOffset, add},
    validate::canonical_contact,
};

/// One send of a message (`send_message`), as [`HeroClient::find_attempt`] looks for it: the
/// fields Hero lists a message by (patient, message type, recipient, scheduled time, SNOMED code),
/// a SHA-256 digest of its text (to compare with the text Hero gives back), and when Hero could
/// have created it: from just before the request was first written
/// ([`started`](Self::started)) to the [`deadline`](Self::deadline), the latest moment the request
/// was written ([`latest_write`](Self::latest_write)) plus Hero's longest processing time
/// ([`HeroClientBuilder::hero_processing_time`]), whatever timeout the request itself was given;
/// with the offset of Hero's clock when one was read ([`clock`](Self::clock)).
///
/// An [`Error`](crate::Error) whose send may have gone carries one
/// ([`Error::send_attempt`](crate::Error::send_attempt)); a durable sender builds one before it
/// writes the request ([`HeroClient::start_attempt`], or [`SendAttempt::new`]), says by when it
/// will write it ([`written_by`](Self::written_by)), and stores it (it serializes with serde). The
/// serialized form holds the patient id and the recipient: store it as patient data. Its `Debug`
/// shows no patient data.
///
/// ```
/// use chrono::{Duration, Utc};
/// use herohealth::{MessageType, SendAttempt, types::SendMessageRequest};
///
/// let body: SendMessageRequest = SendMessageRequest::builder()
///     .patient_id("98765")
///     .message_type(MessageType::Sms)
///     .message_string("Your results are ready")
///     .try_into()?;
/// let started = Utc::now();
/// // Hero may take 30 s over a request; this one is written within 2 s of the start.
/// let attempt = SendAttempt::new(&body, started, started + Duration::seconds(30))
///     .written_by(started + Duration::seconds(2));
/// assert_eq!(attempt.deadline(), started + Duration::seconds(32));
/// assert_eq!(attempt.patient_id(), Some("98765"));
/// assert_eq!(attempt.same_text("Your results are ready"), Some(true));
/// let stored = serde_json::to_string(&attempt)?;
/// assert_eq!(serde_json::from_str::<SendAttempt>(&stored)?, attempt);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`HeroClient::find_attempt`]: crate::HeroClient::find_attempt
/// [`HeroClient::start_attempt`]: crate::HeroClient::start_attempt
/// [`HeroClientBuilder::hero_processing_time`]: crate::HeroClientBuilder::hero_processing_time
#[derive(Clone, PartialEq, serde::Serialize)]
pub struct SendAttempt {
    operation: &'static str,
    started: DateTime<Utc>,
    ended: DateTime<Utc>,
    written_by: DateTime<Utc>,
    deadline: DateTime<Utc>,
    accepted: bool,
    clock: Option<ClockOffset>,
    patient_id: Option<String>,
    message_type: Option<MessageType>,
    recipient: Option<Sensitive>,
    send_at: Option<DateTime<Utc>>,
    snomed_code: Option<String>,
    text_sha256: Option<String>,
}

/// A serialized [`SendAttempt`]: its operation must be `send_message`. One stored by an older
/// version has no `written_by`: its deadline (the start plus a timeout the caller may have cut) is
/// taken as the latest write, and Hero's default processing time ([`OLD_PROCESSING`]) is added; one
/// with no deadline at all gets that after its start.
#[derive(serde::Deserialize)]
struct StoredAttempt {
    operation: String,
    started: DateTime<Utc>,
    ended: DateTime<Utc>,
    #[serde(default)]
    written_by: Option<DateTime<Utc>>,
    deadline: Option<DateTime<Utc>>,
    #[serde(default)]
    accepted: bool,
    #[serde(default)]
    clock: Option<ClockOffset>,
    patient_id: Option<String>,
    message_type: Option<MessageType>,
    recipient: Option<Sensitive>,
    send_at: Option<DateTime<Utc>>,
    snomed_code: Option<String>,
    #[serde(default)]
    text_sha256: Option<String>,
}

/// Hero's processing time for an attempt stored without one (by an older version): the default
/// timeout.
const OLD_PROCESSING: chrono::Duration = chrono::Duration::seconds(30);

/// The one operation whose sends can be looked for (Hero lists sent messages; batches it does not
/// list by content).
const SEND_MESSAGE: &str = "send_message";

impl<'de> serde::Deserialize<'de> for SendAttempt {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = StoredAttempt::deserialize(d)?;
        if s.operation != SEND_MESSAGE {
            return Err(serde::de::Error::custom(
                "not a send_message attempt: only those can be looked for",
            ));
        }
        let (written_by, deadline) = match (s.written_by, s.deadline) {
            (Some(w), Some(d)) => (w.max(s.started), d.max(w)),
            (Some(w), None) => (w.max(s.started), add(w, OLD_PROCESSING)),
            (None, Some(d)) => (d.max(s.started), add(d.max(s.started), OLD_PROCESSING)),
            (None, None) => (s.started, add(s.started, OLD_PROCESSING)),
        };
        Ok(Self {
            operation: SEND_MESSAGE,
            started: s.started,
            ended: s.ended,
            written_by,
            deadline: deadline.max(s.ended),
            accepted: s.accepted,
            clock: s.clock,
            patient_id: s.patient_id,
            message_type: s.message_type,
            recipient: s.recipient,
            send_at: s.send_at,
            snomed_code: s.snomed_code,
            text_sha256: s.text_sha256,
        })
    }
}

/// The SHA-256 of a message's text, in hex: what an attempt keeps of it.
fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl SendAttempt {
    /// An attempt to send `body` whose request is written at `started` (just before it goes) and
    /// that Hero could be carrying out until `deadline` (the write plus the longest Hero may take
    /// over it; a later deadline only widens what is looked at). `deadline` before `started` is
    /// taken as `started`. A request written later than `started` (after a journal's commit) says
    /// so with [`written_by`](Self::written_by).
    pub fn new(
        body: &SendMessageRequest,
        started: DateTime<Utc>,
        deadline: DateTime<Utc>,
    ) -> SendAttempt {
        let deadline = deadline.max(started);
        SendAttempt {
            operation: SEND_MESSAGE,
            started,
            ended: deadline,
            written_by: started,
            deadline,
            accepted: false,
            clock: None,
            patient_id: Some(body.patient_id.as_str().to_owned()),
            message_type: Some(body.message_type.clone()),
            recipient: body
                .recipient_contact_detail
                .as_ref()
                .map(|c| Sensitive::from(c.canonical())),
            send_at: body.send_at,
            snomed_code: body.snomed_code.as_ref().map(|c| c.as_str().to_owned()),
            text_sha256: Some(digest(body.message_string.as_str())),
        }
    }

    /// The same attempt, its request written no later than `at` (not before
    /// [`started`](Self::started)): the deadline moves with it, since Hero's processing time runs
    /// from the write. A durable sender that records the attempt before it writes the request
    /// (a journal's commit, a pace's slot in between) writes it only while `at` has not passed.
    pub fn written_by(mut self, at: DateTime<Utc>) -> SendAttempt {
        let processing = self.deadline - self.written_by;
        // Nothing seen of it yet: it "ended" at its deadline, wherever that moves.
        let unseen = self.ended == self.deadline;
        self.written_by = at.max(self.started);
        self.deadline = add(self.written_by, processing);
        if unseen {
            self.ended = self.deadline;
        }
        self
    }

    /// The same attempt with Hero's clock offset as read around it (see [`crate::ClockOffset`]).
    pub fn with_clock(mut self, clock: Option<ClockOffset>) -> SendAttempt {
        self.clock = clock;
        self
    }

    /// The same attempt, accepted by Hero (a 2xx) at `ended` by this machine's clock: Hero was
    /// done with it by then, so the deadline comes forward to it, and it went.
    pub(crate) fn accepted_at(mut self, ended: DateTime<Utc>) -> SendAttempt {
        let ended = ended.max(self.started);
        self.ended = ended;
        self.accepted = true;
        self.deadline = self.deadline.min(ended).max(self.started);
        self
    }

    /// The same attempt, seen to fail at `ended` (a timeout, a broken connection, or a status that
    /// may follow processing, which a proxy in front of Hero may have written while Hero goes on):
    /// Hero may still be processing it until the deadline.
    pub(crate) fn failed_at(mut self, ended: DateTime<Utc>) -> SendAttempt {
        self.ended = ended.max(self.started);
        self.deadline = self.deadline.max(self.ended);
        self
    }

    /// The operation (snake_case operationId): `send_message`.
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// Just before the request was first written, by this machine's clock: the earliest Hero could
    /// have created the message.
    pub fn started(&self) -> DateTime<Utc> {
        self.started
    }

    /// When the attempt ended as this machine saw it (an answer, a failure), or its deadline when
    /// nothing was seen.
    pub fn ended(&self) -> DateTime<Utc> {
        self.ended
    }

    /// The latest moment, by this machine's clock, at which the request was (or could have been)
    /// written: the last write of the client's own attempts, or what a durable sender promised
    /// with [`written_by`](Self::written_by).
    pub fn latest_write(&self) -> DateTime<Utc> {
        self.written_by
    }

    /// The latest moment, by this machine's clock, at which Hero could still create the message:
    /// the latest write plus Hero's longest processing time, or the moment Hero accepted it. Until
    /// then (plus the time Hero takes to list a message) "not sent" cannot be known.
    pub fn deadline(&self) -> DateTime<Utc> {
        self.deadline
    }

    /// Whether Hero accepted it (answered 2xx, though the answer could not be read): it went.
    pub fn accepted(&self) -> bool {
        self.accepted
    }

    /// Hero's clock offset as read around the attempt, if it was.
    pub fn clock(&self) -> Option<ClockOffset> {
        self.clock
    }

    /// The patient the message was for.
    pub fn patient_id(&self) -> Option<&str> {
        self.patient_id.as_deref()
    }

    /// How it was sent.
    pub fn message_type(&self) -> Option<&MessageType> {
        self.message_type.as_ref()
    }

    /// The recipient contact detail, when the request named one, in its canonical form
    /// ([`crate::ContactDetail::canonical`]).
    pub fn recipient(&self) -> Option<&Sensitive> {
        self.recipient.as_ref()
    }

    /// The scheduled send time, when the request had one.
    pub fn send_at(&self) -> Option<DateTime<Utc>> {
        self.send_at
    }

    /// The SNOMED code the message is written to the record with, when the request had one.
    pub fn snomed_code(&self) -> Option<&str> {
        self.snomed_code.as_deref()
    }

    /// Whether `text` (a message's content as Hero gives it) is, byte for byte, the text this
    /// attempt sent: `None` when the attempt kept no digest of its text (one stored by an older
    /// version).
    pub fn same_text(&self, text: &str) -> Option<bool> {
        self.text_sha256.as_ref().map(|d| *d == digest(text))
    }

    /// Whether Hero's copy of a message can be checked against this attempt: it kept a digest of
    /// its text, or has a SNOMED code.
    pub(crate) fn can_compare(&self) -> bool {
        self.text_sha256.is_some() || self.snomed_code.is_some()
    }

    /// Whether a listed recipient reaches the same person as this attempt's (compared in the
    /// canonical form). `true` when the attempt named none (it went to the record's contact).
    pub(crate) fn same_recipient(&self, listed: &str) -> bool {
        self.recipient
            .as_ref()
            .is_none_or(|r| r.expose() == canonical_contact(listed))
    }
}

impl fmt::Debug for SendAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendAttempt")
            .field("operation", &self.operation)
            .field("started", &self.started)
            .field("ended", &self.ended)
            .field("latest_write", &self.written_by)
            .field("deadline", &self.deadline)
            .field("accepted", &self.accepted)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn body() -> SendMessageRequest {
        SendMessageRequest::builder()
            .patient_id("98765")
            .message_type(MessageType::Sms)
            .message_string("Hi")
            .recipient_contact_detail("07700 900123")
            .snomed_code("1240751000000100")
            .try_into()
            .unwrap()
    }

    #[test]
    fn an_acceptance_brings_the_deadline_forward_and_a_failure_does_not() {
        let t = Utc::now();
        let a = SendAttempt::new(&body(), t, t + Duration::seconds(30));
        assert_eq!(a.recipient().unwrap().expose(), "+447700900123");
        assert_eq!(a.snomed_code(), Some("1240751000000100"));
        assert!(!a.accepted());
        let accepted = a.clone().accepted_at(t + Duration::seconds(2));
        assert_eq!(accepted.deadline(), t + Duration::seconds(2));
        assert_eq!(accepted.ended(), t + Duration::seconds(2));
        assert!(accepted.accepted());
        let failed = a.clone().failed_at(t + Duration::seconds(2));
        assert_eq!(failed.deadline(), t + Duration::seconds(30));
        assert_eq!(failed.ended(), t + Duration::seconds(2));
        assert!(!failed.accepted());
        // A failure seen after the deadline (a slow clock) moves it on.
        let late = a.failed_at(t + Duration::seconds(40));
        assert_eq!(late.deadline(), t + Duration::seconds(40));
        // Nothing ends before it starts.
        let early = SendAttempt::new(&body(), t, t - Duration::seconds(5));
        assert_eq!(early.deadline(), t);
        assert_eq!(early.accepted_at(t - Duration::seconds(1)).deadline(), t);
    }

    #[test]
    fn hero_s_processing_time_runs_from_the_latest_write() {
        let t = Utc::now();
        let s = Duration::seconds;
        // Hero may take 4 s; the request is written within 3 s of the start (a slow commit).
        let a = SendAttempt::new(&body(), t, t + s(4)).written_by(t + s(3));
        assert_eq!(
            (a.latest_write(), a.deadline(), a.ended()),
            (t + s(3), t + s(7), t + s(7))
        );
        // Written again later: the deadline follows; never before the start.
        let b = a.clone().written_by(t + s(10));
        assert_eq!(b.deadline(), t + s(14));
        let c = a.clone().written_by(t - s(10));
        assert_eq!((c.latest_write(), c.deadline()), (t, t + s(4)));
        // The end of time saturates instead of overflowing.
        let end = SendAttempt::new(&body(), t, DateTime::<Utc>::MAX_UTC).written_by(t + s(1));
        assert_eq!(end.deadline(), DateTime::<Utc>::MAX_UTC);
        let end = a.clone().written_by(DateTime::<Utc>::MAX_UTC);
        assert_eq!(end.deadline(), DateTime::<Utc>::MAX_UTC);
        // What was seen stays seen.
        let failed = SendAttempt::new(&body(), t, t + s(4)).failed_at(t + s(1));
        assert_eq!(failed.written_by(t + s(2)).ended(), t + s(1));
    }

    #[test]
    fn a_stored_attempt_reads_back_and_an_old_one_waits_for_hero_s_default_time() {
        let t = Utc::now();
        let s = Duration::seconds;
        let a = SendAttempt::new(&body(), t, t + s(9))
            .written_by(t + s(1))
            .with_clock(ClockOffset::from_date(t, t, t));
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(
            serde_json::from_value::<SendAttempt>(json.clone()).unwrap(),
            a
        );
        // An older version's: no latest write, no digest, no acceptance; its deadline was the
        // start plus a timeout it may have cut, so Hero's default time is added beyond it.
        let mut old = json.clone();
        for field in ["written_by", "text_sha256", "accepted"] {
            old.as_object_mut().unwrap().remove(field);
        }
        let read: SendAttempt = serde_json::from_value(old.clone()).unwrap();
        assert_eq!(read.latest_write(), t + s(10));
        assert_eq!(read.deadline(), t + s(40));
        assert_eq!(read.same_text("Hi"), None);
        assert!(!read.accepted());
        old.as_object_mut().unwrap().remove("deadline");
        let read: SendAttempt = serde_json::from_value(old).unwrap();
        assert_eq!(read.deadline(), t + s(30));
        assert_eq!(OLD_PROCESSING.to_std().unwrap(), crate::DEFAULT_TIMEOUT);
        let mut other = json;
        other["operation"] = "send_batch_message".into();
        assert!(serde_json::from_value::<SendAttempt>(other).is_err());
    }

    #[test]
    fn the_text_is_kept_as_a_digest_and_compared_byte_for_byte() {
        let t = Utc::now();
        let a = SendAttempt::new(&body(), t, t);
        assert_eq!(a.same_text("Hi"), Some(true));
        assert_eq!(a.same_text("Hi "), Some(false));
        assert_eq!(a.same_text("hi"), Some(false));
        let stored = serde_json::to_string(&a).unwrap();
        assert!(!stored.contains("\"Hi\""), "{stored}");
    }

    #[test]
    fn recipients_compare_in_their_canonical_form() {
        let t = Utc::now();
        let a = SendAttempt::new(&body(), t, t);
        assert!(a.same_recipient("+447700900123"));
        assert!(a.same_recipient("0044 7700 900123"));
        assert!(!a.same_recipient("+447700900124"));
        let mut b = body();
        b.recipient_contact_detail = None;
        assert!(SendAttempt::new(&b, t, t).same_recipient("anything"));
    }

    #[test]
    fn debug_shows_no_patient_data() {
        let t = Utc::now();
        let a = SendAttempt::new(&body(), t, t);
        let debug = format!("{a:?}");
        assert!(
            !debug.contains("98765") && !debug.contains("7700"),
            "{debug}"
        );
    }
}
