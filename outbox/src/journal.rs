//! Where each row stands, on disk: the [`Journal`] trait and its SQLite implementation
//! [`SqliteJournal`].
//!
//! The journal holds the rows themselves (patient ids, contact details, message text): it is the
//! user's patient data and must be stored and deleted like the CSV it came from.

use std::{
    collections::BTreeSet,
    fmt,
    fs::File,
    path::{Path, PathBuf},
    sync::Mutex,
};

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
    /// The run (input) the row belongs to: 0 in a journal of one input ([`SqliteJournal`]); a
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

/// One run of a shared journal, counted by status, for `hero outbox status`: no patient data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunStatus {
    /// The run's id (0 in a journal of one input).
    pub run: u64,
    /// The fingerprint of its input ([`Input::fingerprint`]).
    pub fingerprint: String,
    /// Rows by status: pending, in flight (or unknown, being resolved), sent, failed, ambiguous.
    pub pending: usize,
    /// In flight or unknown.
    pub in_flight: usize,
    /// Sent.
    pub sent: usize,
    /// Failed.
    pub failed: usize,
    /// Ambiguous: a person decides.
    pub ambiguous: usize,
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
            pending: 0,
            in_flight: 0,
            sent: 0,
            failed: 0,
            ambiguous: 0,
        };
        for e in entries {
            match e.state.status() {
                Status::Pending => s.pending += 1,
                Status::InFlight | Status::Unknown => s.in_flight += 1,
                Status::Sent => s.sent += 1,
                Status::Failed => s.failed += 1,
                Status::Ambiguous => s.ambiguous += 1,
            }
        }
        s
    }
}

