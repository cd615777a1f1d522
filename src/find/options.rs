//! What [`crate::HeroClient::find_send`] is asked ([`FindOptions`]) and what it answers
//! ([`FoundSend`], with the evidence behind it: [`Finding`], [`Candidate`]).

use std::{collections::BTreeSet, time::Duration};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{DeliveryStatus, MessageType, WriteToRecordStatus};

/// How [`HeroClient::find_send`](crate::HeroClient::find_send) looks.
///
/// **Defaults** ([`FindOptions::default`]): 3 looks 10 s apart (so no answer comes earlier than
/// 30 s after the attempt's deadline), a guard band of 60 s, no ids excluded beyond the client's
/// own sends, and a candidate is `Sent` only when Hero's copy of its text is the attempt's
/// ([`sole_candidate_is_sent`](Self::sole_candidate_is_sent) off).
///
/// ```
/// use std::time::Duration;
/// let defaults = herohealth::FindOptions::default();
/// assert_eq!(defaults.get_looks(), 3);
/// assert_eq!(defaults.get_list_delay(), Duration::from_secs(10));
/// assert_eq!(defaults.get_guard_band(), Duration::from_secs(60));
/// assert_eq!(defaults.get_exclude().count(), 0);
/// assert!(!defaults.get_sole_candidate_is_sent());
///
/// let opts = herohealth::FindOptions::default()
///     .list_delay(Duration::from_secs(5))
///     .looks(3)
///     .guard_band(Duration::from_secs(120));
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindOptions {
    pub(crate) list_delay: Duration,
    pub(crate) looks: u32,
    pub(crate) guard_band: Duration,
    pub(crate) exclude: BTreeSet<String>,
    pub(crate) sole_candidate: bool,
}

impl Default for FindOptions {
    /// 3 looks 10 s apart (the last 30 s after the attempt's deadline), a 60 s guard band,
    /// nothing excluded, `Sent` only on Hero's copy of the text.
    fn default() -> Self {
        Self {
            list_delay: Duration::from_secs(10),
            looks: 3,
            guard_band: Duration::from_secs(60),
            exclude: BTreeSet::new(),
            sole_candidate: false,
        }
    }
}

impl FindOptions {
    /// How long Hero may take to list a new message: the wait before the first look (after the
    /// attempt's deadline) and between looks (default 10 s).
    pub fn list_delay(mut self, delay: Duration) -> Self {
        self.list_delay = delay;
        self
    }

    /// Looks in all before an answer (at least 1; default 3).
    pub fn looks(mut self, looks: u32) -> Self {
        self.looks = looks.max(1);
        self
    }

    /// How far around the attempt's window another message to the same patient on the same
    /// channel makes the answer ambiguous, and how far Hero's `Date` may be from this machine's
    /// clock for "not sent" (default 60 s).
    pub fn guard_band(mut self, band: Duration) -> Self {
        self.guard_band = band;
        self
    }

    /// Message ids the caller already knows to be its own earlier sends (a journal's): never a
    /// candidate, and not counted in the guard band. Ids this client received itself are excluded
    /// without being passed.
    pub fn exclude(mut self, ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.exclude.extend(ids.into_iter().map(Into::into));
        self
    }

    /// **Opt-in, with a known bound.** Also answer `Sent` for a sole candidate whose text cannot
    /// be compared (Hero gives none back, or the attempt was stored without its digest): one
    /// message that agrees with every field Hero lists, certainly inside the attempt's window on
    /// a clock that every reading agrees on, alone in the guard band. Off by default, and then
    /// such a candidate is `Ambiguous`.
    ///
    /// The bound you accept: if the attempt never reached Hero and another sender (the practice's
    /// appointment system) messaged the same patient, channel and recipient inside the attempt's
    /// window, the answer is `Sent` with that message's id and the patient never gets this one.
    /// The window runs from the attempt's start to its deadline, so the shorter Hero's processing
    /// time ([`HeroClientBuilder::hero_processing_time`](crate::HeroClientBuilder::hero_processing_time)),
    /// the smaller it is.
    pub fn sole_candidate_is_sent(mut self, accept: bool) -> Self {
        self.sole_candidate = accept;
        self
    }

    /// The wait before the first look and between looks (default 10 s).
    pub fn get_list_delay(&self) -> Duration {
        self.list_delay
    }

    /// The looks in all (default 3).
    pub fn get_looks(&self) -> u32 {
        self.looks
    }

    /// The guard band around the attempt's window (default 60 s).
    pub fn get_guard_band(&self) -> Duration {
        self.guard_band
    }

    /// The ids passed to [`exclude`](Self::exclude), in order (default: none).
    pub fn get_exclude(&self) -> impl Iterator<Item = &str> {
        self.exclude.iter().map(String::as_str)
    }

    /// Whether a sole candidate whose text cannot be compared is `Sent`
    /// ([`sole_candidate_is_sent`](Self::sole_candidate_is_sent); default `false`).
    pub fn get_sole_candidate_is_sent(&self) -> bool {
        self.sole_candidate
    }
}

