//! Finding a send whose outcome is unknown: [`SendAttempt`] (what an [`Error`] remembers of the
//! attempt) and [`HeroClient::find_send`], which answers [`FoundSend::Sent`], [`FoundSend::NotSent`]
//! or [`FoundSend::Ambiguous`].
//!
//! Hero has no idempotency key, so the only way to know whether a send went is to look for it.
//! Two things make the obvious look wrong, and this module handles both:
//! - Hero's `created_at` has whole seconds and Hero's clock is not ours: the window is widened by
//!   one second of precision and by [`FindOptions::clock_skew`] on both sides.
//! - A wider window can hold another message to the same patient: a match must agree on every
//!   field Hero returns (patient, message type, recipient when one was given, scheduled time when
//!   one was given, SNOMED code when one was given), messages the caller already knows are
//!   excluded ([`FindOptions::exclude`]), and more than one candidate is [`FoundSend::Ambiguous`],
//!   never a guess.
//! - Hero may list a new message late: "not sent" is only answered after looking again
//!   [`FindOptions::looks`] times, [`FindOptions::list_delay`] apart, and never while a candidate
//!   exists.

use std::{collections::BTreeSet, fmt, time::Duration};

use chrono::{DateTime, Utc};
use futures::TryStreamExt;

use crate::{
    HeroClient, MessageType, PageOptions, Paginate, Sensitive,
    api::types,
    error::{Error, ErrorKind},
};

/// What an [`Error`] whose send may have gone remembers of the attempt: the operation, the
/// fields Hero lists a message by, and the time window of the attempt (from just before the
/// request was written to just after it failed). Its `Debug` shows no patient data.
///
/// It serializes (serde) so a journal can keep it and resolve the send after a restart; the
/// serialized form holds the patient id and the recipient, so store it as patient data. An
/// operation name that is not one of the API description's is refused when deserializing.
///
/// ```
/// let json = r#"{"operation":"send_message","started":"2026-01-01T10:00:00Z",
///     "ended":"2026-01-01T10:00:02Z","patient_id":"98765","message_type":"sms"}"#;
/// let attempt: herohealth::SendAttempt = serde_json::from_str(json).unwrap();
/// assert_eq!(attempt.operation(), "send_message");
/// assert_eq!(serde_json::from_str::<herohealth::SendAttempt>(&serde_json::to_string(&attempt).unwrap()).unwrap(), attempt);
/// ```
#[derive(Clone, PartialEq, serde::Serialize)]
pub struct SendAttempt {
    operation: &'static str,
    started: DateTime<Utc>,
    ended: DateTime<Utc>,
    patient_id: Option<String>,
    message_type: Option<MessageType>,
    recipient: Option<Sensitive>,
    send_at: Option<DateTime<Utc>>,
    snomed_code: Option<String>,
}

/// A serialized [`SendAttempt`], whose operation must be one of the operation table's.
#[derive(serde::Deserialize)]
struct StoredAttempt {
    operation: String,
    started: DateTime<Utc>,
    ended: DateTime<Utc>,
    patient_id: Option<String>,
    message_type: Option<MessageType>,
    recipient: Option<Sensitive>,
    send_at: Option<DateTime<Utc>>,
    snomed_code: Option<String>,
}

impl<'de> serde::Deserialize<'de> for SendAttempt {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = StoredAttempt::deserialize(d)?;
        let operation = crate::api::spec::OPERATIONS
            .iter()
            .find(|o| o.id == s.operation)
            .map(|o| o.id)
            .ok_or_else(|| serde::de::Error::custom("not an operation of the API description"))?;
        Ok(Self {
            operation,
            started: s.started,
            ended: s.ended,
            patient_id: s.patient_id,
            message_type: s.message_type,
            recipient: s.recipient,
            send_at: s.send_at,
            snomed_code: s.snomed_code,
        })
    }
}

#[derive(serde::Deserialize)]
struct Fingerprint {
    patient_id: Option<String>,
    message_type: Option<MessageType>,
    recipient_contact_detail: Option<String>,
    send_at: Option<DateTime<Utc>>,
    snomed_code: Option<String>,
}

impl SendAttempt {
    pub(crate) fn new(
        operation: &'static str,
        started: DateTime<Utc>,
        ended: DateTime<Utc>,
        body: &[u8],
    ) -> Option<Self> {
        let f: Fingerprint = serde_json::from_slice(body).ok()?;
        Some(Self {
            operation,
            started,
            ended,
            patient_id: f.patient_id,
            message_type: f.message_type,
            recipient: f.recipient_contact_detail.map(Sensitive::from),
            send_at: f.send_at,
            snomed_code: f.snomed_code,
        })
    }

    /// The operation (snake_case operationId), e.g. `send_message`.
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// Just before the first request was written, by this machine's clock.
    pub fn started(&self) -> DateTime<Utc> {
        self.started
    }

