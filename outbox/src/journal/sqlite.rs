//! [`SqliteJournal`]: the embedded journal, one SQLite file held by one run. Its calls block on
//! the file (every commit is fsynced), so each runs on tokio's blocking pool, inside this
//! implementation: callers only `.await`.

use std::{
    fmt,
    num::NonZeroU32,
    path::Path,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{
    Decision, DecisionRecord, Entry, JOURNAL_SCHEMA, Journal, JournalError, RowState, RunStatus,
    Status, Stored, WorkerStatus, admissible, decidable, decision_token, decode, id_needle, names,
    to_json, went,
};
use crate::row::{Input, Row};

mod file;

use file::FileLock;

/// The embedded journal: one SQLite file in WAL mode with `synchronous=FULL` (every commit is on
/// disk before the call returns, so a row is `InFlight` on disk before its request is written).
/// Its blocking work runs on tokio's blocking pool: every method is `async` and safe to call from
/// any tokio runtime.
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
    db: Arc<Mutex<Db>>,
    /// The file a decision opens for writing, for that decision only
    /// ([`open_watching`](SqliteJournal::open_watching)).
    decide_at: Option<std::path::PathBuf>,
}

/// The connection and the file it holds, used on the blocking pool one call at a time.
struct Db {
    // Dropped first: SQLite closes its descriptors before the lock's goes (closing any
    // descriptor of the file would drop SQLite's own POSIX locks on it).
    conn: Connection,
    lock: Option<FileLock>,
    /// Set once the file was found deleted or replaced: every later call fails the same way.
    moved: Option<(&'static str, Option<std::path::PathBuf>, usize)>,
}

impl fmt::Debug for SqliteJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteJournal").finish_non_exhaustive()
    }
}

/// A SQLite error built from its kind: SQLite's own code (`DatabaseBusy`, `DiskFull`...), never
/// its message.
impl From<rusqlite::Error> for JournalError {
    fn from(e: rusqlite::Error) -> Self {
        match (&e, e.sqlite_error_code()) {
            (_, Some(code)) => JournalError::Storage(format!("SQLite: {code:?}")),
            (rusqlite::Error::QueryReturnedNoRows, None) => {
                JournalError::Storage("SQLite: no such row".into())
            }
            _ => JournalError::Storage("SQLite: an answer this version cannot use".into()),
        }
    }
}

impl SqliteJournal {
    /// Opens (or creates) the journal file at `path`, and holds it for this journal's life: a
    /// journal another run holds is refused ([`JournalError::InUse`]) with nothing read or
    /// written. It opens the file at once (a short blocking call, like `std::fs::File::open`).
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
        let lock = FileLock::take(path)?;
        let conn = Connection::open(path)?;
        let mut db = Db::setup(conn)?;
        db.lock = Some(lock);
        Ok(Self::of(db))
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
        Ok(Self::of(Db {
            conn,
            lock: None,
            moved: None,
        }))
    }

    /// Opens the journal at `path` to watch it and decide its rows (the outbox console): it is
    /// read as [`open_read_only`](Self::open_read_only) reads it, without a lock, so a run may
    /// hold it meanwhile; a decision ([`Journal::decide`]) opens the file for writing as
    /// [`open`](Self::open) does, for that decision only, and is refused
    /// ([`JournalError::InUse`], nothing changed) while a run holds the file.
    ///
    /// ```no_run
    /// let journal = herohealth_outbox::SqliteJournal::open_watching("reminders.db")?;
    /// # let _ = journal; Ok::<(), herohealth_outbox::JournalError>(())
    /// ```
    pub fn open_watching(path: impl AsRef<Path>) -> Result<Self, JournalError> {
        let path = path.as_ref();
        let mut journal = Self::open_read_only(path)?;
        journal.decide_at = Some(path.to_owned());
        Ok(journal)
    }

    /// A journal in memory (for tests and examples: it does not survive the process).
    pub fn in_memory() -> Result<Self, JournalError> {
        Ok(Self::of(Db::setup(Connection::open_in_memory()?)?))
    }

    fn of(db: Db) -> Self {
        SqliteJournal {
            db: Arc::new(Mutex::new(db)),
            decide_at: None,
        }
    }

    /// Runs `f` on the database, on tokio's blocking pool (the file's calls block on fsync).
    async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Db) -> Result<R, JournalError> + Send + 'static,
    ) -> Result<R, JournalError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let mut db = db
                .lock()
                .map_err(|_| JournalError::Storage("an earlier journal call panicked".into()))?;
            f(&mut db)
        })
        .await
        .map_err(|_| JournalError::Storage("the journal call panicked".into()))?
    }
}

