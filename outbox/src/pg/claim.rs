//! Claiming rows in PostgreSQL: candidates locked, one per patient, leased to this worker with a
//! new fencing token each.

use super::{
    PgJournal,
    link::{self, Param},
    read::{column, entry_of},
};
use crate::journal::{Entry, JournalError, Status};

impl PgJournal {
    /// Claims up to `max` rows for this worker (see [`CLAIM`]).
    pub(super) async fn claim_rows(&self, max: usize) -> Result<Vec<Entry>, JournalError> {
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
}

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
