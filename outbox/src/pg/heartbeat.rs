//! The worker's heartbeat: its leases renewed, a third of the lease apart, while it runs.

use tokio::task::AbortHandle;

use super::{PgJournal, link::Param};

pub(super) enum Heartbeat {
    Off,
    Running(AbortHandle),
    /// Never started ([`PgJournal::without_heartbeat`]).
    Disabled,
}

impl PgJournal {
    /// Starts renewing this worker's leases (once, on its first claim): a task on the caller's
    /// runtime, a third of the lease apart. It registers the worker first (its heartbeat).
    pub(super) fn start_heartbeat(&self) {
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
