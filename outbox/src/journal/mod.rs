//! Where each row stands: the [`Journal`] trait, its model ([`state`]), its errors ([`error`]),
//! and the embedded implementation [`SqliteJournal`] ([`sqlite`]). The shared one, `PgJournal`,
//! is in `crate::pg`.
//!
//! A journal holds the rows themselves (patient ids, contact details, message text): it is the
//! user's patient data and must be stored and deleted like the CSV it came from.

use std::{future::Future, num::NonZeroU32};

use herohealth::Pace;

use crate::row::{Input, Row};

mod decision;
mod error;
mod sqlite;
mod state;

pub use decision::{Choice, Decision, DecisionRecord, IdentifyError, InvalidDecision};
pub(crate) use decision::{
    Stored, admissible, decidable, id_needle, names, token as decision_token,
};
pub use error::JournalError;
pub use sqlite::SqliteJournal;
pub use state::{Entry, RowState, RunStatus, Status, WorkerStatus};

/// The journal schema [`SqliteJournal`] writes: 3 records when each ambiguous row began to
/// wait for a person ([`RunStatus::waiting_since`]); 2 identifies an input by its rows
/// ([`Input::fingerprint`]); 1 (no `schema` in `meta`) by the file's bytes. Older schemas are
/// migrated when the journal is opened to write.
pub const JOURNAL_SCHEMA: u32 = 3;

/// A row's or a state's JSON, written by this version: it always encodes.
pub(crate) fn to_json(value: &impl serde::Serialize) -> Result<String, JournalError> {
    serde_json::to_string(value)
        .map_err(|_| JournalError::Storage("a row's state could not be encoded".into()))
}

/// Decodes the `row` and `state` columns of row `index` of run `run`: what cannot be read is
/// named by its column, never shown ([`JournalError::Unreadable`]).
pub(crate) fn decode(
    run: u64,
    index: u64,
    row: &str,
    state: &str,
    sends: i64,
) -> Result<Entry, JournalError> {
    let unreadable = |line, column| JournalError::Unreadable {
        run,
        index,
        line,
        column,
    };
    let row: Row = serde_json::from_str(row).map_err(|_| unreadable(None, "row"))?;
    let state: RowState =
        serde_json::from_str(state).map_err(|_| unreadable(row.line(), "state"))?;
    Ok(Entry {
        run,
        index,
        row,
        state,
        sends: u32::try_from(sends).unwrap_or(u32::MAX),
    })
}

/// Rows that went, or may have: sent, in flight, unknown, ambiguous.
pub(crate) fn went(entries: &[Entry]) -> usize {
    entries
        .iter()
        .filter(|e| {
            matches!(
                e.state.status(),
                Status::Sent | Status::InFlight | Status::Unknown | Status::Ambiguous
            )
        })
        .count()
}

