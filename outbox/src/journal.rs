//! Where each row stands, on disk: the [`Journal`] trait and its SQLite implementation
//! [`SqliteJournal`].
//!
//! The journal holds the rows themselves (patient ids, contact details, message text): it is the
//! user's patient data and must be stored and deleted like the CSV it came from.

use std::{fmt, path::Path};

use chrono::Utc;
use herohealth::SendAttempt;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::row::{Input, Row};

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

/// What went wrong with a journal. Its texts hold no patient data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// The journal was made from another input (its fingerprint differs): resuming would send the
    /// wrong rows.
    #[error(
        "the journal was made from a different input file (fingerprint {journal}, this file {input}): use that file, or a new journal"
    )]
    DifferentInput {
        /// The journal's input fingerprint.
        journal: String,
        /// This input's fingerprint.
        input: String,
    },
    /// A row was not in the state an update expected (another worker moved it).
    #[error("row {index} is {found}, not {expected}")]
    Conflict {
        /// The row.
        index: u64,
        /// The state the update expected.
        expected: Status,
        /// The state it is in.
        found: Status,
    },
    /// The storage failed.
    #[error("journal storage: {0}")]
    Storage(String),
}

impl From<rusqlite::Error> for JournalError {
    fn from(e: rusqlite::Error) -> Self {
        // SQLite's messages name tables and columns, never bound values.
        JournalError::Storage(e.to_string())
    }
}

impl From<serde_json::Error> for JournalError {
    fn from(e: serde_json::Error) -> Self {
        // serde_json's messages name a position and what was expected, never the value.
        JournalError::Storage(format!("a stored row does not decode: {e}"))
    }
}

/// Where the outbox keeps each row's state. Every method is durable when it returns.
///
/// Small on purpose, so a shared database can back several workers: [`transition`] is a
/// compare-and-set, so two workers cannot both take a row from `Pending` to `InFlight`.
///
/// [`transition`]: Journal::transition
///
/// ```
/// use herohealth::MessageType;
/// use herohealth_outbox::{Input, Journal, Row, RowState, SqliteJournal, Status};
///
/// let mut journal = SqliteJournal::in_memory()?;
/// let input = Input::from_rows(vec![Row::new("98765", MessageType::Sms, "Hello").unwrap()]);
/// journal.open(&input)?;
/// journal.transition(0, Status::Pending, &RowState::Failed { reason: "example".into() })?;
/// assert_eq!(journal.entries()?[0].state.status(), Status::Failed);
/// assert!(journal.transition(0, Status::Pending, &RowState::Pending).is_err());
/// # Ok::<(), herohealth_outbox::JournalError>(())
/// ```
pub trait Journal: Send + 'static {
    /// Ties the journal to `input`: the first time, records its fingerprint and every row as
    /// pending; later, refuses an input with another fingerprint
    /// ([`JournalError::DifferentInput`]).
    fn open(&mut self, input: &Input) -> Result<(), JournalError>;

    /// Every row, in input order.
    fn entries(&mut self) -> Result<Vec<Entry>, JournalError>;

    /// Moves row `index` from a state of kind `from` to `to`, or fails with
    /// [`JournalError::Conflict`] and changes nothing. Counts a send ([`Entry::sends`]) when `to`
    /// is in flight and uncounts it when an in-flight row goes back to pending.
    fn transition(&mut self, index: u64, from: Status, to: &RowState) -> Result<(), JournalError>;
}

/// The embedded journal: one SQLite file in WAL mode with `synchronous=FULL` (every commit is on
/// disk before the call returns, so a row is `InFlight` on disk before its request is written).
///
/// The file holds patient data (the rows); keep it where the input file is kept.
pub struct SqliteJournal {
    conn: Connection,
}

impl fmt::Debug for SqliteJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteJournal").finish_non_exhaustive()
    }
}