/// What went wrong with a journal. Its texts hold no patient data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// The journal was made from another input (its rows differ from this input's): resuming
    /// would send the wrong rows. `went` of its rows were sent or may have been: a new journal
    /// for this input would know nothing of them.
    #[error(
        "the journal was made from a different input file: it holds {rows} row(s), {went} of them sent or possibly sent (fingerprint {journal}; this file's is {input})"
    )]
    DifferentInput {
        /// The journal's input fingerprint.
        journal: String,
        /// This input's fingerprint.
        input: String,
        /// The rows the journal holds.
        rows: usize,
        /// Of them, the rows sent, in flight, unknown or ambiguous: rows that went, or may have.
        went: usize,
    },
    /// Another run holds the journal (a lock the operating system releases when that process
    /// ends, however it ends): nothing was sent and nothing changed.
    #[error(
        "the journal is in use by another run (another process, or another journal in this one, holds it): nothing was sent and nothing changed"
    )]
    InUse,
    /// A journal an earlier run saved beside this path (when its file was replaced under it)
    /// is still there: it may hold rows that went, which a journal opened here would not know.
    /// Nothing was read, sent or changed.
    #[error(
        "a journal saved by an earlier run is beside this one ({saved}): it may hold rows that went, which this journal does not know; nothing was sent"
    )]
    SavedBeside {
        /// The saved journal.
        saved_at: std::path::PathBuf,
        /// The same, as text.
        saved: String,
    },
    /// The journal's file was deleted or replaced while this run held it: the run stopped.
    /// What the run had journaled was saved at `saved_at` (the journal's own path when the file
    /// was deleted; a sibling when another file took its place), so no row that went is
    /// forgotten.
    #[error(
        "the journal file was {what} while this run held it: stopped; what this run journaled ({went} row(s) sent or possibly sent) is saved at {saved}"
    )]
    Moved {
        /// `deleted` or `replaced`.
        what: &'static str,
        /// Where the journal was saved (`None`: it could not be; see the text).
        saved_at: Option<std::path::PathBuf>,
        /// The same, as text.
        saved: String,
        /// Rows that went, or may have.
        went: usize,
    },
    /// The journal was written by a newer version of herohealth-outbox.
    #[error(
        "the journal has schema version {0}, newer than this version of herohealth-outbox reads ({JOURNAL_SCHEMA})"
    )]
    NewerSchema(u32),
    /// Another worker holds the row now (this worker's lease on it ran out): the change was
    /// refused by the row's fencing token, and nothing changed.
    #[error("row {index} was taken over by another worker (this worker's lease on it ran out)")]
    Fenced {
        /// The row.
        index: u64,
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

/// The journal schema this version writes: 2 identifies an input by its rows
/// ([`Input::fingerprint`]); 1 (no `schema` in `meta`) by the file's bytes, and is migrated on
/// open.
pub const JOURNAL_SCHEMA: u32 = 2;

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

    /// Binds the journal to the practice group its rows are sent for
    /// ([`herohealth::HeroClient::practice_group_key`], never the id itself): a shared journal's
    /// scope is that group's runs. The outbox calls it before anything else. The default: nothing.
    fn bind(&mut self, group_key: &str) -> Result<(), JournalError> {
        let _ = group_key;
        Ok(())
    }

    /// [`transition`](Self::transition) of row `index` of run `run` ([`Entry::run`]). A shared
    /// journal checks the row's fencing token too ([`JournalError::Fenced`]). The default, for a
    /// journal of one input: `transition(index, ..)`.
    fn update(
        &mut self,
        run: u64,
        index: u64,
        from: Status,
        to: &RowState,
    ) -> Result<(), JournalError> {
        let _ = run;
        self.transition(index, from, to)
    }

    /// Takes up to `max` rows to work on: pending rows to send, and rows in flight or unknown to
    /// resolve first. A journal several workers share gives each row to one worker at a time
    /// (a lease), at most one row per patient, and none of a patient with another row held. The
    /// default, for a journal one process holds: every row that is not final.
    fn claim(&mut self, max: usize) -> Result<Vec<Entry>, JournalError> {
        let _ = max;
        Ok(self
            .entries()?
            .into_iter()
            .filter(|e| !e.state.status().is_final())
            .collect())
    }

    /// Gives back the pending rows this worker holds (at the end of a run, or when it stops).
    fn release(&mut self) -> Result<(), JournalError> {
        Ok(())
    }

    /// The rows of this journal's scope that are not final yet (held by anyone).
    fn unfinished(&mut self) -> Result<usize, JournalError> {
        Ok(self
            .entries()?
            .iter()
            .filter(|e| !e.state.status().is_final())
            .count())
    }

    /// The message ids this journal knows to be its own sends (sent rows, and ambiguous rows'
    /// candidates), for `find_attempt` to leave out.
    fn known_ids(&mut self) -> Result<Vec<String>, JournalError> {
        Ok(self
            .entries()?
            .into_iter()
            .flat_map(|e| match e.state {
                RowState::Sent { message_id } => vec![message_id],
                RowState::Ambiguous { message_ids, .. } => message_ids,
                _ => Vec::new(),
            })
            .collect())
    }

    /// A pace shared by every process working this journal for the practice group `group`
    /// ([`herohealth::HeroClient::practice_group_key`]) at `rate`, when the journal can hold one
    /// (a database several workers share); `None` (the default): each process paces alone.
    fn shared_pace(
        &mut self,
        group: &str,
        rate: Option<std::num::NonZeroU32>,
    ) -> Option<herohealth::Pace> {
        let _ = (group, rate);
        None
    }
}

