//! [`PgJournal`]: the journal in PostgreSQL, shared by several workers (feature `postgres`).
//!
//! One database holds many runs (inputs), each with its practice group and fingerprint. Rows
//! are claimed with a lease (`FOR UPDATE SKIP LOCKED`, a lease expiry on the database's clock,
//! a fencing token from a sequence checked by every change), so each row has one owner at a
//! time; a unique index keeps at most one claimed row per patient of a practice group, so rows
//! to one patient go one at a time across all workers; and the practice group's pace is one
//! GCRA schedule in the database, advanced in one atomic statement, shared by every worker.

use std::{
    collections::HashMap,
    fmt,
    num::NonZeroU32,
    sync::{Arc, Mutex, mpsc},
    time::Duration,
};

use herohealth::{Pace, PaceFuture, PaceStore, PaceStoreError};
use postgres::{NoTls, error::SqlState};

use crate::{
    journal::{Entry, Journal, JournalError, RowState, RunStatus, Status},
    row::Input,
};

/// The schema this version creates and reads (`herohealth_outbox_meta.schema`).
pub const PG_SCHEMA: u32 = 1;

/// Each migration, by the version it brings the schema to.
const MIGRATIONS: &[(u32, &str)] = &[(
    1,
    "CREATE TABLE outbox_runs (
         id bigserial PRIMARY KEY,
         group_key text NOT NULL,
         fingerprint text NOT NULL,
         rows bigint NOT NULL,
         created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
         UNIQUE (group_key, fingerprint)
     );
     CREATE TABLE outbox_rows (
         run_id bigint NOT NULL REFERENCES outbox_runs (id),
         idx bigint NOT NULL,
         group_key text NOT NULL,
         patient_id text NOT NULL,
         row text NOT NULL,
         status text NOT NULL,
         state text NOT NULL,
         sends integer NOT NULL DEFAULT 0,
         claimed boolean NOT NULL DEFAULT false,
         owner text,
         fence bigint NOT NULL DEFAULT 0,
         lease_until timestamptz,
         updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
         PRIMARY KEY (run_id, idx)
     );
     CREATE UNIQUE INDEX outbox_rows_one_claimed_per_patient
         ON outbox_rows (group_key, patient_id) WHERE claimed;
     CREATE INDEX outbox_rows_open
         ON outbox_rows (group_key, run_id, idx)
         WHERE status IN ('pending', 'in_flight', 'unknown');
     CREATE SEQUENCE outbox_fence;
     CREATE TABLE outbox_pace (group_key text PRIMARY KEY, tat timestamptz NOT NULL);",
)];

/// A PostgreSQL error as text that holds no value: the SQLSTATE code only (a database's own
/// message can quote a row's values, such as a patient id in a key that conflicts).
fn pg_error(e: &postgres::Error) -> JournalError {
    if let Some(db) = e.as_db_error() {
        return JournalError::Storage(format!("postgres error {}", db.code().code()));
    }
    if e.is_closed() {
        return JournalError::Storage("the connection to PostgreSQL is closed".into());
    }
    // The client's own errors (connecting, converting a parameter) name no value.
    JournalError::Storage(format!("PostgreSQL: {e}"))
}

fn json_error(e: serde_json::Error) -> JournalError {
    JournalError::from(e)
}

/// A connection that is closed on a thread of its own: the `postgres` client blocks on its own
/// runtime when dropped, which must not happen on an async task.
struct Conn(Option<postgres::Client>);

impl Conn {
    fn open(config: &postgres::Config) -> Result<Conn, JournalError> {
        Self::open_then(config, |_| Ok(()))
    }

    /// Connects and runs `then` on the connection, on a thread of their own: the client blocks
    /// on its own runtime, which must not happen on an async task.
    fn open_then(
        config: &postgres::Config,
        then: impl FnOnce(&mut postgres::Client) -> Result<(), JournalError> + Send + 'static,
    ) -> Result<Conn, JournalError> {
        let config = config.clone();
        std::thread::spawn(move || {
            let mut c = config.connect(NoTls).map_err(|e| pg_error(&e))?;
            then(&mut c)?;
            Ok(Conn(Some(c)))
        })
        .join()
        .map_err(|_| JournalError::Storage("the connecting thread panicked".into()))?
    }

    fn get(&mut self) -> &mut postgres::Client {
        self.0.as_mut().expect("open until dropped")
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            let _ = std::thread::spawn(move || drop(c)).join();
        }
    }
}

