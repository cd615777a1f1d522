//! [`PgJournal`]: the journal in PostgreSQL, shared by several workers (feature `postgres`).
//!
//! One database holds many runs (inputs), each with its practice group and fingerprint. Rows
//! are claimed with a lease (`FOR UPDATE SKIP LOCKED`, a lease expiry on the database's clock,
//! a fencing token from a sequence checked by every change), so each row has one owner at a
//! time; a unique index keeps at most one claimed row per patient of a practice group, so rows
//! to one patient go one at a time across all workers; and the practice group's pace is one
//! GCRA schedule in the database, advanced in one atomic statement, shared by every worker.
//!
//! Each of the journal's calls is one statement (no transaction spans two round trips), written
//! so that running it again after a lost connection does no harm: a claim takes this worker's
//! own rows again, a change of a row that already holds what was to be written is done, and a
//! second pace slot only slows the pace.

use std::{
    collections::HashMap,
    fmt,
    num::NonZeroU32,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, Utc};
use herohealth::Pace;
use tokio::task::AbortHandle;
use tokio_postgres::Row;

use crate::{
    journal::{
        Decision, DecisionRecord, Entry, Journal, JournalError, RowState, RunStatus, Status,
        Stored, WorkerStatus,
    },
    row::Input,
};

mod link;
mod pace;
mod schema;
mod tls;

use link::{Link, Param};
pub use schema::PG_SCHEMA;

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
/// **It heals.** A lost connection (a restart, a failover, a connection ended by the server, a
/// statement without an answer for 30 s) is connected again with backoff and the statement run
/// again, for [`reconnect_for`](Self::reconnect_for) at most (60 s by default): past it every
/// call fails with [`JournalError::Unreachable`] and the outbox stops. The leases are renewed by a
/// task on the caller's runtime (a third of the lease apart); a lease that ran out while the
/// database was away is not renewed, and a row whose lease ran out is never put in flight: the
/// worker claims again (a row another worker took meanwhile is theirs).
///
/// **TLS** by rustls, from the connection string's `sslmode` (`disable`, `prefer` (the default),
/// `require`, `verify-ca`, `verify-full`) and `sslrootcert` (a CA file, or `system`), as libpq
/// reads them. `verify-full` is the setting for a database on another machine.
///
/// The database holds patient data (the rows): give the role it connects as access to this
/// database only, and keep the database where patient data may be kept. Every value handed to
/// the driver is masked in its logs.
///
/// ```no_run
/// use herohealth_outbox::{Input, Options, Outbox, PgJournal};
///
/// # async fn run(hero: herohealth::HeroClient, input: Input) -> Result<(), Box<dyn std::error::Error>> {
/// let url = "postgres://outbox@db.example.org/outbox?sslmode=verify-full&sslrootcert=ca.pem";
/// let journal = PgJournal::connect(url).await?;
/// let outbox = Outbox::new(hero, journal, Options::default());
/// let summary = outbox.run(&input, |_event| {}).await?; // with any other workers
/// # let _ = summary; Ok(()) }
/// ```
pub struct PgJournal {
    /// The rows' connections ([`CONNECTIONS`]), each statement on the next: every commit is on
    /// disk before its call returns, and the commits of several connections share the database's
    /// flushes of its log (one connection would wait for one flush per statement).
    link: Arc<Pool>,
    /// This worker's id in the journal (`owner` of the rows it claims).
    owner: String,
    lease: Duration,
    reconnect_for: Duration,
    scope: Mutex<Scope>,
    /// The fencing token of each row this worker holds.
    held: Mutex<HashMap<(u64, u64), i64>>,
    heartbeat: Mutex<Heartbeat>,
}

#[derive(Default)]
struct Scope {
    group: Option<String>,
    run: Option<i64>,
}

enum Heartbeat {
    Off,
    Running(AbortHandle),
    /// Never started ([`PgJournal::without_heartbeat`]).
    Disabled,
}

impl fmt::Debug for PgJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgJournal")
            .field("lease", &self.lease)
            .field("reconnect_for", &self.reconnect_for)
            .field("held", &self.held().len())
            .finish_non_exhaustive()
    }
}

impl Drop for PgJournal {
    fn drop(&mut self) {
        if let Heartbeat::Running(task) = &*self.heartbeat.lock().unwrap_or_else(|e| e.into_inner())
        {
            task.abort();
        }
    }
}

fn unreadable(run: u64, index: u64, column: &'static str) -> JournalError {
    JournalError::Unreadable {
        run,
        index,
        line: None,
        column,
    }
}

