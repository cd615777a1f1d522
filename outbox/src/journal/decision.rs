//! A person's decision on a row the outbox could not settle ([`Decision`], its [`Choice`]), and
//! the record the journal keeps of it ([`DecisionRecord`]): [`Journal::decide`](super::Journal::decide),
//! [`Journal::decisions`](super::Journal::decisions).
//!
//! Only a row a person must decide (ambiguous: it may have gone, and the evidence cannot say)
//! is decided, once; the record is kept for good (no call of this crate deletes it). A decision
//! to send again is the only way such a row is ever sent again.

use std::{borrow::Cow, fmt};

use chrono::{DateTime, Utc};
use herohealth::{HeroClient, Identified};
use serde::{Deserialize, Serialize};

use super::{Entry, RowState, Status};

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

/// Why a [`Decision`] was refused, with nothing recorded: the field and the rule, never the
/// value. Made by [`Decision::new`] (the text of `by` and `note`), by
/// [`Decision::identified_with`] (a message Hero does not show to be the row's) and by
/// [`Journal::decide`](super::Journal::decide) ([`JournalError::Refused`](super::JournalError::Refused):
/// a message that is not the row's to choose).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {rule}")]
pub struct InvalidDecision {
    field: &'static str,
    rule: Cow<'static, str>,
}

impl InvalidDecision {
    fn new(field: &'static str, rule: impl Into<Cow<'static, str>>) -> InvalidDecision {
        InvalidDecision {
            field,
            rule: rule.into(),
        }
    }

    /// The refused field: `by`, `note` or `message_id`.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The rule it broke.
    pub fn rule(&self) -> &str {
        &self.rule
    }
}