/// The journal in PostgreSQL, for several workers on one or more machines (feature
/// `postgres`). Rows are claimed with a lease (`FOR UPDATE SKIP LOCKED`, a lease expiry on the
/// database's clock, a fencing token from a sequence checked by every change), so each row has
/// one owner at a time; a unique index keeps at most one claimed row per patient of a practice
/// group, so rows to one patient go one at a time across all workers; and the practice group's
/// pace is one GCRA schedule in the database, advanced in one atomic statement, shared by every
/// worker ([`Journal::shared_pace`]).
///
/// A journal is bound to a practice group (by [`crate::Outbox`], from its client's
/// [`herohealth::HeroClient::practice_group_key`]: never the id itself); its scope is that
/// group's runs. [`Journal::open`] queues an input once (by fingerprint) and selects it, so
/// [`Journal::entries`] and [`Journal::unfinished`] are that run's; without it the scope is every
/// run of the group (`hero outbox work`).
///
/// The database holds patient data (the rows): give the role it connects as access to this
/// database only, and keep the database where patient data may be kept. Connections are made
/// without TLS: connect over loopback or a Unix socket (or a tunnel); a `sslmode=require` URL is
/// refused by the client.
///
/// ```no_run
/// use herohealth_outbox::{Input, Options, Outbox, PgJournal};
///
/// # async fn run(hero: herohealth::HeroClient, input: Input) -> Result<(), Box<dyn std::error::Error>> {
/// let journal = PgJournal::connect("postgres://outbox@127.0.0.1/outbox")?;
/// let outbox = Outbox::new(hero, journal, Options::default());
/// let summary = outbox.run(&input, |_event| {}).await?; // with any other workers
/// # let _ = summary; Ok(()) }
/// ```
pub struct PgJournal {
    conn: Conn,
    config: postgres::Config,
    owner: String,
    lease: Duration,
    group: Option<String>,
    run: Option<i64>,
    /// The fencing token of each row this worker holds.
    held: HashMap<(u64, u64), i64>,
    heartbeat: Option<mpsc::Sender<()>>,
}

impl fmt::Debug for PgJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgJournal")
            .field("lease", &self.lease)
            .field("held", &self.held.len())
            .finish_non_exhaustive()
    }
}

impl Drop for PgJournal {
    fn drop(&mut self) {
        if let Some(stop) = self.heartbeat.take() {
            let _ = stop.send(());
        }
    }
}

impl PgJournal {
    /// The default lease: how long a worker's claim on a row lasts without being renewed (a
    /// worker renews its leases a third of this apart while it runs).
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

    /// Connects to the database at `url` (`postgres://user@host:port/db`, or the key=value
    /// form), creating or migrating the journal's tables. The URL is never shown in an error.
    pub fn connect(url: &str) -> Result<PgJournal, JournalError> {
        let config: postgres::Config = url.parse().map_err(|_| {
            JournalError::Storage("the PostgreSQL connection string does not parse".into())
        })?;
        let conn = Conn::open_then(&config, migrate)?;
        let owner = format!("{}-{:016x}", std::process::id(), fastrand::u64(..));
        Ok(PgJournal {
            conn,
            config,
            owner,
            lease: Self::DEFAULT_LEASE,
            group: None,
            run: None,
            held: HashMap::new(),
            heartbeat: None,
        })
    }

    /// How long a claim lasts without renewal (default [`DEFAULT_LEASE`](Self::DEFAULT_LEASE),
    /// at least 100 ms). A worker stopped for longer (killed, or only slow) loses its rows to
    /// another, which resolves them with `find_attempt` before anything is sent again; the
    /// fencing token then refuses the slow worker's late changes. A row in flight stays leased
    /// until its attempt's deadline at least.
    pub fn lease(mut self, lease: Duration) -> PgJournal {
        self.lease = lease.max(Duration::from_millis(100));
        self
    }

    /// Stops renewing this worker's leases: for tests of a worker that is only slow (its leases
    /// run out while it still holds their rows).
    #[doc(hidden)]
    pub fn without_heartbeat(mut self) -> PgJournal {
        self.heartbeat = Some(mpsc::channel().0);
        self
    }