/// A value of a column this version wrote, or a journal error naming it.
fn column<'a, T: tokio_postgres::types::FromSql<'a>>(
    r: &'a Row,
    i: usize,
    name: &'static str,
) -> Result<T, JournalError> {
    r.try_get(i).map_err(|_| {
        JournalError::Storage(format!(
            "the {name} column is not readable by this version of herohealth-outbox"
        ))
    })
}

/// A row of `run_id, idx, row, state, sends`.
fn entry_of(r: &Row) -> Result<Entry, JournalError> {
    let run = column::<i64>(r, 0, "run_id")? as u64;
    let index = column::<i64>(r, 1, "idx")? as u64;
    let row: &str = r.try_get(2).map_err(|_| unreadable(run, index, "row"))?;
    let state: &str = r.try_get(3).map_err(|_| unreadable(run, index, "state"))?;
    let sends: i32 = r.try_get(4).map_err(|_| unreadable(run, index, "sends"))?;
    crate::journal::decode(run, index, row, state, i64::from(sends))
}

impl PgJournal {
    /// The default lease: how long a worker's claim on a row lasts without being renewed (a
    /// worker renews its leases a third of this apart while it runs).
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

    /// The default bound on a lost connection ([`reconnect_for`](Self::reconnect_for)).
    pub const DEFAULT_RECONNECT_FOR: Duration = Duration::from_secs(60);