/// The answer of [`HeroClient::find_send`](crate::HeroClient::find_send).
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a send whose outcome was unknown must be resolved, not dropped"]
#[non_exhaustive]
pub enum FoundSend {
    /// This attempt's own message, identified: it agrees with every field Hero lists, was created
    /// during the attempt, and Hero's copy of its text is the attempt's, byte for byte (or, only
    /// with [`FindOptions::sole_candidate_is_sent`], it is the sole such message). It went, with
    /// this id. Do not send again.
    Sent {
        /// The message id.
        message_id: String,
    },
    /// Nothing that could be this send was listed by the last look, which came after the latest
    /// moment Hero could still create it, and every clock reading agreed: it did not reach Hero.
    /// Sending again is safe within the bounds the crate's guide states.
    NotSent,
    /// It may have gone but no message can be told to be it, or the clocks do not agree well
    /// enough to say it did not: never guessed. A person decides; do not send again.
    Ambiguous {
        /// The messages to look at: the candidates, then the others around the window (empty when
        /// nothing is listed but the clocks disagree).
        message_ids: Vec<String>,
    },
}

/// An answer of [`HeroClient::find_attempt_with_evidence`](crate::HeroClient::find_attempt_with_evidence)
/// with what it rests on: every message it weighed, for a person to decide by.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Finding {
    /// The answer, as `find_attempt` gives it.
    pub answer: FoundSend,
    /// The messages weighed, in the order of the answer's ids: what a person is shown. No patient
    /// data.
    pub candidates: Vec<Candidate>,
}

/// One listed message weighed against an attempt, as a person deciding is shown it: no patient
/// data (no name, contact detail or text), only ids, times and statuses.
///
/// ```
/// let c: herohealth::Candidate = serde_json::from_value(serde_json::json!({
///     "message_id": "251", "created_at": "2026-01-05T10:00:03Z", "after_start_s": 2,
///     "message_type": "sms", "status": "delivered", "write_to_record": "success",
///     "like_attempt": true, "in_window": true, "text": "same"
/// }))?;
/// assert_eq!(c.text, herohealth::TextCheck::Same);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Candidate {
    /// Hero's id of the message.
    pub message_id: String,
    /// When Hero created it, by its own clock (`None` when Hero's list gave no time).
    pub created_at: Option<DateTime<Utc>>,
    /// Seconds from the attempt's start (this machine's clock) to `created_at` (Hero's):
    /// negative before it.
    pub after_start_s: Option<i64>,
    /// Its channel.
    pub message_type: MessageType,
    /// Its delivery status when it was weighed.
    pub status: DeliveryStatus,
    /// Its write into the patient's record, when done.
    pub write_to_record: Option<WriteToRecordStatus>,
    /// Whether it agrees with every field of the attempt Hero lists (patient, channel,
    /// recipient, schedule); `false` for another message to the patient on the channel.
    pub like_attempt: bool,
    /// Whether it may have been created during the attempt (`false`: in the guard band around
    /// it, or later when the clocks disagree).
    pub in_window: bool,
    /// What Hero's copy of its text says against the attempt's.
    pub text: TextCheck,
}

/// What Hero's copy of a message's text (`getMessage`'s `content`) says against an attempt's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TextCheck {
    /// The same text, byte for byte (and the same SNOMED code, when the attempt had one).
    Same,
    /// Another text, or another SNOMED code: not this attempt's message.
    Different,
    /// Not compared: Hero gave no text back, the attempt kept no digest of its own, or the
    /// message was not read.
    Unknown,
}

/// What Hero's own records say of one message against a send
/// ([`HeroClient::identify_message`](crate::HeroClient::identify_message)): for a person who
/// found a message and says it is a send's. Only [`Identified::Same`] is evidence.
///
/// ```
/// use herohealth::Identified;
/// assert!(Identified::Same.is_same());
/// let other = Identified::Different { field: "patient_id" };
/// assert!(!other.is_same());
/// assert_eq!(other.to_string(), "differs in `patient_id`");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Identified {
    /// Hero lists it for the send's patient on its channel, to its recipient, at its schedule,
    /// and Hero's copy of its text (and SNOMED code, when the send has one) is the send's, byte
    /// for byte.
    Same,
    /// It is not the send's: it differs in `field` (`patient_id`, `message_type`,
    /// `recipient_contact_detail`, `send_at`, or `content`: its text or SNOMED code).
    Different {
        /// The field that differs.
        field: &'static str,
    },
    /// It cannot be shown to be the send's: Hero gives no `field` to compare (`content`: no
    /// text back; `message_type`: the message is not listed for the patient on the send's
    /// channel).
    Unknown {
        /// The field that could not be compared.
        field: &'static str,
    },
}

impl Identified {
    /// Whether it is the send's, on Hero's evidence.
    pub fn is_same(self) -> bool {
        self == Identified::Same
    }
}

impl std::fmt::Display for Identified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Identified::Same => f.write_str("the send's own message"),
            Identified::Different { field } => write!(f, "differs in `{field}`"),
            Identified::Unknown { field } => {
                write!(f, "cannot be compared: Hero gives no `{field}` to compare")
            }
        }
    }
}