    /// Every run of the database with its counts (all practice groups), for a status report.
    pub fn runs(&mut self) -> Result<Vec<RunStatus>, JournalError> {
        let rows = self
            .conn
            .get()
            .query(
                "SELECT r.id, r.fingerprint,
                        count(*) FILTER (WHERE o.status = 'pending'),
                        count(*) FILTER (WHERE o.status IN ('in_flight', 'unknown')),
                        count(*) FILTER (WHERE o.status = 'sent'),
                        count(*) FILTER (WHERE o.status = 'failed'),
                        count(*) FILTER (WHERE o.status = 'ambiguous')
                 FROM outbox_runs r JOIN outbox_rows o ON o.run_id = r.id
                 GROUP BY r.id, r.fingerprint ORDER BY r.id",
                &[],
            )
            .map_err(|e| pg_error(&e))?;
        Ok(rows
            .iter()
            .map(|r| RunStatus {
                run: r.get::<_, i64>(0) as u64,
                fingerprint: r.get(1),
                pending: r.get::<_, i64>(2) as usize,
                in_flight: r.get::<_, i64>(3) as usize,
                sent: r.get::<_, i64>(4) as usize,
                failed: r.get::<_, i64>(5) as usize,
                ambiguous: r.get::<_, i64>(6) as usize,
            })
            .collect())
    }

    /// The rows a person must decide (ambiguous), of every run, in order.
    pub fn to_decide(&mut self) -> Result<Vec<Entry>, JournalError> {
        let rows = self
            .conn
            .get()
            .query(
                "SELECT run_id, idx, row, state, sends FROM outbox_rows
                 WHERE status = 'ambiguous' ORDER BY run_id, idx",
                &[],
            )
            .map_err(|e| pg_error(&e))?;
        rows.iter().map(entry_of).collect()
    }

    fn group(&self) -> Result<&str, JournalError> {
        self.group.as_deref().ok_or_else(|| {
            JournalError::Storage("the journal is not bound to a practice group".into())
        })
    }

    /// Starts renewing this worker's leases (once, on its first claim).
    fn start_heartbeat(&mut self) {
        if self.heartbeat.is_some() {
            return;
        }
        let (stop, stopped) = mpsc::channel::<()>();
        let (config, owner, lease) = (self.config.clone(), self.owner.clone(), self.lease);
        std::thread::spawn(move || {
            let Ok(mut conn) = config.connect(NoTls) else {
                return;
            };
            let secs = lease.as_secs_f64();
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(lease / 3) {
                let renewed = conn.execute(
                    "UPDATE outbox_rows
                     SET lease_until = GREATEST(lease_until, clock_timestamp() + make_interval(secs => $2))
                     WHERE owner = $1 AND claimed",
                    &[&owner, &secs],
                );
                if renewed.is_err() {
                    tracing::warn!("outbox: a lease could not be renewed");
                }
            }
        });
        self.heartbeat = Some(stop);
    }
}

fn migrate(c: &mut postgres::Client) -> Result<(), JournalError> {
    let mut tx = c.transaction().map_err(|e| pg_error(&e))?;
    // One migrator at a time, whichever worker starts first.
    tx.execute("SELECT pg_advisory_xact_lock(7267021974)", &[])
        .map_err(|e| pg_error(&e))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS herohealth_outbox_meta (key text PRIMARY KEY, value text NOT NULL)",
    )
    .map_err(|e| pg_error(&e))?;
    let version: u32 = tx
        .query_opt(
            "SELECT value FROM herohealth_outbox_meta WHERE key = 'schema'",
            &[],
        )
        .map_err(|e| pg_error(&e))?
        .and_then(|r| r.get::<_, String>(0).parse().ok())
        .unwrap_or(0);
    if version > PG_SCHEMA {
        return Err(JournalError::NewerSchema(version));
    }
    for (to, sql) in MIGRATIONS.iter().filter(|(to, _)| *to > version) {
        tx.batch_execute(sql).map_err(|e| pg_error(&e))?;
        tx.execute(
            "INSERT INTO herohealth_outbox_meta (key, value) VALUES ('schema', $1)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&to.to_string()],
        )
        .map_err(|e| pg_error(&e))?;
    }
    tx.commit().map_err(|e| pg_error(&e))
}

fn entry_of(r: &postgres::Row) -> Result<Entry, JournalError> {
    Ok(Entry {
        run: r.get::<_, i64>(0) as u64,
        index: r.get::<_, i64>(1) as u64,
        row: serde_json::from_str(r.get::<_, &str>(2)).map_err(json_error)?,
        state: serde_json::from_str(r.get::<_, &str>(3)).map_err(json_error)?,
        sends: r.get::<_, i32>(4) as u32,
    })
}

