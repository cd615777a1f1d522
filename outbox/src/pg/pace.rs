//! A practice group's pace schedule in PostgreSQL: one row per group (a GCRA theoretical arrival
//! time), advanced in one statement by every worker, on a connection of its own (a slot's round
//! trip is not queued behind the rows' statements: the slot is placed by it). A lost connection
//! is connected again within the journal's bound; past it the pace fails, and the outbox stops
//! sending: never a pace of one process alone.

use std::time::Duration;

use herohealth::{PaceFuture, PaceStore, PaceStoreError};

use super::link::{Link, Param};

pub(super) struct PgPaceStore {
    pub(super) link: Link,
    pub(super) group: String,
}

/// Seconds (from the database) as a duration: negative is zero, too large is saturated.
fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::MAX)
}

impl PgPaceStore {
    fn advance(&self, what: &'static str, sql: &'static str, secs: f64) -> PaceFuture<'_, f64> {
        let params = [Param::Text(self.group.clone()), Param::Float8(secs)];
        Box::pin(async move {
            let rows = self
                .link
                .query(what, sql, &params)
                .await
                .map_err(|e| PaceStoreError(e.to_string()))?;
            rows.first()
                .and_then(|r| r.try_get::<_, f64>(0).ok())
                .ok_or_else(|| PaceStoreError("the pace's schedule answered no slot".into()))
        })
    }
}

impl PaceStore for PgPaceStore {
    fn reserve(&self, interval: Duration) -> PaceFuture<'_, Duration> {
        let run = self.advance(
            "taking the pace's next slot",
            "INSERT INTO outbox_pace (group_key, tat) VALUES ($1, clock_timestamp() + make_interval(secs => $2))
             ON CONFLICT (group_key) DO UPDATE
                 SET tat = GREATEST(outbox_pace.tat, clock_timestamp()) + make_interval(secs => $2)
             RETURNING EXTRACT(EPOCH FROM (tat - make_interval(secs => $2) - clock_timestamp()))::float8",
            interval.as_secs_f64().min(86_400.0),
        );
        Box::pin(async move { Ok(seconds(run.await?)) })
    }

    fn pause(&self, pause: Duration) -> PaceFuture<'_, ()> {
        let run = self.advance(
            "pausing the pace",
            "INSERT INTO outbox_pace (group_key, tat) VALUES ($1, clock_timestamp() + make_interval(secs => $2))
             ON CONFLICT (group_key) DO UPDATE
                 SET tat = GREATEST(outbox_pace.tat, clock_timestamp() + make_interval(secs => $2))
             RETURNING 0::float8",
            pause.as_secs_f64().min(86_400.0),
        );
        Box::pin(async move { run.await.map(|_| ()) })
    }
}