/// The embedded journal: one SQLite file in WAL mode with `synchronous=FULL` (every commit is on
/// disk before the call returns, so a row is `InFlight` on disk before its request is written).
///
/// **One writer.** [`SqliteJournal::open`] takes an exclusive lock on the file itself (an
/// operating-system lock, `flock`, held until the journal is dropped and released by the
/// operating system however the process ends): a second `open` of the same file, from another
/// process or this one, fails with [`JournalError::InUse`] before anything is read or written.
/// Before each change of a row the journal checks that its path still names the file it holds;
/// a file deleted or replaced stops the run ([`JournalError::Moved`]) and what the run journaled
/// is written back (to the path when the file was deleted, to a sibling when another file took
/// its place), so a re-run never starts afresh for rows that went.
///
/// The file holds patient data (the rows); keep it where the input file is kept.
pub struct SqliteJournal {
    // Dropped first: SQLite closes its descriptors before the lock's goes (closing any
    // descriptor of the file would drop SQLite's own POSIX locks on it).
    conn: Connection,
    lock: Option<FileLock>,
    /// Set once the file was found deleted or replaced: every later call fails the same way.
    moved: Option<(&'static str, Option<PathBuf>, usize)>,
}

/// The journal file's lock: an open descriptor holding `flock(LOCK_EX)`, and the file's identity
/// (device, inode) when it was taken.
struct FileLock {
    _file: File,
    path: PathBuf,
    id: (u64, u64),
}

/// The (device, inode) of the journal files this process holds: a second open in this process
/// is refused from the path's `stat` alone, without opening (and then closing) a descriptor of a
/// file SQLite holds here, which would drop SQLite's POSIX locks on it.
static HELD: Mutex<BTreeSet<(u64, u64)>> = Mutex::new(BTreeSet::new());

impl Drop for FileLock {
    fn drop(&mut self) {
        HELD.lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

#[cfg(unix)]
fn file_id(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
fn file_id(m: &std::fs::Metadata) -> (u64, u64) {
    // Without inodes: the creation time stands in for the identity.
    let t = m
        .created()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .unwrap_or_default();
    (t.as_secs(), u64::from(t.subsec_nanos()))
}

fn io_error(what: &str, e: std::io::Error) -> JournalError {
    // The io error's text names no path.
    JournalError::Storage(format!("{what}: {e}"))
}

impl fmt::Debug for SqliteJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteJournal").finish_non_exhaustive()
    }
}

impl SqliteJournal {
    /// Opens (or creates) the journal file at `path`, and holds it for this journal's life: a
    /// journal another run holds is refused ([`JournalError::InUse`]) with nothing read or
    /// written.
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
        if let Some(saved) = saved_beside(path) {
            return Err(JournalError::SavedBeside {
                saved: saved.display().to_string(),
                saved_at: saved,
            });
        }
        let held = |id| HELD.lock().unwrap_or_else(|e| e.into_inner()).contains(&id);
        if let Ok(m) = std::fs::metadata(path)
            && held(file_id(&m))
        {
            return Err(JournalError::InUse);
        }
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(path)
            .map_err(|e| io_error("cannot open or create the file", e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(JournalError::InUse),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(io_error("cannot lock the file", e));
            }
        }
        let id = file_id(
            &file
                .metadata()
                .map_err(|e| io_error("cannot read the file's metadata", e))?,
        );
        if !HELD.lock().unwrap_or_else(|e| e.into_inner()).insert(id) {
            // Another open in this process won the race: this descriptor is not SQLite's.
            return Err(JournalError::InUse);
        }
        let lock = FileLock {
            _file: file,
            path: path.to_owned(),
            id,
        };
        let conn = Connection::open(path)?;
        let mut journal = Self::setup(conn)?;
        journal.lock = Some(lock);
        Ok(journal)
    }

    /// Opens the journal at `path` to read it only (for a status report): no lock is taken, so a
    /// run may hold it meanwhile; nothing is written.
    ///
    /// ```no_run
    /// let journal = herohealth_outbox::SqliteJournal::open_read_only("reminders.db")?;
    /// # let _ = journal; Ok::<(), herohealth_outbox::JournalError>(())
    /// ```
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, JournalError> {
        let path = path.as_ref();
        if !path.is_file() {
            return Err(JournalError::Storage("no journal file there".into()));
        }
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(Self {
            conn,
            lock: None,
            moved: None,
        })
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
        Ok(Self {
            conn,
            lock: None,
            moved: None,
        })
    }