impl Journal for PgJournal {
    fn bind(&mut self, group_key: &str) -> Result<(), JournalError> {
        self.group = Some(group_key.to_owned());
        Ok(())
    }

    fn open(&mut self, input: &Input) -> Result<(), JournalError> {
        let group = self.group()?.to_owned();
        let fingerprint = input.fingerprint().to_owned();
        let mut tx = self.conn.get().transaction().map_err(|e| pg_error(&e))?;
        let created = tx
            .query_opt(
                "INSERT INTO outbox_runs (group_key, fingerprint, rows) VALUES ($1, $2, $3)
                 ON CONFLICT (group_key, fingerprint) DO NOTHING RETURNING id",
                &[&group, &fingerprint, &(input.rows().len() as i64)],
            )
            .map_err(|e| pg_error(&e))?;
        let run: i64 = match created {
            Some(r) => {
                let id: i64 = r.get(0);
                let pending = serde_json::to_string(&RowState::Pending)?;
                let insert = tx
                    .prepare(
                        "INSERT INTO outbox_rows (run_id, idx, group_key, patient_id, row, status, state)
                         VALUES ($1, $2, $3, $4, $5, 'pending', $6)",
                    )
                    .map_err(|e| pg_error(&e))?;
                for (i, row) in input.rows().iter().enumerate() {
                    let json = serde_json::to_string(row)?;
                    tx.execute(
                        &insert,
                        &[&id, &(i as i64), &group, &row.patient_id(), &json, &pending],
                    )
                    .map_err(|e| pg_error(&e))?;
                }
                id
            }
            None => tx
                .query_one(
                    "SELECT id FROM outbox_runs WHERE group_key = $1 AND fingerprint = $2",
                    &[&group, &fingerprint],
                )
                .map_err(|e| pg_error(&e))?
                .get(0),
        };
        tx.commit().map_err(|e| pg_error(&e))?;
        self.run = Some(run);
        Ok(())
    }

    fn entries(&mut self) -> Result<Vec<Entry>, JournalError> {
        let group = self.group()?.to_owned();
        let run = self.run.unwrap_or(-1);
        let rows = self
            .conn
            .get()
            .query(
                "SELECT run_id, idx, row, state, sends FROM outbox_rows
                 WHERE group_key = $1 AND ($2::bigint < 0 OR run_id = $2::bigint) ORDER BY run_id, idx",
                &[&group, &run],
            )
            .map_err(|e| pg_error(&e))?;
        rows.iter().map(entry_of).collect()
    }

    fn transition(&mut self, index: u64, from: Status, to: &RowState) -> Result<(), JournalError> {
        let run = self.run.ok_or_else(|| {
            JournalError::Storage("no run is open: name the row's run (Journal::update)".into())
        })?;
        self.update(run as u64, index, from, to)
    }

    fn update(
        &mut self,
        run: u64,
        index: u64,
        from: Status,
        to: &RowState,
    ) -> Result<(), JournalError> {
        let fence = *self
            .held
            .get(&(run, index))
            .ok_or(JournalError::Fenced { index })?;
        let sent: i32 = match (from, to.status()) {
            (_, Status::InFlight) => 1,
            (Status::InFlight, Status::Pending) => -1,
            _ => 0,
        };
        // A row in flight stays leased past its attempt's deadline: nobody resolves it while
        // the request may still be inside Hero.
        let extend = match to {
            RowState::InFlight { attempt } => (attempt.deadline() - chrono::Utc::now())
                .to_std()
                .unwrap_or_default()
                .saturating_add(self.lease)
                .as_secs_f64(),
            _ => 0.0,
        };
        let claimed = !to.status().is_final();
        let changed = self
            .conn
            .get()
            .execute(
                "UPDATE outbox_rows SET status = $1, state = $2, sends = sends + $3,
                     updated_at = clock_timestamp(), claimed = $4,
                     owner = CASE WHEN $4 THEN owner END,
                     lease_until = CASE WHEN $4 THEN GREATEST(lease_until, clock_timestamp() + make_interval(secs => $5)) END
                 WHERE run_id = $6 AND idx = $7 AND status = $8 AND fence = $9",
                &[
                    &to.status().as_str(),
                    &serde_json::to_string(to)?,
                    &sent,
                    &claimed,
                    &extend,
                    &(run as i64),
                    &(index as i64),
                    &from.as_str(),
                    &fence,
                ],
            )
            .map_err(|e| pg_error(&e))?;
        if changed == 1 {
            if !claimed {
                self.held.remove(&(run, index));
            }
            return Ok(());
        }
        let found = self
            .conn
            .get()
            .query_opt(
                "SELECT status, fence FROM outbox_rows WHERE run_id = $1 AND idx = $2",
                &[&(run as i64), &(index as i64)],
            )
            .map_err(|e| pg_error(&e))?;
        match found {
            Some(r) if r.get::<_, i64>(1) != fence => {
                self.held.remove(&(run, index));
                Err(JournalError::Fenced { index })
            }
            Some(r) => {
                let status: String = r.get(0);
                Err(JournalError::Conflict {
                    index,
                    expected: from,
                    found: serde_json::from_value(serde_json::Value::String(status))?,
                })
            }
            None => Err(JournalError::Storage(format!("no row {index}"))),
        }
    }