    /// Just after the last attempt ended, by this machine's clock.
    pub fn ended(&self) -> DateTime<Utc> {
        self.ended
    }

    /// The patient the message was for.
    pub fn patient_id(&self) -> Option<&str> {
        self.patient_id.as_deref()
    }

    /// How it was sent.
    pub fn message_type(&self) -> Option<&MessageType> {
        self.message_type.as_ref()
    }

    /// The recipient contact detail, when the request named one.
    pub fn recipient(&self) -> Option<&Sensitive> {
        self.recipient.as_ref()
    }

    /// The scheduled send time, when the request had one.
    pub fn send_at(&self) -> Option<DateTime<Utc>> {
        self.send_at
    }

    /// The window Hero's `created_at` of this send must fall in: the attempt widened by Hero's
    /// timestamp precision (whole seconds) and `clock_skew` on each side.
    pub fn window(&self, clock_skew: Duration) -> (DateTime<Utc>, DateTime<Utc>) {
        let pad = chrono::Duration::from_std(clock_skew + Duration::from_secs(1))
            .unwrap_or(chrono::Duration::MAX);
        (self.started - pad, self.ended + pad)
    }
}

impl fmt::Debug for SendAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendAttempt")
            .field("operation", &self.operation)
            .field("started", &self.started)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

/// How [`HeroClient::find_send`] looks.
///
/// ```
/// use std::time::Duration;
/// let opts = herohealth::FindOptions::default()
///     .clock_skew(Duration::from_secs(10))
///     .list_delay(Duration::from_secs(5))
///     .looks(3);
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindOptions {
    clock_skew: Duration,
    list_delay: Duration,
    looks: u32,
    exclude: BTreeSet<String>,
}

impl Default for FindOptions {
    /// 30 s of clock skew, 3 looks 10 s apart, nothing excluded.
    fn default() -> Self {
        Self {
            clock_skew: Duration::from_secs(30),
            list_delay: Duration::from_secs(10),
            looks: 3,
            exclude: BTreeSet::new(),
        }
    }
}

impl FindOptions {
    /// How far Hero's clock may be from this machine's (widens the window on both sides).
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// How long Hero may take to list a new message: the wait between two looks.
    pub fn list_delay(mut self, delay: Duration) -> Self {
        self.list_delay = delay;
        self
    }

    /// Looks in all before "not sent" (at least 1).
    pub fn looks(mut self, looks: u32) -> Self {
        self.looks = looks.max(1);
        self
    }

    /// Message ids the caller already knows (earlier sends to the same patient): never a candidate.
    pub fn exclude(mut self, ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.exclude.extend(ids.into_iter().map(Into::into));
        self
    }
}

/// The answer of [`HeroClient::find_send`].
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a send whose outcome was unknown must be resolved, not dropped"]
#[non_exhaustive]
pub enum FoundSend {
    /// Exactly one listed message matches every field Hero returns: the send went, with this id.
    /// Do not send again.
    Sent {
        /// The message id.
        message_id: String,
    },
    /// No message matched after every look: the send did not reach Hero. Sending again is safe
    /// unless Hero lists messages later than [`FindOptions::list_delay`] × looks.
    NotSent,
    /// More than one message matches: never guessed. A person decides; do not send again.
    Ambiguous {
        /// The candidates' message ids.
        message_ids: Vec<String>,
    },
}