    /// Connects to the database at `url` (`postgres://user@host:port/db?sslmode=...`, or the
    /// key=value form), creating or migrating the journal's tables. A server that cannot be
    /// reached yet (starting, restarting) is tried again with backoff for
    /// [`DEFAULT_RECONNECT_FOR`](Self::DEFAULT_RECONNECT_FOR); a password, a database or TLS that
    /// is refused fails at once ([`JournalError::Config`]). The URL is never shown in an error.
    pub async fn connect(url: &str) -> Result<PgJournal, JournalError> {
        let owner = format!("{}-{:016x}", std::process::id(), fastrand::u64(..));
        let target = tls::Target::parse(url)?.named("rows", &owner);
        let link = Pool {
            links: (0..CONNECTIONS)
                .map(|_| Link::new(target.clone(), "rows", Self::DEFAULT_RECONNECT_FOR, DURABLE))
                .collect(),
            next: AtomicUsize::new(0),
        };
        link.links[0].open().await?;
        schema::migrate(&link.links[0]).await?;
        Ok(PgJournal {
            link: Arc::new(link),
            owner,
            lease: Self::DEFAULT_LEASE,
            reconnect_for: Self::DEFAULT_RECONNECT_FOR,
            scope: Mutex::new(Scope::default()),
            held: Mutex::new(HashMap::new()),
            heartbeat: Mutex::new(Heartbeat::Off),
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

    /// How long the database may stay out of reach (default
    /// [`DEFAULT_RECONNECT_FOR`](Self::DEFAULT_RECONNECT_FOR)): a lost connection is connected
    /// again with backoff meanwhile; past it every call fails with
    /// [`JournalError::Unreachable`].
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), herohealth_outbox::JournalError> {
    /// let journal = herohealth_outbox::PgJournal::connect("postgres://outbox@127.0.0.1/outbox")
    ///     .await?
    ///     .reconnect_for(std::time::Duration::from_secs(300));
    /// # let _ = journal; Ok(()) }
    /// ```
    pub fn reconnect_for(mut self, bound: Duration) -> PgJournal {
        self.reconnect_for = bound;
        for link in &self.link.links {
            link.set_bound(bound);
        }
        self
    }

    /// How many connections this worker's rows go over (default [`CONNECTIONS`], at least 1;
    /// its pace has one more): concurrent changes of rows share the database's flushes of its
    /// log across connections. Set it before the journal is used.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), herohealth_outbox::JournalError> {
    /// let journal = herohealth_outbox::PgJournal::connect("postgres://outbox@127.0.0.1/outbox")
    ///     .await?
    ///     .connections(2);
    /// # let _ = journal; Ok(()) }
    /// ```
    pub fn connections(mut self, n: usize) -> PgJournal {
        if let Some(pool) = Arc::get_mut(&mut self.link) {
            let first = &pool.links[0];
            let (target, bound) = (first.target().clone(), self.reconnect_for);
            pool.links.resize_with(n.max(1), || {
                Link::new(target.clone(), "rows", bound, DURABLE)
            });
        }
        self
    }

    /// Stops renewing this worker's leases: for tests of a worker that is only slow (its leases
    /// run out while it still holds their rows).
    #[doc(hidden)]
    pub fn without_heartbeat(self) -> PgJournal {
        *self.heartbeat.lock().unwrap_or_else(|e| e.into_inner()) = Heartbeat::Disabled;
        self
    }

    /// This worker's id in the journal ([`WorkerStatus::id`]).
    pub fn worker_id(&self) -> &str {
        &self.owner
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<(u64, u64), i64>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn scope(&self) -> std::sync::MutexGuard<'_, Scope> {
        self.scope.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn group(&self) -> Result<String, JournalError> {
        self.scope().group.clone().ok_or_else(|| {
            JournalError::Storage("the journal is not bound to a practice group".into())
        })
    }

    /// Starts renewing this worker's leases (once, on its first claim): a task on the caller's
    /// runtime, a third of the lease apart. It registers the worker first (its heartbeat).
    fn start_heartbeat(&self) {
        let mut heartbeat = self.heartbeat.lock().unwrap_or_else(|e| e.into_inner());
        if !matches!(*heartbeat, Heartbeat::Off) {
            return;
        }
        let (link, owner, lease) = (self.link.clone(), self.owner.clone(), self.lease);
        let task = tokio::spawn(async move {
            let mut failures = 0u32;
            loop {
                let renewed = link
                    .execute(
                        "renewing the leases",
                        "WITH worker AS (
                             INSERT INTO outbox_workers (id) VALUES ($1)
                             ON CONFLICT (id) DO UPDATE SET heartbeat_at = clock_timestamp())
                         UPDATE outbox_rows
                         SET lease_until = GREATEST(lease_until, clock_timestamp() + make_interval(secs => $2))
                         WHERE owner = $1 AND claimed AND lease_until >= clock_timestamp()",
                        &[
                            Param::Text(owner.clone()),
                            Param::Float8(lease.as_secs_f64()),
                        ],
                    )
                    .await;
                match renewed {
                    Ok(_) if failures > 0 => {
                        tracing::warn!(missed = failures, "outbox: the leases are renewed again");
                        failures = 0;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        failures += 1;
                        tracing::warn!(error = %e, "outbox: the leases could not be renewed");
                    }
                }
                tokio::time::sleep(lease / 3).await;
            }
        });
        *heartbeat = Heartbeat::Running(task.abort_handle());
    }
}

impl Journal for PgJournal {
    async fn bind(&self, group_key: &str) -> Result<(), JournalError> {
        self.scope().group = Some(group_key.to_owned());
        Ok(())
    }

    async fn open(&self, input: &Input) -> Result<(), JournalError> {
        let group = self.group()?;
        let fingerprint = input.fingerprint().to_owned();
        let mut patients = Vec::with_capacity(input.rows().len());
        let mut rows = Vec::with_capacity(input.rows().len());
        for row in input.rows() {
            patients.push(row.patient_id().to_owned());
            rows.push(crate::journal::to_json(row)?);
        }
        // The run and its rows in one statement; an input queued already (by this worker
        // earlier, or another) is found by its fingerprint.
        let created = self
            .link
            .query_within(
                "queuing the input",
                Duration::from_secs(300),
                "WITH run AS (
                     INSERT INTO outbox_runs (group_key, fingerprint, rows) VALUES ($1, $2, $3)
                     ON CONFLICT (group_key, fingerprint) DO NOTHING RETURNING id),
                 queued AS (
                     INSERT INTO outbox_rows (run_id, idx, group_key, patient_id, row, status, state)
                     SELECT run.id, r.n - 1, $1, r.patient_id, r.row, 'pending', $4
                     FROM run, unnest($5::text[], $6::text[]) WITH ORDINALITY AS r (patient_id, row, n))
                 SELECT id FROM run",
                &[
                    Param::Text(group.clone()),
                    Param::Text(fingerprint.clone()),
                    Param::Int8(input.rows().len() as i64),
                    Param::Text(crate::journal::to_json(&RowState::Pending)?),
                    Param::TextArray(patients),
                    Param::TextArray(rows),
                ],
            )
            .await?;
        let run = match created.first() {
            Some(r) => column::<i64>(r, 0, "id")?,
            None => {
                let found = self
                    .link
                    .query(
                        "finding the queued input",
                        "SELECT id FROM outbox_runs WHERE group_key = $1 AND fingerprint = $2",
                        &[Param::Text(group), Param::Text(fingerprint)],
                    )
                    .await?;
                column::<i64>(
                    found
                        .first()
                        .ok_or_else(|| JournalError::Storage("the queued input vanished".into()))?,
                    0,
                    "id",
                )?
            }
        };
        self.scope().run = Some(run);
        Ok(())
    }

    async fn entries(&self) -> Result<Vec<Entry>, JournalError> {
        let group = self.group()?;
        let run = self.scope().run.unwrap_or(-1);
        self.link
            .query(
                "reading the rows",
                "SELECT run_id, idx, row, state, sends FROM outbox_rows
                 WHERE group_key = $1 AND ($2 < 0 OR run_id = $2) ORDER BY run_id, idx",
                &[Param::Text(group), Param::Int8(run)],
            )
            .await?
            .iter()
            .map(entry_of)
            .collect()
    }

    async fn transition(
        &self,
        run: u64,
        index: u64,
        from: Status,
        to: &RowState,
    ) -> Result<(), JournalError> {
        let fence = *self
            .held()
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
            RowState::InFlight { attempt } => (attempt.deadline() - Utc::now())
                .to_std()
                .unwrap_or_default()
                .saturating_add(self.lease)
                .as_secs_f64(),
            _ => 0.0,
        };
        let claimed = !to.status().is_final();
        let state = crate::journal::to_json(to)?;
        // The change, and the row as it was before it: one statement. A row goes in flight only
        // while this worker's lease on it runs, durably.
        let rows = self
            .link
            .query(
                "changing a row",
                "WITH changed AS (
                     UPDATE outbox_rows SET status = $1, state = $2, sends = sends + $3,
                         updated_at = clock_timestamp(), claimed = $4,
                         waiting_since = CASE WHEN $1 = 'ambiguous' THEN coalesce(waiting_since, clock_timestamp()) END,
                         owner = CASE WHEN $4 THEN owner END,
                         lease_until = CASE WHEN $4 THEN GREATEST(lease_until, clock_timestamp() + make_interval(secs => $5)) END
                     WHERE run_id = $6 AND idx = $7 AND status = $8 AND fence = $9
                       AND ($1 <> 'in_flight' OR lease_until > clock_timestamp())
                     RETURNING 1)
                 SELECT (SELECT count(*) FROM changed), status, fence, state
                 FROM outbox_rows WHERE run_id = $6 AND idx = $7",
                &[
                    Param::Text(to.status().as_str().to_owned()),
                    Param::Text(state.clone()),
                    Param::Int4(sent),
                    Param::Bool(claimed),
                    Param::Float8(extend),
                    Param::Int8(run as i64),
                    Param::Int8(index as i64),
                    Param::Text(from.as_str().to_owned()),
                    Param::Int8(fence),
                ],
            )
            .await?;
        let Some(r) = rows.first() else {
            return Err(JournalError::Storage(format!(
                "no row {index} of run {run}"
            )));
        };
        let changed = column::<i64>(r, 0, "count")? == 1;
        let status: String = column(r, 1, "status")?;
        let found_fence: i64 = column(r, 2, "fence")?;
        let found_state: String = column(r, 3, "state")?;
        let done = changed
            // Run again after a lost connection: the first run had made the change.
            || (found_fence == fence && status == to.status().as_str() && found_state == state);
        if done {
            if !claimed {
                self.held().remove(&(run, index));
            }
            return Ok(());
        }
        if found_fence != fence || status == from.as_str() {
            // Taken over by another worker, or this worker's lease ran out: it keeps nothing.
            self.held().remove(&(run, index));
            return Err(JournalError::Fenced { index });
        }
        Err(JournalError::Conflict {
            index,
            expected: from,
            found: Status::parse(&status).ok_or_else(|| unreadable(run, index, "status"))?,
        })
    }

