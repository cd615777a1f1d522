//! The journal's model: where each row stands ([`RowState`], [`Status`]), a row of the journal
//! ([`Entry`]), and what a status report or a console reads ([`RunStatus`], [`WorkerStatus`]).
//! None of these shows patient data in `Debug` but [`Entry::row`]'s fields through its accessors.

use std::fmt;

use chrono::{DateTime, Utc};
use herohealth::SendAttempt;
use serde::{Deserialize, Serialize};

use crate::row::Row;

/// Where a row stands. A row moves `Pending -> InFlight -> Sent | Unknown | Failed | Pending`
/// (the last when Hero provably did not carry the send out, e.g. a 429), and an `Unknown` (or an
/// `InFlight` left by a crash) is resolved to `Sent`, `Ambiguous` or back to `Pending`.
///
/// Its `Debug` shows no patient data (a [`SendAttempt`]'s `Debug` hides it; reasons are
/// `herohealth` errors' safe texts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RowState {
    /// Not sent yet.
    Pending,
    /// Committed just before the request was written: the send may be on its way.
    InFlight {
        /// What [`herohealth::HeroClient::find_attempt`] looks for; `ended` is when it was
        /// committed (a resume widens it to the resume's time).
        attempt: SendAttempt,
    },
    /// Hero accepted it, with this message id.
    Sent {
        /// Hero's message id.
        message_id: String,
    },
    /// The request was written and no answer was read: it may have gone.
    Unknown {
        /// What to look for.
        attempt: SendAttempt,
        /// Hero answered 2xx but the answer could not be read: it went.
        accepted: bool,
    },
    /// Hero refused it (not retryable); sending it again would fail the same way.
    Failed {
        /// Why, without patient data.
        reason: String,
    },
    /// It may have gone but cannot be told apart from other messages: a person decides. Never
    /// sent again by the outbox.
    Ambiguous {
        /// The candidate messages' ids (empty when Hero accepted it but never listed it).
        message_ids: Vec<String>,
        /// Why, without patient data.
        reason: String,
    },
}

/// The kind of a [`RowState`], for conditional updates and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// [`RowState::Pending`].
    Pending,
    /// [`RowState::InFlight`].
    InFlight,
    /// [`RowState::Sent`].
    Sent,
    /// [`RowState::Unknown`].
    Unknown,
    /// [`RowState::Failed`].
    Failed,
    /// [`RowState::Ambiguous`].
    Ambiguous,
}