/// Where the outbox keeps each row's state. Every method is durable when it returns, and every
/// method is safe to call from async code on any tokio runtime (a journal does its blocking work,
/// if any, on tokio's blocking pool itself); all take `&self`, so one journal can serve several
/// tasks at once (an outbox's concurrent sends, a status page).
///
/// A change of a row is a compare-and-set ([`transition`](Self::transition)), so two workers
/// cannot both take a row from `Pending` to `InFlight`; a journal several workers share gives
/// each row to one worker at a time ([`claim`](Self::claim), with a lease and a fencing token).
///
/// ```
/// use herohealth::MessageType;
/// use herohealth_outbox::{Input, Journal, Row, RowState, SqliteJournal, Status};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), herohealth_outbox::JournalError> {
/// let journal = SqliteJournal::in_memory()?;
/// let input = Input::from_rows(vec![Row::new("98765", MessageType::Sms, "Hello").unwrap()]);
/// journal.open(&input).await?;
/// let failed = RowState::Failed { reason: "example".into() };
/// journal.transition(0, 0, Status::Pending, &failed).await?;
/// assert_eq!(journal.entries().await?[0].state.status(), Status::Failed);
/// assert!(journal.transition(0, 0, Status::Pending, &RowState::Pending).await.is_err());
/// # Ok(()) }
/// ```
pub trait Journal: Send + Sync + 'static {
    /// Binds the journal to the practice group its rows are sent for
    /// ([`herohealth::HeroClient::practice_group_key`], never the id itself): a shared journal's
    /// scope is that group's runs. The outbox calls it before anything else; a journal of one
    /// input has nothing to bind.
    fn bind(&self, group_key: &str) -> impl Future<Output = Result<(), JournalError>> + Send;

    /// Ties the journal to `input`: the first time, records its fingerprint and every row as
    /// pending; later, a journal of one input refuses an input with another fingerprint
    /// ([`JournalError::DifferentInput`]), and a shared journal queues it as another run.
    fn open(&self, input: &Input) -> impl Future<Output = Result<(), JournalError>> + Send;

    /// Every row of the journal's scope (the run [`open`](Self::open) selected, else every run
    /// of the bound practice group), in order.
    fn entries(&self) -> impl Future<Output = Result<Vec<Entry>, JournalError>> + Send;

    /// Moves row `index` of run `run` ([`Entry::run`]) from a state of kind `from` to `to`, or
    /// fails with [`JournalError::Conflict`] and changes nothing. Counts a send
    /// ([`Entry::sends`]) when `to` is in flight and uncounts it when an in-flight row goes back
    /// to pending. A shared journal checks the row's fencing token too
    /// ([`JournalError::Fenced`]), and refuses to put in flight a row whose lease ran out.
    fn transition(
        &self,
        run: u64,
        index: u64,
        from: Status,
        to: &RowState,
    ) -> impl Future<Output = Result<(), JournalError>> + Send;

    /// Takes up to `max` rows to work on: rows in flight or unknown to resolve first, then
    /// pending ones. A journal several workers share gives each row to one worker at a time
    /// (a lease), at most one row per patient, and none of a patient with another row held; a
    /// journal one process holds gives every row that is not final.
    fn claim(&self, max: usize) -> impl Future<Output = Result<Vec<Entry>, JournalError>> + Send;

    /// Gives back the pending rows this worker holds (at the end of a run, or when it stops).
    fn release(&self) -> impl Future<Output = Result<(), JournalError>> + Send;

    /// The rows of this journal's scope that are not final yet (held by anyone).
    fn unfinished(&self) -> impl Future<Output = Result<usize, JournalError>> + Send;

    /// The message ids this journal knows to be its own sends (sent rows, and ambiguous rows'
    /// candidates), for `find_attempt` to leave out.
    fn known_ids(&self) -> impl Future<Output = Result<Vec<String>, JournalError>> + Send;

    /// A pace shared by every process working this journal for the practice group `group`
    /// ([`herohealth::HeroClient::practice_group_key`]) at `rate`, when the journal can hold one
    /// (a database several workers share); `Ok(None)`: this journal has one process, which
    /// paces alone. A journal that shares a pace and cannot set it up fails: the caller must
    /// not fall back to a pace of its own (N workers would send at N times the limit).
    fn shared_pace(
        &self,
        group: &str,
        rate: NonZeroU32,
    ) -> impl Future<Output = Result<Option<Pace>, JournalError>> + Send;

    /// Every run of the journal (every practice group) with its counts, for a status report or a
    /// console: no patient data.
    fn runs(&self) -> impl Future<Output = Result<Vec<RunStatus>, JournalError>> + Send;

    /// The rows a person must decide (ambiguous), of every run, in order.
    fn to_decide(&self) -> impl Future<Output = Result<Vec<Entry>, JournalError>> + Send;

    /// The workers of a shared journal, their last heartbeat and what they hold (empty for a
    /// journal one process holds).
    fn workers(&self) -> impl Future<Output = Result<Vec<WorkerStatus>, JournalError>> + Send;

    /// Records a person's `decision` on row `index` of run `run` ([`Entry::run`], any practice
    /// group's) and applies it, in one durable step: a [`Choice::Sent`] row ends sent with the
    /// message id; a [`Choice::SendAgain`] row goes back to pending, for the outbox's normal path
    /// (paced, journaled, written once); a [`Choice::Abandon`] row ends failed. Only a row a
    /// person must decide (ambiguous, [`to_decide`](Self::to_decide)) is decided, and only
    /// once: any other row, a row decided already, and a row in flight or held by a worker are
    /// refused ([`JournalError::NotDecidable`]) with nothing changed. The record
    /// ([`decisions`](Self::decisions)) keeps who, when (the journal's clock), the choice, the
    /// row's candidates and reason, and the note, for good: nothing in this crate deletes it.
    /// The candidates stay known as sends of this journal ([`known_ids`](Self::known_ids)).
    ///
    /// A journal that keeps no decisions refuses (the default, for journals written outside
    /// this crate); [`SqliteJournal`] and `PgJournal` keep them.
    ///
    /// ```
    /// use herohealth::MessageType;
    /// use herohealth_outbox::{
    ///     Choice, Decision, Input, Journal, JournalError, Row, RowState, SqliteJournal, Status,
    /// };
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let journal = SqliteJournal::in_memory()?;
    /// journal.open(&Input::from_rows(vec![Row::new("98765", MessageType::Sms, "Hello")?])).await?;
    /// // The outbox could not tell its send from another message:
    /// let ambiguous = RowState::Ambiguous { message_ids: vec!["41".into()], reason: "example".into() };
    /// journal.transition(0, 0, Status::Pending, &ambiguous).await?;
    ///
    /// let row = &journal.to_decide().await?[0];
    /// let decision = Decision::new(Choice::SendAgain, "A. Example", "41 is the recall letter")?;
    /// let record = journal.decide(row.run, row.index, &decision).await?;
    /// assert_eq!((record.candidates.as_slice(), record.decision.by()), (&["41".to_owned()][..], "A. Example"));
    /// assert_eq!(journal.entries().await?[0].state, RowState::Pending); // sent again by the outbox
    ///
    /// // Decided once: a second decision is refused, and the record stays.
    /// let again = journal.decide(0, 0, &decision).await.unwrap_err();
    /// assert!(matches!(again, JournalError::NotDecidable { decided: Some(_), .. }));
    /// assert_eq!(journal.decisions().await?, [record]);
    /// # Ok(()) }
    /// ```
    fn decide(
        &self,
        run: u64,
        index: u64,
        decision: &Decision,
    ) -> impl Future<Output = Result<DecisionRecord, JournalError>> + Send {
        let _ = (run, index, decision);
        async {
            Err(JournalError::Storage(
                "this journal keeps no decisions".into(),
            ))
        }
    }

    /// Every decision recorded in the journal (every run, every practice group), oldest
    /// first. Empty for a journal that keeps none.
    fn decisions(&self) -> impl Future<Output = Result<Vec<DecisionRecord>, JournalError>> + Send {
        async { Ok(Vec::new()) }
    }
}
