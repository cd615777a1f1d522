//! A person's decision on a row the outbox could not settle ([`Decision`], its [`Choice`]), and
//! the record the journal keeps of it ([`DecisionRecord`]): [`Journal::decide`](super::Journal::decide),
//! [`Journal::decisions`](super::Journal::decisions).
//!
//! Only a row a person must decide (ambiguous: it may have gone, and the evidence cannot say)
//! is decided, once; the record is kept for good (no call of this crate deletes it). A decision
//! to send again is the only way such a row is ever sent again.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{RowState, Status};

/// What a person chose for a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "choice", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Choice {
    /// The row was sent, as this message: one of the row's candidates, or a message the person
    /// found. The row ends sent with this id.
    Sent {
        /// Hero's message id.
        message_id: String,
    },
    /// The row was not sent: it goes back to pending and through the outbox's normal path
    /// (paced, journaled, written once), with this decision as its reason.
    SendAgain,
    /// The row is not to be sent by the outbox: it ends failed, with this decision as its
    /// reason.
    Abandon,
}

impl Choice {
    /// Its name: `sent`, `send_again`, `abandon`.
    ///
    /// ```
    /// assert_eq!(herohealth_outbox::Choice::SendAgain.as_str(), "send_again");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            Choice::Sent { .. } => "sent",
            Choice::SendAgain => "send_again",
            Choice::Abandon => "abandon",
        }
    }

    /// The message id of a [`Choice::Sent`].
    pub fn message_id(&self) -> Option<&str> {
        match self {
            Choice::Sent { message_id } => Some(message_id),
            _ => None,
        }
    }

    /// The state the row takes.
    pub(crate) fn state(&self) -> RowState {
        match self {
            Choice::Sent { message_id } => RowState::Sent {
                message_id: message_id.clone(),
            },
            Choice::SendAgain => RowState::Pending,
            Choice::Abandon => RowState::Failed {
                reason: "abandoned by a person's decision (see the journal's decisions)".into(),
            },
        }
    }
}

/// Why a [`Decision`] was refused before anything was read or written: the field and the rule,
/// never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {rule}")]
pub struct InvalidDecision {
    field: &'static str,
    rule: &'static str,
}

impl InvalidDecision {
    /// The refused field: `by`, `note` or `message_id`.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The rule it broke.
    pub fn rule(&self) -> &'static str {
        self.rule
    }
}

/// What a person decides for one row: the [`Choice`], who decides (`by`) and why (`note`),
/// checked when it is made. Its `Debug` shows the choice and who, never the note (free text a
/// person wrote, which may name a patient).
///
/// ```
/// use herohealth_outbox::{Choice, Decision};
///
/// let decision = Decision::new(Choice::SendAgain, "Dr A. Example", "phoned: not received")?;
/// assert_eq!(decision.choice(), &Choice::SendAgain);
/// assert!(!format!("{decision:?}").contains("phoned"));
/// let err = Decision::new(Choice::Abandon, " ", "duplicate").unwrap_err();
/// assert_eq!(err.to_string(), "field `by`: must name the person deciding");
/// # Ok::<(), herohealth_outbox::InvalidDecision>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Decision {
    choice: Choice,
    by: String,
    note: String,
}

impl fmt::Debug for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decision")
            .field("choice", &self.choice.as_str())
            .field("by", &self.by)
            .finish_non_exhaustive()
    }
}

/// The longest `by` and `note` kept, in characters.
const MAX_BY: usize = 200;
const MAX_NOTE: usize = 4000;

fn text(
    value: &str,
    field: &'static str,
    empty: &'static str,
    max: usize,
) -> Result<String, InvalidDecision> {
    let value = value.trim();
    if value.is_empty() {
        return Err(InvalidDecision { field, rule: empty });
    }
    if value.chars().count() > max {
        return Err(InvalidDecision {
            field,
            rule: "is too long",
        });
    }
    Ok(value.to_owned())
}