impl Status {
    /// The snake_case name (`in_flight`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::InFlight => "in_flight",
            Status::Sent => "sent",
            Status::Unknown => "unknown",
            Status::Failed => "failed",
            Status::Ambiguous => "ambiguous",
        }
    }

    /// Whether the row is done with: sent, failed or ambiguous.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Sent | Status::Failed | Status::Ambiguous)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl RowState {
    /// Its kind.
    pub fn status(&self) -> Status {
        match self {
            RowState::Pending => Status::Pending,
            RowState::InFlight { .. } => Status::InFlight,
            RowState::Sent { .. } => Status::Sent,
            RowState::Unknown { .. } => Status::Unknown,
            RowState::Failed { .. } => Status::Failed,
            RowState::Ambiguous { .. } => Status::Ambiguous,
        }
    }

    /// The message id of a sent row.
    pub fn message_id(&self) -> Option<&str> {
        match self {
            RowState::Sent { message_id } => Some(message_id),
            _ => None,
        }
    }

    /// The reason of a failed or ambiguous row.
    pub fn reason(&self) -> Option<&str> {
        match self {
            RowState::Failed { reason } | RowState::Ambiguous { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

/// One row of the journal.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The run (input) the row belongs to: 0 in a journal of one input ([`SqliteJournal`](crate::SqliteJournal)); a
    /// shared journal's run id otherwise.
    pub run: u64,
    /// The row's position in the input, from 0.
    pub index: u64,
    /// The row.
    pub row: Row,
    /// Where it stands.
    pub state: RowState,
    /// How many of its requests may have reached Hero (one is counted when the row goes in
    /// flight, and uncounted when Hero provably did not carry it out, e.g. a 429).
    pub sends: u32,
}

impl Status {
    /// The status named `name` (its [`as_str`](Self::as_str)), if it is one.
    ///
    /// ```
    /// use herohealth_outbox::Status;
    /// assert_eq!(Status::parse("in_flight"), Some(Status::InFlight));
    /// assert_eq!(Status::parse("held"), None);
    /// ```
    pub fn parse(name: &str) -> Option<Status> {
        [
            Status::Pending,
            Status::InFlight,
            Status::Sent,
            Status::Unknown,
            Status::Failed,
            Status::Ambiguous,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// One run of a journal (one input), counted by status, for `hero outbox status` or a console:
/// no patient data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunStatus {
    /// The run's id (0 in a journal of one input).
    pub run: u64,
    /// The fingerprint of its input ([`Input::fingerprint`](crate::Input::fingerprint)).
    pub fingerprint: String,
    /// The practice group it is sent for, as a key
    /// ([`herohealth::HeroClient::practice_group_key`], never the id itself); `None` in a journal
    /// of one input (its group is the client's).
    pub group_key: Option<String>,
    /// When the run was queued (`None` where the journal did not record it: a journal written
    /// by an older version).
    pub created_at: Option<DateTime<Utc>>,
    /// When one of its rows last changed.
    pub last_activity: Option<DateTime<Utc>>,
    /// Pending rows.
    pub pending: usize,
    /// In flight or unknown (being resolved).
    pub in_flight: usize,
    /// Sent.
    pub sent: usize,
    /// Failed.
    pub failed: usize,
    /// Ambiguous: a person decides.
    pub ambiguous: usize,
    /// Since when the run's oldest ambiguous row has waited for a person (the journal's clock
    /// when the row became ambiguous); `None` when no row waits. For a row that was ambiguous
    /// before the journal recorded this (an older version's journal), the time it last changed.
    pub waiting_since: Option<DateTime<Utc>>,
}

impl RunStatus {
    /// Counts `entries` of run `run`.
    ///
    /// ```
    /// let status = herohealth_outbox::RunStatus::of(0, "fingerprint".into(), &[]);
    /// assert_eq!(status.pending + status.sent, 0);
    /// ```
    pub fn of(run: u64, fingerprint: String, entries: &[Entry]) -> RunStatus {
        let mut s = RunStatus {
            run,
            fingerprint,
            group_key: None,
            created_at: None,
            last_activity: None,
            pending: 0,
            in_flight: 0,
            sent: 0,
            failed: 0,
            ambiguous: 0,
            waiting_since: None,
        };
        for e in entries {
            s.count(e.state.status(), 1);
        }
        s
    }

    /// Adds `n` rows of status `status` to the counts.
    pub(crate) fn count(&mut self, status: Status, n: usize) {
        let slot = match status {
            Status::Pending => &mut self.pending,
            Status::InFlight | Status::Unknown => &mut self.in_flight,
            Status::Sent => &mut self.sent,
            Status::Failed => &mut self.failed,
            Status::Ambiguous => &mut self.ambiguous,
        };
        *slot += n;
    }
}

/// One worker of a shared journal (a `PgJournal` handle, feature `postgres`, that claimed rows):
/// who it is, when it last renewed its leases, and what it holds. No patient data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerStatus {
    /// The worker's id in the journal (its process id and a random part).
    pub id: String,
    /// When it started working this journal.
    pub started_at: DateTime<Utc>,
    /// Its last heartbeat (the leases it holds were renewed then).
    pub heartbeat_at: DateTime<Utc>,
    /// Rows it holds (claimed, lease not run out).
    pub held: usize,
    /// Of them, rows in flight or unknown.
    pub in_flight: usize,
    /// When the last of its leases runs out, unless renewed.
    pub lease_until: Option<DateTime<Utc>>,
}