/// A moment as the journal writes it: RFC 3339 in UTC with nanoseconds, so that the text sorts
/// as the time does (`min` in SQL).
fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

impl Db {
    fn setup(conn: Connection) -> Result<Db, JournalError> {
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
                 updated_at TEXT NOT NULL,
                 waiting_since TEXT
             );
             CREATE TABLE IF NOT EXISTS outbox_decisions (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 idx INTEGER NOT NULL,
                 line INTEGER,
                 decision TEXT NOT NULL,
                 decided_at TEXT NOT NULL
             );",
        )?;
        let mut db = Db {
            conn,
            lock: None,
            moved: None,
        };
        db.migrate_waiting_since()?;
        Ok(db)
    }

    /// Schema 3: a journal of schema 2 or 1 gets the `waiting_since` column, set for the rows
    /// ambiguous already to the time they last changed (the latest they can have begun to wait).
    fn migrate_waiting_since(&mut self) -> Result<(), JournalError> {
        if self.has_waiting_since()? {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "ALTER TABLE outbox_rows ADD COLUMN waiting_since TEXT;
             UPDATE outbox_rows SET waiting_since = updated_at WHERE status = 'ambiguous';
             UPDATE meta SET value = '3' WHERE key = 'schema' AND value = '2';",
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Whether the rows have their `waiting_since` column (a journal opened read only may be of
    /// an older schema).
    fn has_waiting_since(&self) -> Result<bool, JournalError> {
        Ok(self.conn.query_row(
            "SELECT count(*) > 0 FROM pragma_table_info('outbox_rows') WHERE name = 'waiting_since'",
            [],
            |r| r.get(0),
        )?)
    }

    fn meta(&self, key: &str) -> Result<Option<String>, JournalError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    fn rows(&mut self) -> Result<Vec<Entry>, JournalError> {
        let mut q = self
            .conn
            .prepare("SELECT idx, row, state, sends FROM outbox_rows ORDER BY idx")?;
        // A column of another type (another version's, an edit) is named, never shown.
        let raw = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1).map_err(|_| "row"),
                    r.get::<_, String>(2).map_err(|_| "state"),
                    r.get::<_, i64>(3).map_err(|_| "sends"),
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        raw.into_iter()
            .map(|(idx, row, state, sends)| {
                let index = idx as u64;
                let unreadable = |column| JournalError::Unreadable {
                    run: 0,
                    index,
                    line: None,
                    column,
                };
                decode(
                    0,
                    index,
                    &row.map_err(unreadable)?,
                    &state.map_err(unreadable)?,
                    sends.map_err(unreadable)?,
                )
            })
            .collect()
    }

    /// The schema version the file holds (1: a journal from before versions were recorded), or
    /// `None` for a journal no input was recorded in yet.
    fn schema(&self) -> Result<Option<u32>, JournalError> {
        match (self.meta("schema")?, self.meta("input")?) {
            (Some(v), _) => v.parse().map(Some).map_err(|_| {
                JournalError::Storage("the journal's schema version is not a number".into())
            }),
            (None, Some(_)) => Ok(Some(1)),
            (None, None) => Ok(None),
        }
    }

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
                let now = stamp(herohealth::now());
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('input', ?1), ('schema', ?2), ('created_at', ?3)",
                    [input.fingerprint(), &JOURNAL_SCHEMA.to_string(), &now],
                )?;
                let pending = to_json(&RowState::Pending)?;
                let mut insert = tx.prepare(
                    "INSERT INTO outbox_rows (idx, row, status, state, updated_at) VALUES (?1, ?2, 'pending', ?3, ?4)",
                )?;
                for (i, row) in input.rows().iter().enumerate() {
                    insert.execute(params![i as i64, to_json(row)?, pending, now])?;
                }
                drop(insert);
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn transition(
        &mut self,
        run: u64,
        index: u64,
        from: Status,
        to: &RowState,
    ) -> Result<(), JournalError> {
        self.check_file()?;
        if run != 0 {
            return Err(JournalError::Storage(format!(
                "no run {run}: this journal holds one input (run 0)"
            )));
        }
        let sent = match (from, to.status()) {
            (_, Status::InFlight) => 1,
            (Status::InFlight, Status::Pending) => -1,
            _ => 0,
        };
        // A row keeps the time it began to wait for a person while it stays ambiguous.
        let changed = self.conn.execute(
            "UPDATE outbox_rows SET status = ?1, state = ?2, sends = sends + ?3, updated_at = ?4,
                 waiting_since = CASE WHEN ?1 = 'ambiguous' THEN coalesce(waiting_since, ?4) END
             WHERE idx = ?5 AND status = ?6",
            params![
                to.status().as_str(),
                to_json(to)?,
                sent,
                stamp(herohealth::now()),
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
                "SELECT status FROM outbox_rows WHERE idx = ?1",
                [index as i64],
                |r| r.get(0),
            )
            .optional()?;
        match found {
            Some(status) => Err(JournalError::Conflict {
                index,
                expected: from,
                found: Status::parse(&status).ok_or(JournalError::Unreadable {
                    run,
                    index,
                    line: None,
                    column: "status",
                })?,
            }),
            None => Err(JournalError::Storage(format!("no row {index}"))),
        }
    }

    /// Applies and records `decision` on row `index`, in one transaction.
    fn decide(
        &mut self,
        run: u64,
        index: u64,
        decision: &Decision,
    ) -> Result<DecisionRecord, JournalError> {
        self.check_file()?;
        if run != 0 {
            return Err(JournalError::Storage(format!(
                "no run {run}: this journal holds one input (run 0)"
            )));
        }
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let found: Option<(String, String, i64)> = tx
            .query_row(
                "SELECT row, state, sends FROM outbox_rows WHERE idx = ?1",
                [index as i64],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((row, state, sends)) = found else {
            return Err(JournalError::Storage(format!("no row {index}")));
        };
        let entry = decode(run, index, &row, &state, sends)?;
        let status = entry.state.status();
        if !decidable(status) {
            let decided: Option<i64> = tx.query_row(
                "SELECT max(id) FROM outbox_decisions WHERE idx = ?1",
                [index as i64],
                |r| r.get(0),
            )?;
            return Err(JournalError::NotDecidable {
                run,
                index,
                found: status,
                decided: decided.map(|id| id as u64),
                held: false,
            });
        }
        if let Some(id) = decision.choice().message_id() {
            // The rows and decisions that may name the message, and the unresolved rows: read
            // and checked.
            let needle = id_needle(id);
            let others = tx
                .prepare(
                    "SELECT idx, row, state, sends FROM outbox_rows
                     WHERE idx <> ?1 AND (instr(state, ?2) > 0 OR status IN ('in_flight', 'unknown'))",
                )?
                .query_map(params![index as i64, needle], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
                })?
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .map(|(i, row, state, sends)| decode(run, i as u64, &row, &state, sends))
                .collect::<Result<Vec<_>, _>>()?;
            let stored = tx
                .prepare("SELECT idx, decision FROM outbox_decisions WHERE idx <> ?1 AND instr(decision, ?2) > 0")?
                .query_map(params![index as i64, needle], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let mut elsewhere = false;
            for (i, text) in stored {
                let stored: Stored =
                    serde_json::from_str(&text).map_err(|_| JournalError::Unreadable {
                        run,
                        index: i as u64,
                        line: None,
                        column: "decision",
                    })?;
                elsewhere |= names(&stored.choice, &stored.candidates, id);
            }
            admissible(decision, &entry, &others, elsewhere)
                .map_err(|why| JournalError::Refused { run, index, why })?;
        }
        let now = Utc::now();
        let to = decision.choice().state();
        tx.execute(
            "UPDATE outbox_rows SET status = ?1, state = ?2, updated_at = ?3, waiting_since = NULL
             WHERE idx = ?4",
            params![
                to.status().as_str(),
                to_json(&to)?,
                stamp(now),
                index as i64
            ],
        )?;
        let stored = Stored::of(decision, &entry.state, decision_token());
        let line = entry.row.line();
        tx.execute(
            "INSERT INTO outbox_decisions (idx, line, decision, decided_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                index as i64,
                line.map(|l| l as i64),
                to_json(&stored)?,
                now.to_rfc3339()
            ],
        )?;
        let id = tx.last_insert_rowid() as u64;
        tx.commit()?;
        Ok(stored.record(id, run, index, line, now))
    }

    /// Every decision, oldest first (none in a journal written before decisions were kept and
    /// opened read only).
    fn decisions(&self) -> Result<Vec<DecisionRecord>, JournalError> {
        let kept: bool = self.conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'outbox_decisions'",
            [],
            |r| r.get(0),
        )?;
        if !kept {
            return Ok(Vec::new());
        }
        let mut q = self.conn.prepare(
            "SELECT id, idx, line, decision, decided_at FROM outbox_decisions ORDER BY id",
        )?;
        let raw = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        raw.into_iter()
            .map(|(id, idx, line, stored, at)| {
                let unreadable = |column| JournalError::Unreadable {
                    run: 0,
                    index: idx as u64,
                    line: line.map(|l| l as u64),
                    column,
                };
                let stored: Stored =
                    serde_json::from_str(&stored).map_err(|_| unreadable("decision"))?;
                let at = DateTime::parse_from_rfc3339(&at)
                    .map_err(|_| unreadable("decided_at"))?
                    .with_timezone(&Utc);
                Ok(stored.record(id as u64, 0, idx as u64, line.map(|l| l as u64), at))
            })
            .collect()
    }

    /// The journal's run (one input) with its counts.
    fn runs(&mut self) -> Result<Vec<RunStatus>, JournalError> {
        let Some(fingerprint) = self.meta("input")? else {
            return Ok(Vec::new());
        };
        let time = |t: Option<String>| {
            t.and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&Utc))
        };
        let mut run = RunStatus::of(0, fingerprint, &[]);
        run.created_at = time(self.meta("created_at")?);
        // A journal of an older schema opened read only: its ambiguous rows' last change.
        let since = if self.has_waiting_since()? {
            "min(waiting_since)"
        } else {
            "min(updated_at)"
        };
        let mut q = self.conn.prepare(&format!(
            "SELECT status, count(*), max(updated_at), {since} FROM outbox_rows GROUP BY status"
        ))?;
        let counts = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (status, n, last, since) in counts {
            let status = Status::parse(&status).ok_or(JournalError::Storage(
                "a row's status is not readable by this version of herohealth-outbox".into(),
            ))?;
            run.count(status, n as usize);
            run.last_activity = run.last_activity.max(time(last));
            if status == Status::Ambiguous {
                run.waiting_since = time(since);
            }
        }
        Ok(vec![run])
    }
}