    /// Whether the journal's path still names the file this journal holds; when it does not,
    /// saves what the journal holds (see [`JournalError::Moved`]) and fails, now and on every
    /// later call.
    fn check_file(&mut self) -> Result<(), JournalError> {
        if self.moved.is_none()
            && let Some(lock) = &self.lock
        {
            let what = match std::fs::metadata(&lock.path) {
                Ok(m) if file_id(&m) == lock.id => return Ok(()),
                Ok(_) => "replaced",
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => "deleted",
                Err(e) => return Err(io_error("cannot read the journal's path", e)),
            };
            let target = if what == "deleted" {
                lock.path.clone()
            } else {
                let name = lock
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "journal".into());
                lock.path.with_file_name(format!(
                    "{name}.saved-{}-{}",
                    Utc::now().format("%Y%m%dT%H%M%SZ"),
                    std::process::id()
                ))
            };
            if what == "deleted" {
                // The journal's own -wal and -shm, if left: beside the copy written back they
                // would be replayed into it.
                for suffix in ["-wal", "-shm"] {
                    let mut side = lock.path.clone().into_os_string();
                    side.push(suffix);
                    let _ = std::fs::remove_file(side);
                }
            }
            let went = self.rows().map(|e| went(&e)).unwrap_or(0);
            let saved = self.save_to(&target).ok().map(|()| target);
            tracing::error!(what, "outbox: the journal file changed under the run");
            self.moved = Some((what, saved, went));
        }
        match &self.moved {
            None => Ok(()),
            Some((what, saved_at, went)) => Err(JournalError::Moved {
                what,
                saved: saved_at.as_ref().map_or_else(
                    || "nowhere: it could not be written (this run's journal is lost; look in Hero's list of sent messages before sending any row again)".to_owned(),
                    |p| p.display().to_string(),
                ),
                saved_at: saved_at.clone(),
                went: *went,
            }),
        }
    }

    /// Writes a copy of the journal to `target`, a new file (mode 0600) that must not exist.
    fn save_to(&self, target: &Path) -> Result<(), JournalError> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        // An empty file: VACUUM INTO fills it, keeping its mode. It is another inode than the
        // journal's, so closing it touches none of SQLite's locks.
        drop(
            options
                .open(target)
                .map_err(|e| io_error("cannot create the copy", e))?,
        );
        let target = target
            .to_str()
            .ok_or_else(|| JournalError::Storage("the copy's path is not UTF-8".into()))?;
        self.conn.execute("VACUUM INTO ?1", [target])?;
        Ok(())
    }

    /// The journal's run (one input) with its counts, for a status report: no patient data.
    ///
    /// ```
    /// use herohealth::MessageType;
    /// use herohealth_outbox::{Input, Journal, Row, SqliteJournal};
    ///
    /// let mut journal = SqliteJournal::in_memory()?;
    /// assert!(journal.runs()?.is_empty());
    /// journal.open(&Input::from_rows(vec![Row::new("98765", MessageType::Sms, "Hi").unwrap()]))?;
    /// let runs = journal.runs()?;
    /// assert_eq!((runs[0].pending, runs[0].sent), (1, 0));
    /// assert!(journal.to_decide()?.is_empty());
    /// # Ok::<(), herohealth_outbox::JournalError>(())
    /// ```
    pub fn runs(&mut self) -> Result<Vec<RunStatus>, JournalError> {
        let fingerprint: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'input'", [], |r| {
                r.get(0)
            })
            .optional()?;
        let Some(fingerprint) = fingerprint else {
            return Ok(Vec::new());
        };
        Ok(vec![RunStatus::of(0, fingerprint, &self.rows()?)])
    }

    /// The rows a person must decide (ambiguous), in order.
    pub fn to_decide(&mut self) -> Result<Vec<Entry>, JournalError> {
        Ok(self
            .rows()?
            .into_iter()
            .filter(|e| e.state.status() == Status::Ambiguous)
            .collect())
    }

    fn rows(&mut self) -> Result<Vec<Entry>, JournalError> {
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
                    run: 0,
                    index: idx as u64,
                    row: serde_json::from_str(&row)?,
                    state: serde_json::from_str(&state)?,
                    sends: sends as u32,
                })
            })
            .collect()
    }

    /// The schema version the file holds (1: a journal from before versions were recorded), or
    /// `None` for a journal no input was recorded in yet.
    fn schema(&self) -> Result<Option<u32>, JournalError> {
        let meta = |key: &str| -> Result<Option<String>, JournalError> {
            Ok(self
                .conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()?)
        };
        match (meta("schema")?, meta("input")?) {
            (Some(v), _) => v.parse().map(Some).map_err(|_| {
                JournalError::Storage("the journal's schema version is not a number".into())
            }),
            (None, Some(_)) => Ok(Some(1)),
            (None, None) => Ok(None),
        }
    }
}