    async fn claim(&self, max: usize) -> Result<Vec<Entry>, JournalError> {
        let group = self.group()?;
        self.start_heartbeat();
        let max = i64::try_from(max.max(1)).unwrap_or(i64::MAX);
        // Rows to resolve first, then pending ones, oldest run first; a row another worker holds
        // is skipped unless its lease ran out; one row per patient, none of a patient with
        // another row held. Two workers claiming two rows of one patient at once: the unique
        // index refuses the second, whose claim is made again.
        for _ in 0..5 {
            let taken = self
                .link
                .pick()
                .run("claiming rows", link::STATEMENT_TIMEOUT, |client| {
                    let params = [
                        Param::Text(group.clone()),
                        Param::Text(self.owner.clone()),
                        Param::Int8(max.saturating_mul(2)),
                        Param::Int8(max),
                        Param::Float8(self.lease.as_secs_f64()),
                    ];
                    async move {
                        match client.query_typed(CLAIM, &link::typed(&params)).await {
                            Ok(rows) => Ok(Some(rows)),
                            Err(e)
                                if e.code()
                                    == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) =>
                            {
                                Ok(None)
                            }
                            Err(e) => Err(e),
                        }
                    }
                })
                .await?;
            let Some(rows) = taken else { continue };
            let mut claimed = Vec::with_capacity(rows.len());
            for r in &rows {
                claimed.push((entry_of(r)?, column::<i64>(r, 5, "fence")?));
            }
            claimed.sort_by_key(|(e, _)| (e.state.status() == Status::Pending, e.run, e.index));
            let mut held = self.held();
            return Ok(claimed
                .into_iter()
                .map(|(entry, fence)| {
                    held.insert((entry.run, entry.index), fence);
                    entry
                })
                .collect());
        }
        Ok(Vec::new())
    }

    async fn release(&self) -> Result<(), JournalError> {
        let fences: Vec<i64> = self.held().values().copied().collect();
        if fences.is_empty() {
            return Ok(());
        }
        self.link
            .execute(
                "giving rows back",
                "UPDATE outbox_rows SET claimed = false, owner = NULL, lease_until = NULL
                 WHERE owner = $1 AND fence = ANY($2) AND status = 'pending'",
                &[Param::Text(self.owner.clone()), Param::Int8Array(fences)],
            )
            .await?;
        // Rows in flight or unknown stay leased to this worker until the lease runs out; then
        // another resolves them.
        self.held().clear();
        Ok(())
    }

    async fn unfinished(&self) -> Result<usize, JournalError> {
        let group = self.group()?;
        let run = self.scope().run.unwrap_or(-1);
        let rows = self
            .link
            .query(
                "counting the rows left",
                "SELECT count(*) FROM outbox_rows
                 WHERE group_key = $1 AND ($2 < 0 OR run_id = $2)
                   AND status IN ('pending', 'in_flight', 'unknown')",
                &[Param::Text(group), Param::Int8(run)],
            )
            .await?;
        let n: i64 = rows
            .first()
            .map(|r| column(r, 0, "count"))
            .transpose()?
            .unwrap_or(0);
        Ok(n as usize)
    }

    async fn known_ids(&self) -> Result<Vec<String>, JournalError> {
        // Every send of the practice group, whichever run: never a candidate for another row.
        let group = self.group()?;
        let rows = self
            .link
            .query(
                "reading the sent rows' ids",
                "SELECT run_id, idx, row, state, sends FROM outbox_rows
                 WHERE group_key = $1 AND status IN ('sent', 'ambiguous')",
                &[Param::Text(group)],
            )
            .await?;
        let mut ids = Vec::new();
        for r in &rows {
            match entry_of(r)?.state {
                RowState::Sent { message_id } => ids.push(message_id),
                RowState::Ambiguous { message_ids, .. } => ids.extend(message_ids),
                _ => {}
            }
        }
        // And the candidates people decided on (a row sent again no longer names them).
        let decided = self
            .link
            .query(
                "reading the decisions' candidates",
                "SELECT d.id, d.run_id, d.idx, d.line, d.decision, d.decided_at
                 FROM outbox_decisions d JOIN outbox_runs r ON r.id = d.run_id
                 WHERE r.group_key = $1",
                &[Param::Text(self.group()?)],
            )
            .await?;
        for r in &decided {
            ids.extend(decision_of(r)?.candidates);
        }
        Ok(ids)
    }

    async fn shared_pace(
        &self,
        group: &str,
        rate: NonZeroU32,
    ) -> Result<Option<Pace>, JournalError> {
        let link = Link::new(self.link_target(), "pace", self.reconnect_for, DURABLE);
        link.open().await?;
        Ok(Some(Pace::with_store(
            rate.get(),
            pace::PgPaceStore {
                link,
                group: group.to_owned(),
            },
        )))
    }

    async fn runs(&self) -> Result<Vec<RunStatus>, JournalError> {
        let rows = self
            .link
            .query(
                "counting the runs' rows",
                "SELECT r.id, r.fingerprint, r.group_key, r.created_at, max(o.updated_at),
                        count(*) FILTER (WHERE o.status = 'pending'),
                        count(*) FILTER (WHERE o.status IN ('in_flight', 'unknown')),
                        count(*) FILTER (WHERE o.status = 'sent'),
                        count(*) FILTER (WHERE o.status = 'failed'),
                        count(*) FILTER (WHERE o.status = 'ambiguous'),
                        min(o.waiting_since) FILTER (WHERE o.status = 'ambiguous')
                 FROM outbox_runs r JOIN outbox_rows o ON o.run_id = r.id
                 GROUP BY r.id ORDER BY r.id",
                &[],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let count = |i| column::<i64>(r, i, "count").map(|n| n as usize);
                Ok(RunStatus {
                    run: column::<i64>(r, 0, "id")? as u64,
                    fingerprint: column(r, 1, "fingerprint")?,
                    group_key: Some(column(r, 2, "group_key")?),
                    created_at: Some(column::<DateTime<Utc>>(r, 3, "created_at")?),
                    last_activity: column::<Option<DateTime<Utc>>>(r, 4, "updated_at")?,
                    pending: count(5)?,
                    in_flight: count(6)?,
                    sent: count(7)?,
                    failed: count(8)?,
                    ambiguous: count(9)?,
                    waiting_since: column(r, 10, "waiting_since")?,
                })
            })
            .collect()
    }

    async fn to_decide(&self) -> Result<Vec<Entry>, JournalError> {
        self.link
            .query(
                "reading the rows to decide",
                "SELECT run_id, idx, row, state, sends FROM outbox_rows
                 WHERE status = 'ambiguous' ORDER BY run_id, idx",
                &[],
            )
            .await?
            .iter()
            .map(entry_of)
            .collect()
    }

    async fn workers(&self) -> Result<Vec<WorkerStatus>, JournalError> {
        let rows = self
            .link
            .query(
                "reading the workers",
                "SELECT w.id, w.started_at, w.heartbeat_at,
                        count(r.idx) FILTER (WHERE r.lease_until >= clock_timestamp()),
                        count(r.idx) FILTER (WHERE r.lease_until >= clock_timestamp()
                                               AND r.status IN ('in_flight', 'unknown')),
                        max(r.lease_until)
                 FROM outbox_workers w
                 LEFT JOIN outbox_rows r ON r.owner = w.id AND r.claimed
                 WHERE w.heartbeat_at > clock_timestamp() - interval '1 day' OR r.idx IS NOT NULL
                 GROUP BY w.id ORDER BY w.started_at, w.id",
                &[],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(WorkerStatus {
                    id: column(r, 0, "id")?,
                    started_at: column(r, 1, "started_at")?,
                    heartbeat_at: column(r, 2, "heartbeat_at")?,
                    held: column::<i64>(r, 3, "count")? as usize,
                    in_flight: column::<i64>(r, 4, "count")? as usize,
                    lease_until: column(r, 5, "lease_until")?,
                })
            })
            .collect()
    }

    /// Decides in two statements, each safe to run again after a lost connection: the row is
    /// read, then changed only if it still holds what was read (its candidates are the ones
    /// recorded), is ambiguous and held by no worker, together with the record (a token of this
    /// call finds a record the first run of the statement made).
    async fn decide(
        &self,
        run: u64,
        index: u64,
        decision: &Decision,
    ) -> Result<DecisionRecord, JournalError> {
        let token = crate::journal::decision_token();
        // A row changed between the read and the change (a worker finished it): read again.
        for _ in 0..3 {
            let rows = self
                .link
                .query(
                    "reading the row to decide",
                    "SELECT run_id, idx, row, state, sends,
                            claimed AND lease_until > clock_timestamp(),
                            (SELECT max(id) FROM outbox_decisions d WHERE d.run_id = $1 AND d.idx = $2),
                            (SELECT id FROM outbox_decisions d WHERE d.token = $3)
                     FROM outbox_rows WHERE run_id = $1 AND idx = $2",
                    &[
                        Param::Int8(run as i64),
                        Param::Int8(index as i64),
                        Param::Text(token.clone()),
                    ],
                )
                .await?;
            let Some(r) = rows.first() else {
                return Err(JournalError::Storage(format!(
                    "no row {index} of run {run}"
                )));
            };
            let entry = entry_of(r)?;
            let held: Option<bool> = column(r, 5, "lease_until")?;
            let decided: Option<i64> = column(r, 6, "id")?;
            if column::<Option<i64>>(r, 7, "id")?.is_some() {
                // This call's record, made by a statement whose answer was lost.
                return self.decision(&token).await;
            }
            let status = entry.state.status();
            let held = held.unwrap_or(false);
            if !crate::journal::decidable(status) || held {
                return Err(JournalError::NotDecidable {
                    run,
                    index,
                    found: status,
                    decided: decided.map(|id| id as u64),
                    held,
                });
            }
            if let Some(id) = decision.choice().message_id() {
                self.admissible(&entry, decision, id).await?;
            }
            let to = decision.choice().state();
            let stored = Stored::of(decision, &entry.state, token.clone());
            let recorded = self
                .link
                .query(
                    "recording the decision",
                    "WITH changed AS (
                         UPDATE outbox_rows SET status = $3, state = $4, updated_at = clock_timestamp(),
                             waiting_since = NULL, claimed = false, owner = NULL, lease_until = NULL
                         WHERE run_id = $1 AND idx = $2 AND status = 'ambiguous' AND state = $5
                           AND NOT (claimed AND lease_until > clock_timestamp())
                           AND NOT EXISTS (SELECT 1 FROM outbox_decisions WHERE token = $8)
                           AND NOT EXISTS (SELECT 1 FROM outbox_rows s WHERE s.status = 'sent' AND s.state = $4)
                         RETURNING run_id),
                     recorded AS (
                         INSERT INTO outbox_decisions (run_id, idx, line, decision, token)
                         SELECT $1, $2, NULLIF($6, -1), $7, $8 FROM changed
                         RETURNING id)
                     SELECT id FROM recorded
                     UNION ALL SELECT id FROM outbox_decisions WHERE token = $8",
                    &[
                        Param::Int8(run as i64),
                        Param::Int8(index as i64),
                        Param::Text(to.status().as_str().to_owned()),
                        Param::Text(crate::journal::to_json(&to)?),
                        Param::Text(crate::journal::to_json(&entry.state)?),
                        Param::Int8(entry.row.line().map_or(-1, |l| l as i64)),
                        Param::Text(crate::journal::to_json(&stored)?),
                        Param::Text(token.clone()),
                    ],
                )
                .await?;
            if !recorded.is_empty() {
                return self.decision(&token).await;
            }
        }
        Err(JournalError::Storage(
            "the row kept changing while it was being decided: nothing was decided".into(),
        ))
    }

    async fn decisions(&self) -> Result<Vec<DecisionRecord>, JournalError> {
        self.link
            .query(
                "reading the decisions",
                "SELECT id, run_id, idx, line, decision, decided_at FROM outbox_decisions ORDER BY id",
                &[],
            )
            .await?
            .iter()
            .map(decision_of)
            .collect()
    }
}

