//! A change of a row in PostgreSQL: a compare-and-set on its state and fencing token.

use chrono::Utc;

use super::{
    PgJournal,
    link::Param,
    read::{column, unreadable},
};
use crate::journal::{JournalError, RowState, Status};

impl PgJournal {
    /// A change of a row: a compare-and-set on its state and this worker's fencing token, safe
    /// to run again (see `super`).
    pub(super) async fn change_row(
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
}