impl Journal for SqliteJournal {
    /// A journal of one input has no practice group to bind to: its group is the client's.
    async fn bind(&self, _group_key: &str) -> Result<(), JournalError> {
        Ok(())
    }

    async fn open(&self, input: &Input) -> Result<(), JournalError> {
        let input = input.clone();
        self.call(move |db| db.open(&input)).await
    }

    async fn entries(&self) -> Result<Vec<Entry>, JournalError> {
        self.call(|db| {
            db.check_file()?;
            db.rows()
        })
        .await
    }

    async fn transition(
        &self,
        run: u64,
        index: u64,
        from: Status,
        to: &RowState,
    ) -> Result<(), JournalError> {
        let to = to.clone();
        self.call(move |db| db.transition(run, index, from, &to))
            .await
    }

    /// Every row that is not final: one process holds this journal.
    async fn claim(&self, _max: usize) -> Result<Vec<Entry>, JournalError> {
        let mut entries = self.entries().await?;
        entries.retain(|e| !e.state.status().is_final());
        Ok(entries)
    }

    /// Nothing to give back: one process holds this journal.
    async fn release(&self) -> Result<(), JournalError> {
        Ok(())
    }

    async fn unfinished(&self) -> Result<usize, JournalError> {
        Ok(self
            .entries()
            .await?
            .iter()
            .filter(|e| !e.state.status().is_final())
            .count())
    }