/// A row of `id, run_id, idx, line, decision, decided_at`.
fn decision_of(r: &Row) -> Result<DecisionRecord, JournalError> {
    let id = column::<i64>(r, 0, "id")? as u64;
    let run = column::<i64>(r, 1, "run_id")? as u64;
    let index = column::<i64>(r, 2, "idx")? as u64;
    let line = column::<Option<i64>>(r, 3, "line")?.map(|l| l as u64);
    let stored: Stored = r
        .try_get::<_, &str>(4)
        .ok()
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or(JournalError::Unreadable {
            run,
            index,
            line,
            column: "decision",
        })?;
    let at = column::<DateTime<Utc>>(r, 5, "decided_at")?;
    Ok(stored.record(id, run, index, line, at))
}

impl PgJournal {
    /// Refuses a decision of message `id` on `entry` that [`crate::journal::admissible`] does
    /// not allow, by the rows and decisions that may name it and the patient's unresolved rows.
    async fn admissible(
        &self,
        entry: &Entry,
        decision: &Decision,
        id: &str,
    ) -> Result<(), JournalError> {
        let (run, index) = (entry.run, entry.index);
        let params = [
            Param::Int8(run as i64),
            Param::Int8(index as i64),
            Param::Text(crate::journal::id_needle(id)),
        ];
        let others = self
            .link
            .query(
                "reading the rows that may name the message",
                "SELECT run_id, idx, row, state, sends FROM outbox_rows o
                 WHERE NOT (o.run_id = $1 AND o.idx = $2)
                   AND (strpos(o.state, $3) > 0
                        OR (o.status IN ('in_flight', 'unknown') AND EXISTS (
                            SELECT 1 FROM outbox_rows d WHERE d.run_id = $1 AND d.idx = $2
                              AND d.group_key = o.group_key AND d.patient_id = o.patient_id)))",
                &params,
            )
            .await?
            .iter()
            .map(entry_of)
            .collect::<Result<Vec<_>, _>>()?;
        let mut elsewhere = false;
        for r in self
            .link
            .query(
                "reading the decisions that may name the message",
                "SELECT id, run_id, idx, line, decision, decided_at FROM outbox_decisions
                 WHERE NOT (run_id = $1 AND idx = $2) AND strpos(decision, $3) > 0",
                &params,
            )
            .await?
            .iter()
        {
            let record = decision_of(r)?;
            elsewhere |= crate::journal::names(record.decision.choice(), &record.candidates, id);
        }
        crate::journal::admissible(decision, entry, &others, elsewhere)
            .map_err(|why| JournalError::Refused { run, index, why })
    }

