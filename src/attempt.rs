//! [`SendAttempt`]: what is known of one send whose outcome may be unknown: the fields Hero lists a
//! message by, and when the send could have been carried out, by this machine's clock and by
//! Hero's.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::{
    MessageType, Sensitive, api::types::SendMessageRequest, clock::ClockOffset,
    validate::canonical_contact,
};

/// One send of a message (`send_message`), as [`HeroClient::find_attempt`] looks for it: the
/// fields Hero lists a message by (patient, message type, recipient, scheduled time, SNOMED code)
/// and the window in which Hero could have carried it out: from just before the request was
/// written ([`started`](Self::started)) to the last moment Hero could still be processing it
/// ([`deadline`](Self::deadline): the attempt's own timeout, or the moment Hero answered), with
/// the offset of Hero's clock when one was read ([`clock`](Self::clock)).
///
/// An [`Error`](crate::Error) whose send may have gone carries one
/// ([`Error::send_attempt`](crate::Error::send_attempt)); a durable sender builds one before it
/// writes the request ([`HeroClient::start_attempt`], or [`SendAttempt::new`]) and stores it
/// (it serializes with serde). The serialized form holds the patient id and the recipient: store
/// it as patient data. Its `Debug` shows no patient data.
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
/// let attempt = SendAttempt::new(&body, started, started + Duration::seconds(30));
/// assert_eq!(attempt.patient_id(), Some("98765"));
/// let stored = serde_json::to_string(&attempt)?;
/// assert_eq!(serde_json::from_str::<SendAttempt>(&stored)?, attempt);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`HeroClient::find_attempt`]: crate::HeroClient::find_attempt
/// [`HeroClient::start_attempt`]: crate::HeroClient::start_attempt
#[derive(Clone, PartialEq, serde::Serialize)]
pub struct SendAttempt {
    operation: &'static str,
    started: DateTime<Utc>,
    ended: DateTime<Utc>,
    deadline: DateTime<Utc>,
    clock: Option<ClockOffset>,
    patient_id: Option<String>,
    message_type: Option<MessageType>,
    recipient: Option<Sensitive>,
    send_at: Option<DateTime<Utc>>,
    snomed_code: Option<String>,
}

/// A serialized [`SendAttempt`]: its operation must be `send_message`; a `deadline` left out
/// (stored by an older version) is taken as 30 seconds (the default timeout) after `started`,
/// and never before `ended`.
#[derive(serde::Deserialize)]
struct StoredAttempt {
    operation: String,
    started: DateTime<Utc>,
    ended: DateTime<Utc>,
    deadline: Option<DateTime<Utc>>,
    #[serde(default)]
    clock: Option<ClockOffset>,
    patient_id: Option<String>,
    message_type: Option<MessageType>,
    recipient: Option<Sensitive>,
    send_at: Option<DateTime<Utc>>,
    snomed_code: Option<String>,
}

/// The deadline of an attempt stored without one (by an older version): the default timeout.
const OLD_DEADLINE: chrono::Duration = chrono::Duration::seconds(30);

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
        let default_deadline = s.started + OLD_DEADLINE;
        Ok(Self {
            operation: SEND_MESSAGE,
            started: s.started,
            ended: s.ended,
            deadline: s.deadline.unwrap_or(default_deadline).max(s.ended),
            clock: s.clock,
            patient_id: s.patient_id,
            message_type: s.message_type,
            recipient: s.recipient,
            send_at: s.send_at,
            snomed_code: s.snomed_code,
        })
    }
}