    /// Sent rows' ids, ambiguous rows' candidates, and the candidates of every decision.
    async fn known_ids(&self) -> Result<Vec<String>, JournalError> {
        let mut ids: Vec<String> = self
            .entries()
            .await?
            .into_iter()
            .flat_map(|e| match e.state {
                RowState::Sent { message_id } => vec![message_id],
                RowState::Ambiguous { message_ids, .. } => message_ids,
                _ => Vec::new(),
            })
            .collect();
        for d in self.decisions().await? {
            ids.extend(d.candidates);
        }
        Ok(ids)
    }

    /// None: one process holds this journal, and paces alone.
    async fn shared_pace(
        &self,
        _group: &str,
        _rate: NonZeroU32,
    ) -> Result<Option<herohealth::Pace>, JournalError> {
        Ok(None)
    }

    /// The journal's run (one input) with its counts, for a status report: no patient data.
    ///
    /// ```
    /// use herohealth::MessageType;
    /// use herohealth_outbox::{Input, Journal, Row, SqliteJournal};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), herohealth_outbox::JournalError> {
    /// let journal = SqliteJournal::in_memory()?;
    /// assert!(journal.runs().await?.is_empty());
    /// journal.open(&Input::from_rows(vec![Row::new("98765", MessageType::Sms, "Hi").unwrap()])).await?;
    /// let runs = journal.runs().await?;
    /// assert_eq!((runs[0].pending, runs[0].sent), (1, 0));
    /// assert!(journal.to_decide().await?.is_empty());
    /// # Ok(()) }
    /// ```
    async fn runs(&self) -> Result<Vec<RunStatus>, JournalError> {
        self.call(|db| db.runs()).await
    }