impl Decision {
    /// A decision `choice` by the person `by`, with `note` (why: what they checked). Both are
    /// required (trimmed, not empty); `by` is one line; a [`Choice::Sent`]'s message id is one
    /// word.
    pub fn new(choice: Choice, by: &str, note: &str) -> Result<Decision, InvalidDecision> {
        let by = text(by, "by", "must name the person deciding", MAX_BY)?;
        if by.chars().any(char::is_control) {
            return Err(InvalidDecision {
                field: "by",
                rule: "must be one line of text",
            });
        }
        let note = text(note, "note", "must say why (what was checked)", MAX_NOTE)?;
        let choice = match choice {
            Choice::Sent { message_id } => {
                let id = text(&message_id, "message_id", "must not be empty", MAX_BY)?;
                if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(InvalidDecision {
                        field: "message_id",
                        rule: "must be one word (Hero's message id)",
                    });
                }
                Choice::Sent { message_id: id }
            }
            other => other,
        };
        Ok(Decision { choice, by, note })
    }

    /// What was chosen.
    pub fn choice(&self) -> &Choice {
        &self.choice
    }

    /// Who decides.
    pub fn by(&self) -> &str {
        &self.by
    }

    /// Why.
    pub fn note(&self) -> &str {
        &self.note
    }
}

/// A decision as the journal keeps it: which row, who, when (the journal's clock), the choice,
/// the candidates the row had when it was decided and why it needed a person, and the note.
/// Kept for good. Its `Debug` never shows the note.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecisionRecord {
    /// The decision's number in the journal (increasing).
    pub id: u64,
    /// The row's run (0 in a journal of one input).
    pub run: u64,
    /// The row's position in its input, from 0.
    pub index: u64,
    /// The row's line in its input file, when it came from one.
    pub line: Option<u64>,
    /// When it was recorded, by the journal's clock.
    pub decided_at: DateTime<Utc>,
    /// The decision.
    pub decision: Decision,
    /// The candidate message ids the row had (what a person was shown).
    pub candidates: Vec<String>,
    /// Why the row needed a person (the outbox's words, no patient data).
    pub reason: String,
}

impl fmt::Debug for DecisionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecisionRecord")
            .field("id", &self.id)
            .field("run", &self.run)
            .field("index", &self.index)
            .field("line", &self.line)
            .field("decided_at", &self.decided_at)
            .field("decision", &self.decision)
            .field("candidates", &self.candidates.len())
            .finish_non_exhaustive()
    }
}

/// What a journal stores of a decision besides its row, one JSON column: the choice, who, the
/// note, the row's candidates and reason.
#[derive(Serialize, Deserialize)]
pub(crate) struct Stored {
    #[serde(flatten)]
    pub(crate) choice: Choice,
    pub(crate) by: String,
    pub(crate) note: String,
    pub(crate) candidates: Vec<String>,
    pub(crate) reason: String,
    /// A token of this call, to know the decision again when a lost connection makes a journal
    /// run its statement twice.
    pub(crate) token: String,
}

impl Stored {
    /// What is stored of `decision` on a row now in `before`.
    pub(crate) fn of(decision: &Decision, before: &RowState, token: String) -> Stored {
        let (candidates, reason) = match before {
            RowState::Ambiguous {
                message_ids,
                reason,
            } => (message_ids.clone(), reason.clone()),
            other => (Vec::new(), other.reason().unwrap_or_default().to_owned()),
        };
        Stored {
            choice: decision.choice.clone(),
            by: decision.by.clone(),
            note: decision.note.clone(),
            candidates,
            reason,
            token,
        }
    }

    /// The record of decision `id` on row `index` of run `run`.
    pub(crate) fn record(
        self,
        id: u64,
        run: u64,
        index: u64,
        line: Option<u64>,
        decided_at: DateTime<Utc>,
    ) -> DecisionRecord {
        DecisionRecord {
            id,
            run,
            index,
            line,
            decided_at,
            decision: Decision {
                choice: self.choice,
                by: self.by,
                note: self.note,
            },
            candidates: self.candidates,
            reason: self.reason,
        }
    }
}

/// A token for one call of `decide`.
pub(crate) fn token() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

/// Whether a row in `status` may be decided: only a row a person must decide.
pub(crate) fn decidable(status: Status) -> bool {
    status == Status::Ambiguous
}
