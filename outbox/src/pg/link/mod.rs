//! One connection to PostgreSQL that heals: [`Link`] runs each statement, and when the
//! connection is lost (a restart, a failover, `pg_terminate_backend`, a statement without an
//! answer) connects again with backoff and runs the statement again, for at most the journal's
//! bound ([`JournalError::Unreachable`] past it). Every value handed to the driver is a
//! [`Param`], whose `Debug` (what the driver logs) shows its kind only.
//!
//! A statement run again after its connection was lost may have committed the first time: each
//! of the journal's statements is written so that a second run does no harm (see `super`).

use std::{
    fmt,
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::{sync::Mutex, task::AbortHandle, time::Instant};
use tokio_postgres::{Client, NoTls, Row};

use super::tls::Target;
use crate::journal::JournalError;

mod failure;
mod param;

pub(crate) use failure::pg_error;
use failure::{connect_failure, is_lost, may_pass, reason};
pub(crate) use param::{Param, typed};

/// How long a statement may go without an answer before its connection counts as lost.
pub(crate) const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection's driving task, aborted when the connection is replaced or dropped.
struct Conn {
    client: Arc<Client>,
    task: AbortHandle,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn connect(target: &Target) -> Result<Conn, (bool, String)> {
    let attempt = async {
        match &target.tls {
            None => {
                let (client, connection) = target.config.connect(NoTls).await?;
                Ok((client, tokio::spawn(drive(connection)).abort_handle()))
            }
            Some(tls) => {
                let (client, connection) = target.config.connect(tls.clone()).await?;
                Ok((client, tokio::spawn(drive(connection)).abort_handle()))
            }
        }
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
        Ok(Ok((client, task))) => Ok(Conn {
            client: Arc::new(client),
            task,
        }),
        Ok(Err(e)) => Err((may_pass(&e), connect_failure(&e, target.mode))),
        Err(_) => Err((true, "connecting timed out".into())),
    }
}

async fn drive<S, T>(connection: tokio_postgres::Connection<S, T>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    // Its error reaches the client's calls (a closed connection); its text is not kept.
    if connection.await.is_err() {
        tracing::debug!("outbox: a PostgreSQL connection ended");
    }
}

/// The current connection and, while there is none, since when and why.
struct State {
    conn: Option<Conn>,
    down_since: Option<Instant>,
    last: String,
}

/// One connection to the journal's database that connects again when lost (see the module).
pub(crate) struct Link {
    target: Target,
    /// `rows` or `pace`: named in the logs.
    name: &'static str,
    /// How long the connection may stay lost, in milliseconds.
    bound_ms: AtomicU64,
    /// Run on each new connection before anything else (its session's settings).
    on_connect: &'static str,
    state: Mutex<State>,
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Link {
    /// A link that connects on first use, and runs `on_connect` (SQL without values) on each
    /// new connection first.
    pub(crate) fn new(
        target: Target,
        name: &'static str,
        bound: Duration,
        on_connect: &'static str,
    ) -> Link {
        Link {
            target,
            name,
            bound_ms: AtomicU64::new(u64::try_from(bound.as_millis()).unwrap_or(u64::MAX)),
            on_connect,
            state: Mutex::new(State {
                conn: None,
                down_since: None,
                last: String::new(),
            }),
        }
    }

    /// Connects now: a failure that may pass (the server restarting) is tried again with backoff
    /// within the bound; one that will not (a password, TLS) fails at once.
    pub(crate) async fn open(&self) -> Result<(), JournalError> {
        self.client().await.map(drop)
    }

    /// Where it connects.
    pub(crate) fn target(&self) -> &Target {
        &self.target
    }

    /// Sets how long the connection may stay lost before every call fails.
    pub(crate) fn set_bound(&self, bound: Duration) {
        self.bound_ms.store(
            u64::try_from(bound.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    fn bound(&self) -> Duration {
        Duration::from_millis(self.bound_ms.load(Ordering::Relaxed))
    }

    /// The connection, connecting (again) first when there is none: with backoff, for at most
    /// the bound since it was lost.
    async fn client(&self) -> Result<Arc<Client>, JournalError> {
        let mut st = self.state.lock().await;
        if let Some(c) = &st.conn {
            if !c.client.is_closed() {
                return Ok(c.client.clone());
            }
            st.conn = None;
            st.last = "the connection was closed".into();
        }
        let since = *st.down_since.get_or_insert_with(Instant::now);
        let mut delay = Duration::from_millis(50);
        let mut tries = 0u32;
        loop {
            tries += 1;
            let connected = match connect(&self.target).await {
                Ok(conn) if self.on_connect.is_empty() => Ok(conn),
                Ok(conn) => match conn.client.batch_execute(self.on_connect).await {
                    Ok(()) => Ok(conn),
                    Err(e) => Err((is_lost(&e), reason(&e))),
                },
                Err(e) => Err(e),
            };
            match connected {
                Ok(conn) => {
                    if tries > 1 || since.elapsed() > Duration::from_millis(500) {
                        tracing::warn!(
                            link = self.name,
                            after_ms = since.elapsed().as_millis() as u64,
                            "outbox: connected to the journal's database again"
                        );
                    }
                    let client = conn.client.clone();
                    st.conn = Some(conn);
                    return Ok(client);
                }
                Err((false, why)) => {
                    return Err(JournalError::Config(format!(
                        "connecting to PostgreSQL: {why}"
                    )));
                }
                Err((true, why)) => {
                    let bound = self.bound();
                    let elapsed = since.elapsed();
                    if elapsed >= bound {
                        tracing::error!(
                            link = self.name,
                            secs = elapsed.as_secs(),
                            reason = why.as_str(),
                            "outbox: the journal's database could not be reached: giving up"
                        );
                        st.last = why.clone();
                        return Err(JournalError::Unreachable {
                            secs: elapsed.as_secs(),
                            what: why,
                        });
                    }
                    if tries == 1 {
                        tracing::warn!(
                            link = self.name,
                            reason = why.as_str(),
                            "outbox: cannot reach the journal's database: trying again"
                        );
                    }
                    st.last = why;
                    let jitter = 0.75 + fastrand::f64() / 2.0;
                    let wait = delay.mul_f64(jitter).min(bound - elapsed);
                    tokio::time::sleep(wait).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    /// The connection `client` was lost: the next call connects again.
    async fn lost(&self, client: &Arc<Client>, why: String) {
        let mut st = self.state.lock().await;
        if st
            .conn
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(&c.client, client))
        {
            tracing::warn!(
                link = self.name,
                reason = why.as_str(),
                "outbox: the connection to the journal's database was lost: connecting again"
            );
            st.conn = None;
            st.down_since.get_or_insert_with(Instant::now);
            st.last = why;
        }
    }

    /// A statement succeeded: the connection is up.
    async fn up(&self) {
        let mut st = self.state.lock().await;
        st.down_since = None;
    }

    /// Runs `f` on the connection (again on a new one when it is lost, within the bound); each
    /// attempt may take `timeout` at most before its connection counts as lost.
    pub(crate) async fn run<T, F, Fut>(
        &self,
        what: &'static str,
        timeout: Duration,
        f: F,
    ) -> Result<T, JournalError>
    where
        F: Fn(Arc<Client>) -> Fut,
        Fut: Future<Output = Result<T, tokio_postgres::Error>>,
    {
        loop {
            let client = self.client().await?;
            match tokio::time::timeout(timeout, f(client.clone())).await {
                Ok(Ok(v)) => {
                    self.up().await;
                    return Ok(v);
                }
                Ok(Err(e)) if is_lost(&e) => self.lost(&client, reason(&e)).await,
                Ok(Err(e)) => return Err(pg_error(what, &e)),
                Err(_) => {
                    self.lost(&client, format!("no answer within {} s", timeout.as_secs()))
                        .await
                }
            }
        }
    }

    /// Runs one statement with `params` (masked), returning its rows.
    pub(crate) async fn query(
        &self,
        what: &'static str,
        sql: &'static str,
        params: &[Param],
    ) -> Result<Vec<Row>, JournalError> {
        self.query_within(what, STATEMENT_TIMEOUT, sql, params)
            .await
    }

    /// [`query`](Self::query) with its own timeout.
    pub(crate) async fn query_within(
        &self,
        what: &'static str,
        timeout: Duration,
        sql: &'static str,
        params: &[Param],
    ) -> Result<Vec<Row>, JournalError> {
        self.run(what, timeout, |client| {
            let params = params.to_vec();
            async move { client.query_typed(sql, &typed(&params)).await }
        })
        .await
    }

    /// Runs one statement with `params` (masked), returning how many rows it changed.
    pub(crate) async fn execute(
        &self,
        what: &'static str,
        sql: &'static str,
        params: &[Param],
    ) -> Result<u64, JournalError> {
        self.run(what, STATEMENT_TIMEOUT, |client| {
            let params = params.to_vec();
            async move { client.execute_typed(sql, &typed(&params)).await }
        })
        .await
    }
}