/// Why [`Decision::identified_with`] did not make a decision: Hero's records do not show the
/// message to be the row's ([`InvalidDecision`], field `message_id`), or Hero could not be
/// asked. Nothing was recorded either way.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentifyError {
    /// The message is not shown to be the row's: refused.
    #[error(transparent)]
    Refused(#[from] InvalidDecision),
    /// Hero could not show the message (not found, not the practice group's, or not reached).
    #[error("Hero could not show the message: {0}")]
    Hero(#[from] herohealth::Error),
}

/// Hero's evidence that a message a person found (not one of the row's candidates) is the
/// row's own ([`Decision::identified_with`]): the row it was checked against and the message.
#[derive(Clone, PartialEq, Eq)]
struct Found {
    /// The row, as the journal encodes it.
    row: String,
    message_id: String,
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
    /// For a [`Choice::Sent`] of a message that is not one of the row's candidates: Hero's
    /// evidence that it is the row's.
    found: Option<Found>,
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
        return Err(InvalidDecision::new(field, empty));
    }
    if value.chars().count() > max {
        return Err(InvalidDecision::new(field, "is too long"));
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
            return Err(InvalidDecision::new("by", "must be one line of text"));
        }
        let note = text(note, "note", "must say why (what was checked)", MAX_NOTE)?;
        let choice = match choice {
            Choice::Sent { message_id } => {
                let id = text(&message_id, "message_id", "must not be empty", MAX_BY)?;
                if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(InvalidDecision::new(
                        "message_id",
                        "must be one word (Hero's message id)",
                    ));
                }
                Choice::Sent { message_id: id }
            }
            other => other,
        };
        Ok(Decision {
            choice,
            by,
            note,
            found: None,
        })
    }

    /// This decision on `entry` (a row to decide, from [`Journal::to_decide`](super::Journal::to_decide)),
    /// with Hero's evidence when it needs it: a [`Choice::Sent`] of a message that is not one of
    /// the row's candidates (one the person found) is accepted by
    /// [`Journal::decide`](super::Journal::decide) only when Hero's records show it to be the
    /// row's own ([`HeroClient::identify_message`]: its patient and text, its channel, recipient
    /// and schedule). Asks Hero for that message and keeps the evidence with the decision;
    /// refuses it (field `message_id`) when Hero shows it to be another's or cannot compare it.
    /// One of the row's candidates is asked about too (a candidate is only a message listed near
    /// the attempt, maybe another sender's): refused when Hero shows it to be another's (its
    /// patient, channel, recipient, schedule or text differ); taken as the person chose it when
    /// Hero cannot compare it. Send again and abandon come back as they are, nothing asked.
    ///
    /// ```no_run
    /// use herohealth_outbox::{Choice, Decision, Journal, SqliteJournal};
    ///
    /// # async fn run(hero: herohealth::HeroClient) -> Result<(), Box<dyn std::error::Error>> {
    /// let journal = SqliteJournal::open("reminders.db")?;
    /// let row = &journal.to_decide().await?[0];
    /// let found = Choice::Sent { message_id: "251".into() };
    /// let decision = Decision::new(found, "A. Example", "found in Hero's portal, same text")?
    ///     .identified_with(&hero, row)
    ///     .await?;
    /// journal.decide(row.run, row.index, &decision).await?;
    /// # Ok(()) }
    /// ```
    pub async fn identified_with(
        mut self,
        hero: &HeroClient,
        entry: &Entry,
    ) -> Result<Decision, IdentifyError> {
        let Some(id) = self.choice.message_id() else {
            return Ok(self);
        };
        let candidate = candidates(&entry.state).iter().any(|c| c == id);
        let refused = |rule: String| InvalidDecision::new("message_id", rule);
        let body = entry.row.request().map_err(|_| {
            refused("the row cannot be compared with a message (it is not a valid request)".into())
        })?;
        match hero.identify_message(&body, id).await? {
            // A candidate shown to be the row's: decided as a candidate (the journal's rule).
            Identified::Same if candidate => return Ok(self),
            Identified::Same => {}
            Identified::Different { field } if candidate => {
                return Err(refused(format!(
                    "Hero's records show that candidate to be another message, not this row's: its {field} differs"
                ))
                .into());
            }
            // A candidate Hero cannot compare: the person's choice, as the journal allows.
            Identified::Unknown { .. } if candidate => return Ok(self),
            other => {
                return Err(refused(format!(
                    "Hero's records do not show that message to be this row's: it {other}"
                ))
                .into());
            }
        }
        self.found = Some(Found {
            row: super::to_json(&entry.row)
                .map_err(|_| refused("the row cannot be encoded".into()))?,
            message_id: id.to_owned(),
        });
        Ok(self)
    }

    /// What was chosen.
    pub fn choice(&self) -> &Choice {
        &self.choice
    }

    /// Who decides.
    pub fn by(&self) -> &str {
        &self.by
    }

    /// Why: the person's own text, whole, as the journal keeps it. Never printed: see
    /// [`shown_note`](Self::shown_note).
    pub fn note(&self) -> &str {
        &self.note
    }

    /// The note as `hero` and the console show it, the one rule for both: its length, never its
    /// text. A note is free text a person wrote; its declared type (text) says nothing of what it
    /// holds, and it may name a patient, so it is shown nowhere; it stays whole in the journal
    /// ([`note`](Self::note), [`DecisionRecord`]).
    ///
    /// ```
    /// use herohealth_outbox::{Choice, Decision};
    /// let d = Decision::new(Choice::Abandon, "A. Example", "phoned Zebedee Quenby")?;
    /// assert_eq!(d.shown_note(), "kept in the journal (21 chars)");
    /// # Ok::<(), herohealth_outbox::InvalidDecision>(())
    /// ```
    pub fn shown_note(&self) -> String {
        format!("kept in the journal ({} chars)", self.note.chars().count())
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
                found: None,
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

/// The candidate message ids of a row in `state` (an ambiguous row's; none for any other).
pub(crate) fn candidates(state: &RowState) -> &[String] {
    match state {
        RowState::Ambiguous { message_ids, .. } => message_ids,
        _ => &[],
    }
}

/// The text a journal looks for in a row's `state` (or a decision's record) to find the rows
/// that may name `id`: the id as JSON encodes it. What it finds is then read and checked.
pub(crate) fn id_needle(id: &str) -> String {
    serde_json::to_string(id).unwrap_or_default()
}

/// Whether `decision` may be made on `entry`, by what the journal holds besides it: `others`,
/// the other rows that may name the chosen message or are unresolved (a journal passes a
/// superset: each is checked here), and whether another row's decision names it (as its choice
/// or one of its candidates). Only a [`Choice::Sent`] is checked: its message must be one of
/// the row's candidates, or one Hero showed to be the row's
/// ([`Decision::identified_with`]); either way never another row's sent message, and a found
/// one never another row's candidate nor while another row to the same patient is unresolved
/// (its own message could be the one chosen). A message that is another patient's, taken for
/// this row, would leave that patient's unresolved row looking past its own message: sent
/// twice.
pub(crate) fn admissible(
    decision: &Decision,
    entry: &Entry,
    others: &[Entry],
    decided_elsewhere: bool,
) -> Result<(), InvalidDecision> {
    let Some(id) = decision.choice.message_id() else {
        return Ok(());
    };
    let refused = |rule: &'static str| Err(InvalidDecision::new("message_id", rule));
    let mine = candidates(&entry.state).iter().any(|c| c == id);
    for other in others
        .iter()
        .filter(|o| (o.run, o.index) != (entry.run, entry.index))
    {
        match &other.state {
            RowState::Sent { message_id } if message_id == id => {
                return refused("is another row's message (that row is sent with it)");
            }
            RowState::Ambiguous { message_ids, .. }
                if !mine && message_ids.iter().any(|c| c == id) =>
            {
                return refused("is a candidate of another row, not of this one");
            }
            RowState::InFlight { .. } | RowState::Unknown { .. }
                if !mine && other.row.patient_id() == entry.row.patient_id() =>
            {
                return refused(
                    "is not one of the row's candidates, and another row to this patient is unresolved (its message could be that one): decide once it is resolved",
                );
            }
            _ => {}
        }
    }
    if mine {
        return Ok(());
    }
    if decided_elsewhere {
        return refused("is named by another row's decision, not one of this row's candidates");
    }
    let proven = decision.found.as_ref().is_some_and(|f| {
        f.message_id == id && super::to_json(&entry.row).is_ok_and(|row| row == f.row)
    });
    if proven {
        Ok(())
    } else {
        refused(
            "is not one of the row's candidates: a message found elsewhere is accepted only when Hero's records show it to be this row's (`Decision::identified_with`; `hero outbox decide` asks Hero)",
        )
    }
}

/// Whether a decision (its choice and the row's candidates) names `id`.
pub(crate) fn names(choice: &Choice, candidates: &[String], id: &str) -> bool {
    choice.message_id() == Some(id) || candidates.iter().any(|c| c == id)
}

#[cfg(test)]
mod tests {
    use herohealth::{MessageType, SendAttempt};

    use super::*;
    use crate::row::Row;

    fn entry(index: u64, patient: &str, state: RowState) -> Entry {
        Entry {
            run: 0,
            index,
            row: Row::new(patient, MessageType::Sms, "Your results are ready").unwrap(),
            state,
            sends: 1,
        }
    }

    fn ambiguous(ids: &[&str]) -> RowState {
        RowState::Ambiguous {
            message_ids: ids.iter().map(|s| (*s).to_owned()).collect(),
            reason: "r".into(),
        }
    }

    fn sent(id: &str) -> Decision {
        Decision::new(
            Choice::Sent {
                message_id: id.into(),
            },
            "A",
            "n",
        )
        .unwrap()
    }

    fn attempt(e: &Entry) -> SendAttempt {
        let now = chrono::Utc::now();
        SendAttempt::new(&e.row.request().unwrap(), now, now)
    }

    fn rule(r: Result<(), InvalidDecision>) -> String {
        let why = r.unwrap_err();
        assert_eq!(why.field(), "message_id");
        why.rule().to_owned()
    }

    #[test]
    fn a_candidate_is_taken_unless_another_row_is_sent_with_it() {
        let me = entry(0, "1", ambiguous(&["11", "12"]));
        assert_eq!(admissible(&sent("11"), &me, &[], false), Ok(()));
        // Another row with the same candidates (one patient's rows resolved together), or
        // named by another decision: still this row's to choose.
        let twin = entry(1, "1", ambiguous(&["11", "12"]));
        assert_eq!(admissible(&sent("12"), &me, &[twin], true), Ok(()));
        // The row itself among what was read is no other row.
        let itself = entry(
            0,
            "1",
            RowState::Sent {
                message_id: "11".into(),
            },
        );
        assert_eq!(admissible(&sent("11"), &me, &[itself], false), Ok(()));
        let taken = entry(
            2,
            "1",
            RowState::Sent {
                message_id: "12".into(),
            },
        );
        assert!(
            rule(admissible(
                &sent("12"),
                &me,
                std::slice::from_ref(&taken),
                false
            ))
            .contains("another row's message")
        );
        assert_eq!(admissible(&sent("11"), &me, &[taken], false), Ok(()));
        // An unresolved row to the same patient does not bar one of the row's own candidates.
        let open = entry(
            3,
            "1",
            RowState::InFlight {
                attempt: attempt(&me),
            },
        );
        assert_eq!(admissible(&sent("11"), &me, &[open], false), Ok(()));
    }

    #[test]
    fn other_choices_are_not_checked() {
        let me = entry(0, "1", ambiguous(&[]));
        let taken = entry(
            2,
            "1",
            RowState::Sent {
                message_id: "12".into(),
            },
        );
        for choice in [Choice::SendAgain, Choice::Abandon] {
            let d = Decision::new(choice, "A", "n").unwrap();
            assert_eq!(
                admissible(&d, &me, std::slice::from_ref(&taken), true),
                Ok(())
            );
        }
    }

    #[test]
    fn a_found_message_needs_hero_s_evidence_for_this_row() {
        let me = entry(0, "1", ambiguous(&["11"]));
        assert!(
            rule(admissible(&sent("99"), &me, &[], false))
                .contains("not one of the row's candidates")
        );
        let proof = |row: &Entry, id: &str| Found {
            row: crate::journal::to_json(&row.row).unwrap(),
            message_id: id.into(),
        };
        let with = |id: &str, found: Found| Decision {
            found: Some(found),
            ..sent(id)
        };
        assert_eq!(
            admissible(&with("99", proof(&me, "99")), &me, &[], false),
            Ok(())
        );
        // Evidence for another message, or for another row, is none.
        assert!(admissible(&with("99", proof(&me, "98")), &me, &[], false).is_err());
        let other_row = entry(5, "2", ambiguous(&[]));
        assert!(admissible(&with("99", proof(&other_row, "99")), &me, &[], false).is_err());
        // Never another row's candidate, another decision's, or while the patient's other row
        // is unresolved (its message could be that one); another patient's unresolved row
        // does not matter.
        let good = with("99", proof(&me, "99"));
        let theirs = entry(1, "2", ambiguous(&["99"]));
        assert!(
            rule(admissible(&good, &me, &[theirs], false)).contains("candidate of another row")
        );
        assert!(rule(admissible(&good, &me, &[], true)).contains("another row's decision"));
        for state in [
            RowState::InFlight {
                attempt: attempt(&me),
            },
            RowState::Unknown {
                attempt: attempt(&me),
                accepted: false,
            },
        ] {
            let open = entry(2, "1", state.clone());
            assert!(rule(admissible(&good, &me, &[open], false)).contains("unresolved"));
            let elsewhere = entry(2, "2", state);
            assert_eq!(admissible(&good, &me, &[elsewhere], false), Ok(()));
        }
        let pending = entry(2, "1", RowState::Pending);
        assert_eq!(admissible(&good, &me, &[pending], false), Ok(()));
    }

    #[test]
    fn a_decision_names_its_choice_and_candidates() {
        let c = ["11".to_owned()];
        assert!(names(
            &Choice::Sent {
                message_id: "12".into()
            },
            &c,
            "12"
        ));
        assert!(names(&Choice::Abandon, &c, "11"));
        assert!(!names(&Choice::Abandon, &c, "12"));
        assert_eq!(id_needle("12"), "\"12\"");
        assert_eq!(candidates(&ambiguous(&["3"])), ["3".to_owned()]);
        assert!(candidates(&RowState::Pending).is_empty());
    }

    #[test]
    fn a_note_is_shown_by_its_length_only() {
        let d = Decision::new(Choice::Abandon, "A", "rang Zebedée Quenby").unwrap();
        assert_eq!(d.shown_note(), "kept in the journal (19 chars)");
        assert_eq!(d.note(), "rang Zebedée Quenby");
    }
}