impl SqliteJournal {
    /// Opens (or creates) the journal file at `path`.
    ///
    /// ```no_run
    /// let journal = herohealth_outbox::SqliteJournal::open("reminders.db")?;
    /// # let _ = journal; Ok::<(), herohealth_outbox::JournalError>(())
    /// ```
    ///
    /// A new file is created readable by its owner only (mode 0600 on Unix; SQLite gives its
    /// `-wal` and `-shm` files the same mode): it holds patient data.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, JournalError> {
        let path = path.as_ref();
        let mut create = std::fs::OpenOptions::new();
        create.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut create, 0o600);
        match create.open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            // The io error's text names no path.
            Err(e) => {
                return Err(JournalError::Storage(format!(
                    "cannot create the file: {e}"
                )));
            }
        }
        Self::setup(Connection::open(path)?)
    }

    /// A journal in memory (for tests and examples: it does not survive the process).
    pub fn in_memory() -> Result<Self, JournalError> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(conn: Connection) -> Result<Self, JournalError> {
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        // An in-memory database answers `memory`: it has nothing to make durable.
        if mode != "wal" && mode != "memory" {
            return Err(JournalError::Storage(format!(
                "the journal file cannot use WAL mode (it is in {mode} mode)"
            )));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS outbox_rows (
                 idx INTEGER PRIMARY KEY,
                 row TEXT NOT NULL,
                 status TEXT NOT NULL,
                 state TEXT NOT NULL,
                 sends INTEGER NOT NULL DEFAULT 0,
                 updated_at TEXT NOT NULL
             );",
        )?;
        Ok(Self { conn })
    }
}

impl Journal for SqliteJournal {
    fn open(&mut self, input: &Input) -> Result<(), JournalError> {
        let tx = self.conn.transaction()?;
        let stored: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = 'input'", [], |r| {
                r.get(0)
            })
            .optional()?;
        match stored {
            Some(fp) if fp == input.fingerprint() => {}
            Some(fp) => {
                return Err(JournalError::DifferentInput {
                    journal: fp,
                    input: input.fingerprint().to_owned(),
                });
            }
            None => {
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('input', ?1)",
                    [input.fingerprint()],
                )?;
                let now = Utc::now().to_rfc3339();
                let pending = serde_json::to_string(&RowState::Pending)?;
                let mut insert = tx.prepare(
                    "INSERT INTO outbox_rows (idx, row, status, state, updated_at) VALUES (?1, ?2, 'pending', ?3, ?4)",
                )?;
                for (i, row) in input.rows().iter().enumerate() {
                    insert.execute(params![i as i64, serde_json::to_string(row)?, pending, now])?;
                }
                drop(insert);
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn entries(&mut self) -> Result<Vec<Entry>, JournalError> {
        let mut q = self
            .conn
            .prepare("SELECT idx, row, state, sends FROM outbox_rows ORDER BY idx")?;
        let raw = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        raw.into_iter()
            .map(|(idx, row, state, sends)| {
                Ok(Entry {
                    index: idx as u64,
                    row: serde_json::from_str(&row)?,
                    state: serde_json::from_str(&state)?,
                    sends: sends as u32,
                })
            })
            .collect()
    }

    fn transition(&mut self, index: u64, from: Status, to: &RowState) -> Result<(), JournalError> {
        let sent = match (from, to.status()) {
            (_, Status::InFlight) => 1,
            (Status::InFlight, Status::Pending) => -1,
            _ => 0,
        };
        let changed = self.conn.execute(
            "UPDATE outbox_rows SET status = ?1, state = ?2, sends = sends + ?3, updated_at = ?4
             WHERE idx = ?5 AND status = ?6",
            params![
                to.status().as_str(),
                serde_json::to_string(to)?,
                sent,
                Utc::now().to_rfc3339(),
                index as i64,
                from.as_str()
            ],
        )?;
        if changed == 1 {
            return Ok(());
        }
        let found: Option<String> = self
            .conn
            .query_row(
                "SELECT state FROM outbox_rows WHERE idx = ?1",
                [index as i64],
                |r| r.get(0),
            )
            .optional()?;
        match found {
            Some(state) => Err(JournalError::Conflict {
                index,
                expected: from,
                found: serde_json::from_str::<RowState>(&state)?.status(),
            }),
            None => Err(JournalError::Storage(format!("no row {index}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_new_journal_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        SqliteJournal::open(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // Opening it again keeps it (and its mode).
        SqliteJournal::open(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_transition_is_a_compare_and_set() {
        let mut j = SqliteJournal::in_memory().unwrap();
        let row = Row::new("1", herohealth::MessageType::Sms, "Hi").unwrap();
        j.open(&Input::from_rows(vec![row])).unwrap();
        let done = RowState::Sent {
            message_id: "9".into(),
        };
        j.transition(0, Status::Pending, &done).unwrap();
        let err = j.transition(0, Status::Pending, &done).unwrap_err();
        assert!(
            matches!(
                err,
                JournalError::Conflict {
                    index: 0,
                    expected: Status::Pending,
                    found: Status::Sent
                }
            ),
            "{err:?}"
        );
        assert!(j.transition(7, Status::Pending, &done).is_err());
        assert_eq!(j.entries().unwrap()[0].state, done);
    }
}