impl Journal for SqliteJournal {
    fn open(&mut self, input: &Input) -> Result<(), JournalError> {
        self.check_file()?;
        match self.schema()? {
            Some(v) if v > JOURNAL_SCHEMA => return Err(JournalError::NewerSchema(v)),
            Some(1) => {
                // Schema 1 recorded the file's bytes: the rows it holds give the fingerprint of
                // today's schema (the same rows, whatever file they came from).
                let rows: Vec<Row> = self.rows()?.into_iter().map(|e| e.row).collect();
                let tx = self.conn.transaction()?;
                tx.execute(
                    "UPDATE meta SET value = ?1 WHERE key = 'input'",
                    [crate::row::fingerprint(&rows)],
                )?;
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema', ?1)",
                    [JOURNAL_SCHEMA.to_string()],
                )?;
                tx.commit()?;
            }
            _ => {}
        }
        let tx = self.conn.transaction()?;
        let stored: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = 'input'", [], |r| {
                r.get(0)
            })
            .optional()?;
        match stored {
            Some(fp) if fp == input.fingerprint() => {}
            Some(fp) => {
                drop(tx);
                let entries = self.rows()?;
                return Err(JournalError::DifferentInput {
                    journal: fp,
                    input: input.fingerprint().to_owned(),
                    rows: entries.len(),
                    went: went(&entries),
                });
            }
            None => {
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('input', ?1), ('schema', ?2)",
                    [input.fingerprint(), &JOURNAL_SCHEMA.to_string()],
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
        self.check_file()?;
        self.rows()
    }

    fn transition(&mut self, index: u64, from: Status, to: &RowState) -> Result<(), JournalError> {
        self.check_file()?;
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

/// A journal an earlier run saved beside `path` (`NAME.saved-*`, see [`JournalError::Moved`]),
/// if one is there.
fn saved_beside(path: &Path) -> Option<std::path::PathBuf> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    let prefix = format!("{name}.saved-");
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    let mut found: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            // SQLite's own files beside a saved journal are not journals.
            n.starts_with(&prefix) && !["-wal", "-shm", "-journal"].iter().any(|s| n.ends_with(s))
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found.pop()
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

    /// A journal written before schema versions (schema 1: the input's bytes as its
    /// fingerprint) is still read, and the same rows resume it; other rows are refused.
    #[test]
    fn a_schema_1_journal_is_migrated_and_resumed_by_the_same_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let rows = vec![Row::new("1", herohealth::MessageType::Sms, "Hi").unwrap()];
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 CREATE TABLE outbox_rows (idx INTEGER PRIMARY KEY, row TEXT NOT NULL,
                     status TEXT NOT NULL, state TEXT NOT NULL, sends INTEGER NOT NULL DEFAULT 0,
                     updated_at TEXT NOT NULL);
                 INSERT INTO meta VALUES ('input', 'sha-256-of-the-old-files-bytes');",
            )
            .unwrap();
            conn.execute(
                "INSERT INTO outbox_rows VALUES (0, ?1, 'sent', '{\"status\":\"sent\",\"message_id\":\"7\"}', 1, 'x')",
                [serde_json::to_string(&rows[0]).unwrap()],
            )
            .unwrap();
        }
        let mut j = SqliteJournal::open(&path).unwrap();
        let other = Input::from_rows(vec![
            Row::new("2", herohealth::MessageType::Sms, "Hi").unwrap(),
        ]);
        let err = j.open(&other).unwrap_err();
        assert!(
            matches!(
                err,
                JournalError::DifferentInput {
                    rows: 1,
                    went: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        j.open(&Input::from_rows(rows)).unwrap();
        assert_eq!(j.entries().unwrap()[0].state.message_id(), Some("7"));
        assert_eq!(j.schema().unwrap(), Some(JOURNAL_SCHEMA));
    }

    /// One writer: a second open of a held journal, in this process or another, is refused
    /// before anything is read or written; dropping the first frees it.
    #[test]
    fn a_held_journal_is_in_use_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        let first = SqliteJournal::open(&path).unwrap();
        assert!(matches!(
            SqliteJournal::open(&path),
            Err(JournalError::InUse)
        ));
        // Through another name of the same file too.
        let link = dir.path().join("link.db");
        std::fs::hard_link(&path, &link).unwrap();
        assert!(matches!(
            SqliteJournal::open(&link),
            Err(JournalError::InUse)
        ));
        drop(first);
        SqliteJournal::open(&path).unwrap();
    }
}