    async fn to_decide(&self) -> Result<Vec<Entry>, JournalError> {
        let mut entries = self.call(|db| db.rows()).await?;
        entries.retain(|e| e.state.status() == Status::Ambiguous);
        Ok(entries)
    }

    /// None: one process holds this journal.
    async fn workers(&self) -> Result<Vec<WorkerStatus>, JournalError> {
        Ok(Vec::new())
    }

    /// Decides in one transaction. A run holds the journal's file while it sends, so a journal
    /// opened for a decision ([`SqliteJournal::open`]) is never deciding a row a run holds: the
    /// open is refused ([`JournalError::InUse`]). A journal opened to watch
    /// ([`SqliteJournal::open_watching`]) takes the file for the decision only, refused the same
    /// way while a run holds it.
    async fn decide(
        &self,
        run: u64,
        index: u64,
        decision: &Decision,
    ) -> Result<DecisionRecord, JournalError> {
        let decision = decision.clone();
        let Some(path) = self.decide_at.clone() else {
            return self.call(move |db| db.decide(run, index, &decision)).await;
        };
        // Watching: the file, held for this decision only (refused while a run holds it).
        tokio::task::spawn_blocking(move || {
            let writer = SqliteJournal::open(&path)?;
            let mut db = writer
                .db
                .lock()
                .map_err(|_| JournalError::Storage("an earlier journal call panicked".into()))?;
            db.decide(run, index, &decision)
        })
        .await
        .map_err(|_| JournalError::Storage("the journal call panicked".into()))?
    }

