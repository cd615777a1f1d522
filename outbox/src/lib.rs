//! # herohealth-outbox
//!
//! A durable bulk sender for [`herohealth`]: many individual messages (one per row: per-patient
//! text, written to the record with a SNOMED code, scheduled), each row's state kept in a journal
//! on disk, so that a crash, a kill or a broken connection never sends a row twice and never
//! drops one.
//!
//! Hero has no idempotency key. So each row is `InFlight` on disk (committed with
//! `synchronous=FULL`) before its request is written; a send whose answer was lost is `Unknown`;
//! and before anything new is sent, every such row is looked for with
//! [`herohealth::HeroClient::find_attempt`] and ends **sent** (its own message, identified: Hero's
//! copy of the text is the row's and every other candidate is shown to be another's), goes back to
//! **pending** (nothing like it around the attempt once it could no longer appear, and every clock
//! agrees: it did not reach Hero), or ends **ambiguous** (anything the evidence does not settle:
//! two candidates, one whose text cannot be compared, clocks that disagree; left for a person to
//! decide with [`Journal::decide`], never guessed). Hero's refusals
//! end **failed** with Hero's reason. A 429 halves the client-side rate (after its `Retry-After`)
//! and successes bring it back in steps.
//!
//! - [`Row`] and [`Input`]: what to send, every value checked before anything is sent (a CSV is
//!   refused whole, line by line).
//! - [`Journal`] (async, a compare-and-set per row) and [`SqliteJournal`], the embedded default;
//!   `PgJournal` (feature `postgres`) for several workers on one PostgreSQL database.
//! - [`Outbox::run`]: resolve, then send, with [`Event`]s for a progress bar and a [`Summary`].
//!
//! The journal holds the rows (patient ids, contact details, message text): it is patient data,
//! to be kept and deleted like the file it came from. Nothing else this crate prints (`Debug`,
//! `Display`, errors, events, logs) shows patient data, API keys or practice group ids.
//!
//! ```
//! use herohealth_mock::MockServer;
//! use herohealth_outbox::{Input, Options, Outbox, SqliteJournal, Status};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mock = MockServer::start().await;
//! let csv = "patient_id,type,text\n98765,sms,Your results are ready\n98766,email,Annual review\n";
//! let input = Input::from_csv(csv.as_bytes())?;
//! let outbox = Outbox::new(mock.client(), SqliteJournal::in_memory()?, Options::default());
//! let summary = outbox.run(&input, |_event| {}).await?;
//! assert!(summary.all_sent());
//! assert_eq!(outbox.entries().await?[1].state.status(), Status::Sent);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "console")]
pub mod console;
mod csv_cell;
mod journal;
mod outbox;
#[cfg(feature = "postgres")]
mod pg;
mod row;
mod telemetry;
#[cfg(feature = "postgres")]
#[doc(hidden)]
pub mod testing;

pub use csv_cell::csv_safe;
pub use journal::{
    Choice, Decision, DecisionRecord, Entry, IdentifyError, InvalidDecision, JOURNAL_SCHEMA,
    Journal, JournalError, RowState, RunStatus, SqliteJournal, Status, WorkerStatus,
};
pub use outbox::{Event, Options, Outbox, OutboxError, Summary};
#[cfg(feature = "postgres")]
pub use pg::{CONNECTIONS, PG_SCHEMA, PgJournal};
pub use row::{COLUMNS, Input, InputError, InvalidRow, Row};