impl HeroClient {
    /// Resolves a send whose outcome is unknown (or that Hero accepted without a readable
    /// answer): looks for it in the sent-messages list. See [`crate::find`] for what each answer
    /// guarantees.
    ///
    /// Fails with [`ErrorKind::InvalidRequest`] when `err` has no [`SendAttempt`] (it is not a
    /// `send_message` whose outcome is unknown), and with the list's error when looking fails.
    ///
    /// ```no_run
    /// use herohealth::{FindOptions, FoundSend, MessageType};
    /// # async fn run(hero: herohealth::HeroClient) -> herohealth::Result<()> {
    /// let sent = hero
    ///     .send_message()
    ///     .body_map(|b| b.patient_id("98765").message_type(MessageType::Sms).message_string("Hello"))
    ///     .send()
    ///     .await;
    /// match sent {
    ///     Ok(sent) => println!("sent {}", sent.message_id),
    ///     Err(e) if e.may_have_been_sent() => match hero.find_send(&e, FindOptions::default()).await? {
    ///         FoundSend::Sent { message_id } => println!("it went: {message_id}"),
    ///         FoundSend::NotSent => println!("it did not go: safe to send again"),
    ///         FoundSend::Ambiguous { message_ids } => println!("a person decides: {message_ids:?}"),
    ///         _ => unreachable!(),
    ///     },
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn find_send(&self, err: &Error, options: FindOptions) -> crate::Result<FoundSend> {
        let attempt = err
            .send_attempt()
            .filter(|a| a.operation == "send_message")
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidRequest,
                    "find_send: the error is not a send_message whose outcome is unknown",
                )
            })?;
        self.find_attempt(attempt, options).await
    }

    /// [`find_send`](Self::find_send) for a [`SendAttempt`] kept apart from its error (e.g. in a
    /// journal).
    pub async fn find_attempt(
        &self,
        attempt: &SendAttempt,
        options: FindOptions,
    ) -> crate::Result<FoundSend> {
        let patient_id = attempt.patient_id.as_deref().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidRequest,
                "find_send: the attempt has no patient_id",
            )
        })?;
        let (from, to) = attempt.window(options.clock_skew);
        for look in 0..options.looks {
            if look > 0 {
                tokio::time::sleep(options.list_delay).await;
            }
            let mut request = self.list_sent_messages().patient_id(patient_id);
            if let Some(t) = &attempt.message_type {
                request = request.message_type(t.clone());
            }
            let listed: Vec<types::SentMessage> = request
                .stream_with(PageOptions::default().page_size(100))
                .try_collect()
                .await?;
            let mut candidates: Vec<String> = Vec::new();
            let mut unnamed = 0usize;
            for m in listed.iter().filter(|m| matches(attempt, m, from, to)) {
                match &m.id {
                    Some(id) if options.exclude.contains(id) => {}
                    Some(id) => candidates.push(id.clone()),
                    None => unnamed += 1,
                }
            }
            if attempt.snomed_code.is_some() && candidates.len() > 1 {
                candidates = self.same_snomed(attempt, candidates).await?;
            }
            match (candidates.len(), unnamed) {
                (0, 0) => continue,
                (1, 0) => {
                    return Ok(FoundSend::Sent {
                        message_id: candidates.remove(0),
                    });
                }
                _ => {
                    return Ok(FoundSend::Ambiguous {
                        message_ids: candidates,
                    });
                }
            }
        }
        Ok(FoundSend::NotSent)
    }

    /// The candidates whose write-to-record SNOMED code is the attempt's (or unknown).
    async fn same_snomed(
        &self,
        attempt: &SendAttempt,
        candidates: Vec<String>,
    ) -> crate::Result<Vec<String>> {
        let mut kept = Vec::new();
        for id in candidates {
            let message = self.get_message().id(id.clone()).send().await?;
            let code = message
                .write_to_record
                .as_ref()
                .and_then(|w| w.snomed_code.as_deref());
            if code.is_none() || code == attempt.snomed_code.as_deref() {
                kept.push(id);
            }
        }
        Ok(kept)
    }
}

/// Whether a listed message agrees with every field of the attempt Hero returns.
fn matches(
    attempt: &SendAttempt,
    m: &types::SentMessage,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> bool {
    let same_patient = attempt.patient_id.as_deref() == Some(m.patient.id.as_str());
    let same_type = attempt
        .message_type
        .as_ref()
        .is_none_or(|t| *t == m.message_type);
    let same_recipient = attempt.recipient.as_ref().is_none_or(|r| {
        normalise_contact(r.expose()) == normalise_contact(m.recipient_contact_detail.expose())
    });
    let same_schedule = match (attempt.send_at, m.scheduled_at) {
        (Some(a), Some(b)) => (a - b).num_seconds().abs() <= 1,
        (Some(_), None) => false,
        (None, _) => true,
    };
    // A message without created_at cannot be ruled out by time.
    let in_window = m.created_at.is_none_or(|c| c >= from && c <= to);
    same_patient && same_type && same_recipient && same_schedule && in_window
}

/// A contact detail compared by what it reaches: lower case, without spaces, hyphens or brackets,
/// a UK `07…` number as `+447…`.
fn normalise_contact(c: &str) -> String {
    let c: String = c
        .chars()
        .filter(|ch| !matches!(ch, ' ' | '-' | '(' | ')'))
        .collect::<String>()
        .to_lowercase();
    match c.strip_prefix('0') {
        Some(rest) if !c.contains('@') => format!("+44{rest}"),
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_compare_by_what_they_reach() {
        assert_eq!(
            normalise_contact("07700 900-123"),
            normalise_contact("+447700900123")
        );
        assert_ne!(
            normalise_contact("07700900124"),
            normalise_contact("+447700900123")
        );
        assert_eq!(normalise_contact("Ada@Example.org"), "ada@example.org");
    }

    #[test]
    fn the_window_is_widened_by_precision_and_skew() {
        let t = Utc::now();
        let a = SendAttempt {
            operation: "send_message",
            started: t,
            ended: t,
            patient_id: None,
            message_type: None,
            recipient: None,
            send_at: None,
            snomed_code: None,
        };
        let (from, to) = a.window(Duration::from_secs(2));
        assert_eq!((t - from).num_seconds(), 3);
        assert_eq!((to - t).num_seconds(), 3);
    }
}