    async fn decisions(&self) -> Result<Vec<DecisionRecord>, JournalError> {
        self.call(|db| db.decisions()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Db {
        Db::setup(Connection::open_in_memory().unwrap()).unwrap()
    }

    #[cfg(unix)]
    #[test]
    fn a_new_journal_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        drop(SqliteJournal::open(&path).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // Opening it again keeps it (and its mode).
        drop(SqliteJournal::open(&path).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_transition_is_a_compare_and_set() {
        let mut j = db();
        let row = Row::new("1", herohealth::MessageType::Sms, "Hi").unwrap();
        j.open(&Input::from_rows(vec![row])).unwrap();
        let done = RowState::Sent {
            message_id: "9".into(),
        };
        j.transition(0, 0, Status::Pending, &done).unwrap();
        let err = j.transition(0, 0, Status::Pending, &done).unwrap_err();
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
        assert!(j.transition(0, 7, Status::Pending, &done).is_err());
        assert!(j.transition(1, 0, Status::Sent, &done).is_err(), "no run 1");
        assert_eq!(j.rows().unwrap()[0].state, done);
    }

    /// A send is counted when a row goes in flight, and uncounted when it comes back to pending
    /// from in flight (Hero provably did not carry it out); other moves leave the count.
    #[test]
    fn sends_are_counted_going_in_flight_and_uncounted_coming_back() {
        let mut j = db();
        let row = Row::new("1", herohealth::MessageType::Sms, "Hi").unwrap();
        j.open(&Input::from_rows(vec![row])).unwrap();
        let attempt = |j: &mut Db| match &j.rows().unwrap()[0].state {
            RowState::InFlight { attempt } => attempt.clone(),
            other => panic!("{other:?}"),
        };
        let body: herohealth::types::SendMessageRequest =
            herohealth::types::SendMessageRequest::builder()
                .patient_id("1")
                .message_type(herohealth::MessageType::Sms)
                .message_string("Hi")
                .try_into()
                .unwrap();
        let now = Utc::now();
        let flight = RowState::InFlight {
            attempt: herohealth::SendAttempt::new(&body, now, now),
        };
        j.transition(0, 0, Status::Pending, &flight).unwrap();
        assert_eq!(j.rows().unwrap()[0].sends, 1);
        j.transition(0, 0, Status::InFlight, &RowState::Pending)
            .unwrap();
        assert_eq!(j.rows().unwrap()[0].sends, 0);
        j.transition(0, 0, Status::Pending, &flight).unwrap();
        let unknown = RowState::Unknown {
            attempt: attempt(&mut j),
            accepted: false,
        };
        j.transition(0, 0, Status::InFlight, &unknown).unwrap();
        j.transition(0, 0, Status::Unknown, &RowState::Pending)
            .unwrap();
        assert_eq!(j.rows().unwrap()[0].sends, 1, "unknown -> pending keeps it");
    }

    /// A row this version cannot read (another version's state, an edit) is named by its run,
    /// row, line and column, and none of its values is in the error.
    #[test]
    fn an_unreadable_row_is_named_without_its_values() {
        let mut j = db();
        let row = Row::new("9434765919", herohealth::MessageType::Sms, "Dear Zebedee").unwrap();
        j.open(&Input::from_rows(vec![row])).unwrap();
        j.conn
            .execute(
                "UPDATE outbox_rows SET state = '{\"status\":\"held_for_Zebedee_Quenby_9434765919\"}'",
                [],
            )
            .unwrap();
        let err = j.rows().unwrap_err();
        assert!(
            matches!(
                err,
                JournalError::Unreadable {
                    run: 0,
                    index: 0,
                    line: None,
                    column: "state"
                }
            ),
            "{err:?}"
        );
        j.conn
            .execute(
                "UPDATE outbox_rows SET row = '{\"patient_id\":\"Zebedee Quenby 9434765919\"}'",
                [],
            )
            .unwrap();
        let err = j.rows().unwrap_err();
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(
                shown.contains("row") && !shown.contains("Zebedee") && !shown.contains("9434"),
                "{shown}"
            );
        }
        assert_eq!(
            err.to_string(),
            "row 0 of run 0: its row column is not readable by this version of herohealth-outbox"
        );
        // A column of another type, or none: named by its column, its value not shown.
        for (column, set) in [
            ("row", "row = x'5a656265646565'"),
            ("state", "state = 9434765919"),
            ("sends", "sends = 'Zebedee'"),
        ] {
            j.conn
                .execute_batch(&format!(
                    "DROP TABLE outbox_rows;
                     CREATE TABLE outbox_rows (idx INTEGER PRIMARY KEY, row, status TEXT,
                         state, sends, updated_at TEXT);
                     INSERT INTO outbox_rows VALUES (0, '{{}}', 'pending', '{{}}', 0, 'x');
                     UPDATE outbox_rows SET {set};"
                ))
                .unwrap();
            let err = j.rows().unwrap_err();
            assert!(
                matches!(err, JournalError::Unreadable { run: 0, index: 0, column: c, .. } if c == column),
                "{column}: {err:?}"
            );
            for shown in [err.to_string(), format!("{err:?}")] {
                assert!(
                    !shown.contains("Zebedee") && !shown.contains("9434"),
                    "{shown}"
                );
            }
        }
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
        let journal = SqliteJournal::open(&path).unwrap();
        let mut j = journal.db.lock().unwrap();
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
        assert_eq!(j.rows().unwrap()[0].state.message_id(), Some("7"));
        assert_eq!(j.schema().unwrap(), Some(JOURNAL_SCHEMA));
    }

    /// A row that becomes ambiguous records when (the client's clock); it keeps that time while
    /// it stays ambiguous, and loses it when decided; the run's oldest such time is its
    /// `waiting_since`.
    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn an_ambiguous_row_records_since_when_it_waits() {
        let j = SqliteJournal::in_memory().unwrap();
        let rows =
            ["1", "2", "3"].map(|p| Row::new(p, herohealth::MessageType::Sms, "Hi").unwrap());
        j.open(&Input::from_rows(rows.to_vec())).await.unwrap();
        let ambiguous = |id: &str| RowState::Ambiguous {
            message_ids: vec![id.into()],
            reason: "example".into(),
        };
        assert_eq!(j.runs().await.unwrap()[0].waiting_since, None);
        let first = herohealth::now();
        j.transition(0, 1, Status::Pending, &ambiguous("41"))
            .await
            .unwrap();
        tokio::time::advance(std::time::Duration::from_secs(60)).await;
        j.transition(0, 2, Status::Pending, &ambiguous("42"))
            .await
            .unwrap();
        // Still ambiguous, with other candidates: it has waited since the first time.
        j.transition(0, 1, Status::Ambiguous, &ambiguous("43"))
            .await
            .unwrap();
        let since = j.runs().await.unwrap()[0].waiting_since.unwrap();
        assert!(
            (since - first).num_milliseconds().abs() < 5,
            "{since} {first}"
        );
        let decision = Decision::new(crate::Choice::Abandon, "A. Person", "checked").unwrap();
        j.decide(0, 1, &decision).await.unwrap();
        let since = j.runs().await.unwrap()[0].waiting_since.unwrap();
        let second = first + chrono::Duration::seconds(60);
        assert!(
            (since - second).num_milliseconds().abs() < 5,
            "{since} {second}"
        );
        j.transition(0, 2, Status::Ambiguous, &RowState::Pending)
            .await
            .unwrap();
        assert_eq!(j.runs().await.unwrap()[0].waiting_since, None);
        let db = j.db.lock().unwrap();
        let kept: i64 = db
            .conn
            .query_row(
                "SELECT count(*) FROM outbox_rows WHERE waiting_since IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(kept, 0, "no row but an ambiguous one has a time");
    }

    /// A journal of schema 2 is migrated to 3 when opened to write: its ambiguous rows wait
    /// since their last change. Opened read only it is not changed, and reads the same.
    #[test]
    fn a_schema_2_journal_gets_the_time_its_ambiguous_rows_wait_since() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("two.db");
        let rows = vec![
            Row::new("1", herohealth::MessageType::Sms, "Hi").unwrap(),
            Row::new("2", herohealth::MessageType::Sms, "Hi").unwrap(),
        ];
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 CREATE TABLE outbox_rows (idx INTEGER PRIMARY KEY, row TEXT NOT NULL,
                     status TEXT NOT NULL, state TEXT NOT NULL, sends INTEGER NOT NULL DEFAULT 0,
                     updated_at TEXT NOT NULL);",
            )
            .unwrap();
            conn.execute(
                "INSERT INTO meta VALUES ('input', ?1), ('schema', '2')",
                [crate::row::fingerprint(&rows)],
            )
            .unwrap();
            let ambiguous = to_json(&RowState::Ambiguous {
                message_ids: vec!["41".into()],
                reason: "example".into(),
            })
            .unwrap();
            conn.execute(
                "INSERT INTO outbox_rows VALUES
                     (0, ?1, 'ambiguous', ?2, 1, '2026-01-02T03:04:05.000000006Z'),
                     (1, ?3, 'failed', '{\"status\":\"failed\",\"reason\":\"x\"}', 0, '2026-01-01T00:00:00Z')",
                [to_json(&rows[0]).unwrap(), ambiguous, to_json(&rows[1]).unwrap()],
            )
            .unwrap();
        }
        let expected = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.000000006Z")
            .unwrap()
            .with_timezone(&Utc);
        {
            let read = SqliteJournal::open_read_only(&path).unwrap();
            let db = read.db.lock().unwrap();
            let mut db = db;
            assert!(!db.has_waiting_since().unwrap());
            assert_eq!(db.runs().unwrap()[0].waiting_since, Some(expected));
        }
        let journal = SqliteJournal::open(&path).unwrap();
        let mut j = journal.db.lock().unwrap();
        assert!(j.has_waiting_since().unwrap());
        assert_eq!(j.schema().unwrap(), Some(JOURNAL_SCHEMA));
        assert_eq!(j.runs().unwrap()[0].waiting_since, Some(expected));
        j.open(&Input::from_rows(rows)).unwrap();
        let (ambiguous, failed): (Option<String>, Option<String>) = j
            .conn
            .query_row(
                "SELECT (SELECT waiting_since FROM outbox_rows WHERE idx = 0),
                        (SELECT waiting_since FROM outbox_rows WHERE idx = 1)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(ambiguous.as_deref(), Some("2026-01-02T03:04:05.000000006Z"));
        assert_eq!(failed, None);
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

    /// Every method runs from inside a runtime, a current-thread one too, without blocking it
    /// into a panic.
    #[tokio::test(flavor = "current_thread")]
    async fn every_method_is_called_from_async_code() {
        let j = SqliteJournal::in_memory().unwrap();
        let input = Input::from_rows(vec![
            Row::new("1", herohealth::MessageType::Sms, "Hi").unwrap(),
        ]);
        j.bind("group").await.unwrap();
        j.open(&input).await.unwrap();
        assert_eq!(j.claim(10).await.unwrap().len(), 1);
        assert_eq!(j.unfinished().await.unwrap(), 1);
        let sent = RowState::Sent {
            message_id: "7".into(),
        };
        j.transition(0, 0, Status::Pending, &sent).await.unwrap();
        j.release().await.unwrap();
        assert_eq!(j.known_ids().await.unwrap(), ["7"]);
        assert!(
            j.shared_pace("group", NonZeroU32::MIN)
                .await
                .unwrap()
                .is_none()
        );
        let runs = j.runs().await.unwrap();
        assert_eq!((runs[0].sent, runs[0].pending), (1, 0));
        assert!(runs[0].created_at.is_some() && runs[0].last_activity.is_some());
        assert!(j.to_decide().await.unwrap().is_empty());
        assert!(j.workers().await.unwrap().is_empty());
        assert_eq!(j.entries().await.unwrap()[0].state, sent);
    }
}
