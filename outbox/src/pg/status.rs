//! What the journal in PostgreSQL says of itself: its runs, the rows a person must decide, and
//! its workers.

use chrono::{DateTime, Utc};

use super::{
    PgJournal,
    read::{column, entry_of},
};
use crate::journal::{Entry, JournalError, RunStatus, WorkerStatus};

impl PgJournal {
    pub(super) async fn run_statuses(&self) -> Result<Vec<RunStatus>, JournalError> {
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

    pub(super) async fn rows_to_decide(&self) -> Result<Vec<Entry>, JournalError> {
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

    pub(super) async fn worker_statuses(&self) -> Result<Vec<WorkerStatus>, JournalError> {
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
}
