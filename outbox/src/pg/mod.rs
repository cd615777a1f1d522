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
    sync::{Arc, Mutex, atomic::AtomicUsize},
    time::Duration,
};

use herohealth::Pace;

use crate::{
    journal::{
        Decision, DecisionRecord, Entry, Journal, JournalError, RowState, RunStatus, Status,
        WorkerStatus,
    },
    row::Input,
};

mod claim;
mod decide;
mod heartbeat;
mod link;
mod pace;
mod pool;
mod read;
mod schema;
mod status;
mod tls;
mod transition;

use decide::decision_of;
use heartbeat::Heartbeat;
use link::{Link, Param};
pub use pool::CONNECTIONS;
use pool::{DURABLE, Pool};
use read::{column, entry_of};
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
        self.change_row(run, index, from, to).await
    }

    async fn claim(&self, max: usize) -> Result<Vec<Entry>, JournalError> {
        self.claim_rows(max).await
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
        self.run_statuses().await
    }

    async fn to_decide(&self) -> Result<Vec<Entry>, JournalError> {
        self.rows_to_decide().await
    }

    async fn workers(&self) -> Result<Vec<WorkerStatus>, JournalError> {
        self.worker_statuses().await
    }

    /// Decides in two statements, each safe to run again after a lost connection (see
    /// `decide.rs`).
    async fn decide(
        &self,
        run: u64,
        index: u64,
        decision: &Decision,
    ) -> Result<DecisionRecord, JournalError> {
        self.decide_row(run, index, decision).await
    }

    async fn decisions(&self) -> Result<Vec<DecisionRecord>, JournalError> {
        self.read_decisions().await
    }
}

impl PgJournal {
    fn link_target(&self) -> tls::Target {
        self.link.links[0]
            .target()
            .clone()
            .named("pace", &self.owner)
    }
}