    fn claim(&mut self, max: usize) -> Result<Vec<Entry>, JournalError> {
        let group = self.group()?.to_owned();
        self.start_heartbeat();
        let (owner, lease) = (self.owner.clone(), self.lease.as_secs_f64());
        let mut tx = self.conn.get().transaction().map_err(|e| pg_error(&e))?;
        // Rows to resolve first, then pending ones, oldest run first; a row another worker holds
        // is skipped unless its lease ran out; none of a patient with another row held.
        let candidates = tx
            .query(
                "SELECT c.run_id, c.idx, c.patient_id FROM outbox_rows c
                 WHERE c.group_key = $1 AND c.status IN ('pending', 'in_flight', 'unknown')
                   AND (NOT c.claimed OR c.owner = $2 OR c.lease_until < clock_timestamp())
                   AND NOT EXISTS (
                       SELECT 1 FROM outbox_rows o
                       WHERE o.claimed AND o.group_key = c.group_key AND o.patient_id = c.patient_id
                         AND (o.run_id, o.idx) <> (c.run_id, c.idx))
                 ORDER BY (c.status = 'pending'), c.run_id, c.idx
                 LIMIT $3 FOR UPDATE OF c SKIP LOCKED",
                &[&group, &owner, &((max as i64).saturating_mul(2))],
            )
            .map_err(|e| pg_error(&e))?;
        let mut seen = std::collections::HashSet::new();
        let mut claimed = Vec::new();
        for c in &candidates {
            if claimed.len() >= max {
                break;
            }
            let (run, idx, patient): (i64, i64, String) = (c.get(0), c.get(1), c.get(2));
            if !seen.insert(patient) {
                continue;
            }
            // Another worker may be claiming another row of this patient at this moment: the
            // unique index refuses the second; that row is skipped.
            tx.batch_execute("SAVEPOINT claim")
                .map_err(|e| pg_error(&e))?;
            let taken = tx.query_one(
                "UPDATE outbox_rows SET claimed = true, owner = $1, fence = nextval('outbox_fence'),
                     lease_until = GREATEST(lease_until, clock_timestamp() + make_interval(secs => $2))
                 WHERE run_id = $3 AND idx = $4
                 RETURNING run_id, idx, row, state, sends, fence",
                &[&owner, &lease, &run, &idx],
            );
            match taken {
                Ok(r) => {
                    tx.batch_execute("RELEASE SAVEPOINT claim")
                        .map_err(|e| pg_error(&e))?;
                    claimed.push((entry_of(&r)?, r.get::<_, i64>(5)));
                }
                Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                    tx.batch_execute("ROLLBACK TO SAVEPOINT claim")
                        .map_err(|e| pg_error(&e))?;
                }
                Err(e) => return Err(pg_error(&e)),
            }
        }
        tx.commit().map_err(|e| pg_error(&e))?;
        Ok(claimed
            .into_iter()
            .map(|(entry, fence)| {
                self.held.insert((entry.run, entry.index), fence);
                entry
            })
            .collect())
    }

    fn release(&mut self) -> Result<(), JournalError> {
        let fences: Vec<i64> = self.held.values().copied().collect();
        if fences.is_empty() {
            return Ok(());
        }
        self.conn
            .get()
            .execute(
                "UPDATE outbox_rows SET claimed = false, owner = NULL, lease_until = NULL
                 WHERE owner = $1 AND fence = ANY($2) AND status = 'pending'",
                &[&self.owner, &fences],
            )
            .map_err(|e| pg_error(&e))?;
        // Rows in flight or unknown stay leased to this worker until the lease runs out; then
        // another resolves them.
        self.held.clear();
        Ok(())
    }

    fn unfinished(&mut self) -> Result<usize, JournalError> {
        let group = self.group()?.to_owned();
        let run = self.run.unwrap_or(-1);
        let n: i64 = self
            .conn
            .get()
            .query_one(
                "SELECT count(*) FROM outbox_rows
                 WHERE group_key = $1 AND ($2::bigint < 0 OR run_id = $2::bigint)
                   AND status IN ('pending', 'in_flight', 'unknown')",
                &[&group, &run],
            )
            .map_err(|e| pg_error(&e))?
            .get(0);
        Ok(n as usize)
    }

    fn known_ids(&mut self) -> Result<Vec<String>, JournalError> {
        // Every send of the practice group, whichever run: never a candidate for another row.
        let group = self.group()?.to_owned();
        let rows = self
            .conn
            .get()
            .query(
                "SELECT state FROM outbox_rows WHERE group_key = $1 AND status IN ('sent', 'ambiguous')",
                &[&group],
            )
            .map_err(|e| pg_error(&e))?;
        let mut ids = Vec::new();
        for r in rows {
            match serde_json::from_str::<RowState>(r.get::<_, &str>(0))? {
                RowState::Sent { message_id } => ids.push(message_id),
                RowState::Ambiguous { message_ids, .. } => ids.extend(message_ids),
                _ => {}
            }
        }
        Ok(ids)
    }

    fn shared_pace(&mut self, group: &str, rate: Option<NonZeroU32>) -> Option<Pace> {
        let rate = rate?;
        let conn = Conn::open(&self.config).ok()?;
        Some(Pace::with_store(
            rate.get(),
            PgPaceStore {
                conn: Arc::new(Mutex::new(conn)),
                group: group.to_owned(),
            },
        ))
    }
}