impl SendAttempt {
    /// An attempt to send `body` that started at `started` (just before the request was written)
    /// and that Hero could be carrying out until `deadline` (the start plus the most the attempt
    /// may take; a later deadline only widens what is looked at). `deadline` before `started` is
    /// taken as `started`.
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
            deadline,
            clock: None,
            patient_id: Some(body.patient_id.as_str().to_owned()),
            message_type: Some(body.message_type.clone()),
            recipient: body
                .recipient_contact_detail
                .as_ref()
                .map(|c| Sensitive::from(c.canonical())),
            send_at: body.send_at,
            snomed_code: body.snomed_code.as_ref().map(|c| c.as_str().to_owned()),
        }
    }

    /// The same attempt with Hero's clock offset as read around it (see [`crate::ClockOffset`]).
    pub fn with_clock(mut self, clock: Option<ClockOffset>) -> SendAttempt {
        self.clock = clock;
        self
    }

    /// The same attempt, ended at `ended` by this machine's clock: an answer read then (a status,
    /// or a 2xx whose body could not be read) means Hero was done with it by then, so the
    /// deadline comes forward to it. A transport failure does not end Hero's part: use
    /// [`failed_at`](Self::failed_at).
    pub(crate) fn answered_at(mut self, ended: DateTime<Utc>) -> SendAttempt {
        let ended = ended.max(self.started);
        self.ended = ended;
        self.deadline = self.deadline.min(ended).max(self.started);
        self
    }

    /// The same attempt, seen to fail (timeout, broken connection) at `ended`: Hero may still be
    /// processing it until the deadline.
    pub(crate) fn failed_at(mut self, ended: DateTime<Utc>) -> SendAttempt {
        self.ended = ended.max(self.started);
        self.deadline = self.deadline.max(self.ended);
        self
    }

    /// The operation (snake_case operationId): `send_message`.
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// Just before the request was first written, by this machine's clock.
    pub fn started(&self) -> DateTime<Utc> {
        self.started
    }

    /// When the attempt ended as this machine saw it (an answer, a failure), or its deadline when
    /// nothing was seen.
    pub fn ended(&self) -> DateTime<Utc> {
        self.ended
    }

    /// The last moment, by this machine's clock, at which Hero could still be carrying the send
    /// out: the attempt's start plus the most it may take, or the moment Hero answered. Until
    /// then (plus the time Hero takes to list a message) "not sent" cannot be known.
    pub fn deadline(&self) -> DateTime<Utc> {
        self.deadline
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
            .field("deadline", &self.deadline)
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
    fn an_answer_brings_the_deadline_forward_and_a_failure_does_not() {
        let t = Utc::now();
        let a = SendAttempt::new(&body(), t, t + Duration::seconds(30));
        assert_eq!(a.recipient().unwrap().expose(), "+447700900123");
        assert_eq!(a.snomed_code(), Some("1240751000000100"));
        let answered = a.clone().answered_at(t + Duration::seconds(2));
        assert_eq!(answered.deadline(), t + Duration::seconds(2));
        assert_eq!(answered.ended(), t + Duration::seconds(2));
        let failed = a.clone().failed_at(t + Duration::seconds(2));
        assert_eq!(failed.deadline(), t + Duration::seconds(30));
        assert_eq!(failed.ended(), t + Duration::seconds(2));
        // A failure seen after the deadline (a slow clock) moves it on.
        let late = a.failed_at(t + Duration::seconds(40));
        assert_eq!(late.deadline(), t + Duration::seconds(40));
        // Nothing ends before it starts.
        let early = SendAttempt::new(&body(), t, t - Duration::seconds(5));
        assert_eq!(early.deadline(), t);
        assert_eq!(early.answered_at(t - Duration::seconds(1)).deadline(), t);
    }

    #[test]
    fn a_stored_attempt_reads_back_and_an_old_one_gets_the_default_deadline() {
        let t = Utc::now();
        let a = SendAttempt::new(&body(), t, t + Duration::seconds(9));
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(
            serde_json::from_value::<SendAttempt>(json.clone()).unwrap(),
            a
        );
        let mut old = json.clone();
        old.as_object_mut().unwrap().remove("deadline");
        let read: SendAttempt = serde_json::from_value(old).unwrap();
        assert_eq!(read.deadline(), t + Duration::seconds(30));
        assert_eq!(OLD_DEADLINE.to_std().unwrap(), crate::DEFAULT_TIMEOUT);
        let mut other = json;
        other["operation"] = "send_batch_message".into();
        assert!(serde_json::from_value::<SendAttempt>(other).is_err());
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