    /// The decision recorded with `token`.
    async fn decision(&self, token: &str) -> Result<DecisionRecord, JournalError> {
        let rows = self
            .link
            .query(
                "reading the decision",
                "SELECT id, run_id, idx, line, decision, decided_at FROM outbox_decisions WHERE token = $1",
                &[Param::Text(token.to_owned())],
            )
            .await?;
        decision_of(
            rows.first()
                .ok_or_else(|| JournalError::Storage("the decision recorded vanished".into()))?,
        )
    }

    fn link_target(&self) -> tls::Target {
        self.link.links[0]
            .target()
            .clone()
            .named("pace", &self.owner)
    }
}

/// How many connections a worker's rows go over (and one more for its pace). Measured: one
/// connection waits for one flush of the database's log per statement; four let a worker's
/// concurrent changes share flushes (BENCHMARKS.md).
pub const CONNECTIONS: usize = 4;

/// A worker's rows' connections, each statement on the next.
struct Pool {
    links: Vec<Link>,
    next: AtomicUsize,
}

impl Pool {
    fn pick(&self) -> &Link {
        &self.links[self.next.fetch_add(1, Ordering::Relaxed) % self.links.len()]
    }

    async fn query(
        &self,
        what: &'static str,
        sql: &'static str,
        params: &[Param],
    ) -> Result<Vec<Row>, JournalError> {
        self.pick().query(what, sql, params).await
    }