/// A practice group's pace schedule in PostgreSQL: one row per group, advanced in one
/// statement by every worker.
struct PgPaceStore {
    conn: Arc<Mutex<Conn>>,
    group: String,
}

impl PgPaceStore {
    fn run(&self, sql: &'static str, secs: f64) -> PaceFuture<'_, Option<f64>> {
        let (conn, group) = (self.conn.clone(), self.group.clone());
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut conn = conn.lock().unwrap_or_else(|e| e.into_inner());
                conn.get()
                    .query_opt(sql, &[&group, &secs])
                    .map(|r| r.map(|r| r.get::<_, f64>(0)))
                    .map_err(|e| PaceStoreError(pg_error(&e).to_string()))
            })
            .await
            .map_err(|_| PaceStoreError("the pace task panicked".into()))?
        })
    }
}

/// Seconds (from the database) as a duration: negative is zero, too large is saturated.
fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::MAX)
}

impl PaceStore for PgPaceStore {
    fn reserve(&self, interval: Duration) -> PaceFuture<'_, Duration> {
        let run = self.run(
            "INSERT INTO outbox_pace (group_key, tat) VALUES ($1, clock_timestamp() + make_interval(secs => $2))
             ON CONFLICT (group_key) DO UPDATE
                 SET tat = GREATEST(outbox_pace.tat, clock_timestamp()) + make_interval(secs => $2)
             RETURNING EXTRACT(EPOCH FROM (tat - make_interval(secs => $2) - clock_timestamp()))::float8",
            interval.as_secs_f64().min(86_400.0),
        );
        Box::pin(async move { Ok(seconds(run.await?.unwrap_or(0.0))) })
    }

    fn pause(&self, pause: Duration) -> PaceFuture<'_, ()> {
        let run = self.run(
            "INSERT INTO outbox_pace (group_key, tat) VALUES ($1, clock_timestamp() + make_interval(secs => $2))
             ON CONFLICT (group_key) DO UPDATE
                 SET tat = GREATEST(outbox_pace.tat, clock_timestamp() + make_interval(secs => $2))
             RETURNING 0::float8",
            pause.as_secs_f64().min(86_400.0),
        );
        Box::pin(async move { run.await.map(|_| ()) })
    }
}
