//! A worker's connections for its rows: several [`Link`]s, each statement on the next.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use tokio_postgres::Row;

use super::link::{Link, Param};
use crate::journal::JournalError;

/// How many connections a worker's rows go over (and one more for its pace). Measured: one
/// connection waits for one flush of the database's log per statement; four let a worker's
/// concurrent changes share flushes (BENCHMARKS.md).
pub const CONNECTIONS: usize = 4;

/// A worker's rows' connections, each statement on the next.
pub(super) struct Pool {
    pub(super) links: Vec<Link>,
    pub(super) next: AtomicUsize,
}

impl Pool {
    pub(super) fn pick(&self) -> &Link {
        &self.links[self.next.fetch_add(1, Ordering::Relaxed) % self.links.len()]
    }

    pub(super) async fn query(
        &self,
        what: &'static str,
        sql: &'static str,
        params: &[Param],
    ) -> Result<Vec<Row>, JournalError> {
        self.pick().query(what, sql, params).await
    }

    pub(super) async fn query_within(
        &self,
        what: &'static str,
        timeout: Duration,
        sql: &'static str,
        params: &[Param],
    ) -> Result<Vec<Row>, JournalError> {
        self.pick().query_within(what, timeout, sql, params).await
    }

    pub(super) async fn execute(
        &self,
        what: &'static str,
        sql: &'static str,
        params: &[Param],
    ) -> Result<u64, JournalError> {
        self.pick().execute(what, sql, params).await
    }
}

/// A connection whose commits are on disk before they return, whatever the server's default.
pub(super) const DURABLE: &str = "SELECT set_config('synchronous_commit', 'on', false)
     WHERE current_setting('synchronous_commit') = 'off'";