    async fn query_within(
        &self,
        what: &'static str,
        timeout: Duration,
        sql: &'static str,
        params: &[Param],
    ) -> Result<Vec<Row>, JournalError> {
        self.pick().query_within(what, timeout, sql, params).await
    }

    async fn execute(
        &self,
        what: &'static str,
        sql: &'static str,
        params: &[Param],
    ) -> Result<u64, JournalError> {
        self.pick().execute(what, sql, params).await
    }
}

/// A connection whose commits are on disk before they return, whatever the server's default.
const DURABLE: &str = "SELECT set_config('synchronous_commit', 'on', false)
     WHERE current_setting('synchronous_commit') = 'off'";

/// The claim: candidates locked (`SKIP LOCKED`), one per patient, marked with this worker, a new
/// fencing token each and a lease; `$1` group, `$2` owner, `$3` candidates, `$4` rows, `$5`
/// lease in seconds.
const CLAIM: &str = "WITH candidates AS (
         SELECT c.run_id, c.idx, c.patient_id, c.status = 'pending' AS later
         FROM outbox_rows c
         WHERE c.group_key = $1 AND c.status IN ('pending', 'in_flight', 'unknown')
           AND (NOT c.claimed OR c.owner = $2 OR c.lease_until < clock_timestamp())
           AND NOT EXISTS (
               SELECT 1 FROM outbox_rows o
               WHERE o.claimed AND o.group_key = c.group_key AND o.patient_id = c.patient_id
                 AND (o.run_id, o.idx) <> (c.run_id, c.idx))
         ORDER BY (c.status = 'pending'), c.run_id, c.idx
         LIMIT $3
         FOR UPDATE OF c SKIP LOCKED),
     chosen AS (
         SELECT run_id, idx FROM (
             SELECT DISTINCT ON (patient_id) run_id, idx, later FROM candidates
             ORDER BY patient_id, later, run_id, idx) first_of_each
         ORDER BY later, run_id, idx
         LIMIT $4)
     UPDATE outbox_rows r
     SET claimed = true, owner = $2, fence = nextval('outbox_fence'),
         lease_until = GREATEST(r.lease_until, clock_timestamp() + make_interval(secs => $5))
     FROM chosen WHERE r.run_id = chosen.run_id AND r.idx = chosen.idx
     RETURNING r.run_id, r.idx, r.row, r.state, r.sends, r.fence";
