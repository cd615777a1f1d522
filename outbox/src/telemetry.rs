//! The outbox's spans (a run, each row's send, each row's resolution), carrying the run id and
//! the row's line and position, never a row's values; and (feature `metrics`) its measurements:
//! rows by status, the age of the oldest row waiting for a person, lease losses. Every value
//! recorded is a number or one of [`Status`]'s names.

use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use herohealth::FoundSend;
use tracing::{Span, field::Empty};

use crate::journal::{Entry, Status};

/// Every status, in one order (for the counts).
const STATUSES: [Status; 6] = [
    Status::Pending,
    Status::InFlight,
    Status::Sent,
    Status::Unknown,
    Status::Failed,
    Status::Ambiguous,
];

fn slot(status: Status) -> usize {
    STATUSES
        .iter()
        .position(|s| *s == status)
        .expect("every status is listed")
}

/// The span of a run (`Outbox::work`): the rows it found and how many were already final.
pub(crate) fn run_span(total: usize, done: usize) -> Span {
    tracing::info_span!(
        "herohealth.outbox.run",
        otel.name = "outbox run",
        herohealth.outbox.rows = total,
        herohealth.outbox.done = done,
    )
}

/// The span of one row's send: its run id, position and line, and the status it ended in.
pub(crate) fn row_span(entry: &Entry) -> Span {
    tracing::info_span!(
        "herohealth.outbox.row",
        otel.name = "outbox send row",
        herohealth.outbox.run = entry.run,
        herohealth.outbox.row = entry.index,
        herohealth.outbox.line = entry.row.line(),
        herohealth.outbox.row.status = Empty,
        error.type = Empty,
    )
}

/// The span of one row's resolution (a send whose outcome was unknown, looked for): its run id,
/// position and line, and what the lookup found.
pub(crate) fn resolve_span(entry: &Entry) -> Span {
    tracing::info_span!(
        "herohealth.outbox.resolve",
        otel.name = "outbox resolve row",
        herohealth.outbox.run = entry.run,
        herohealth.outbox.row = entry.index,
        herohealth.outbox.line = entry.row.line(),
        herohealth.outbox.found = Empty,
    )
}

/// Records the status a row's send ended in on its span.
pub(crate) fn row_ended(span: &Span, status: Option<Status>) {
    match status {
        Some(status) => span.record("herohealth.outbox.row.status", status.as_str()),
        None => span.record("error.type", "journal"),
    };
}

/// Records what a lookup found on the resolution span.
pub(crate) fn found(span: &Span, found: &FoundSend) {
    span.record(
        "herohealth.outbox.found",
        match found {
            FoundSend::Sent { .. } => "sent",
            FoundSend::NotSent => "not_sent",
            FoundSend::Ambiguous { .. } => "ambiguous",
            _ => "unknown",
        },
    );
}

/// The rows by status as this process sees them: the journal's counts when a run starts, then
/// each transition it makes (`herohealth.outbox.rows`, a gauge per status).
#[derive(Debug, Default)]
pub(crate) struct Tally {
    counts: Mutex<[i64; 6]>,
}

impl Tally {
    /// Starts again from the journal's rows.
    pub(crate) fn reset(&self, entries: &[Entry]) {
        let mut counts = self.counts.lock().expect("tally lock");
        *counts = [0; 6];
        for e in entries {
            counts[slot(e.state.status())] += 1;
        }
        for status in STATUSES {
            metrics::rows(status, counts[slot(status)]);
        }
    }

    /// A row went from `from` to `to`.
    pub(crate) fn moved(&self, from: Status, to: Status) {
        if from == to {
            return;
        }
        let mut counts = self.counts.lock().expect("tally lock");
        counts[slot(from)] = (counts[slot(from)] - 1).max(0);
        counts[slot(to)] += 1;
        metrics::rows(from, counts[slot(from)]);
        metrics::rows(to, counts[slot(to)]);
    }
}

/// Since when the oldest row of the outbox's practice group has waited for a person (ambiguous),
/// as last read from the journal ([`crate::RunStatus::waiting_since`]); with the feature
/// `metrics`, the gauge `herohealth.outbox.waiting.age` observes its age at each collection
/// ([`herohealth::now`] on the clock of the runtime the outbox works on, whichever thread
/// collects), and 0 when no row waits.
#[derive(Debug, Default)]
pub(crate) struct Waiting {
    since: Arc<Mutex<Option<DateTime<Utc>>>>,
    /// The gauge is registered once, on the meter provider installed when the outbox first
    /// works; it observes nothing once the outbox is gone.
    registered: OnceLock<()>,
    /// When the journal was last read for it (tokio's clock).
    read_at: Mutex<Option<tokio::time::Instant>>,
}

/// How long a reading of the oldest waiting row is used before the journal is read again (a
/// person may have decided meanwhile, elsewhere).
const WAITING_READ: std::time::Duration = std::time::Duration::from_secs(10);

impl Waiting {
    /// Whether anything is measured (the feature `metrics`): without it the journal is never
    /// read for this.
    pub(crate) const MEASURED: bool = cfg!(feature = "metrics");

    /// Registers the gauge (the first time).
    pub(crate) fn register(&self) {
        self.registered
            .get_or_init(|| metrics::waiting_age(Arc::downgrade(&self.since)));
    }

    /// Whether the last reading is older than [`WAITING_READ`] (or there is none).
    pub(crate) fn stale(&self) -> bool {
        self.read_at
            .lock()
            .expect("waiting lock")
            .is_none_or(|at| at.elapsed() >= WAITING_READ)
    }

    /// The journal's runs of this outbox's practice group were read: keeps their oldest.
    pub(crate) fn read(&self, runs: &[crate::RunStatus], group: &str) {
        let oldest = runs
            .iter()
            .filter(|r| r.group_key.as_deref().is_none_or(|g| g == group))
            .filter_map(|r| r.waiting_since)
            .min();
        *self.since.lock().expect("waiting lock") = oldest;
        *self.read_at.lock().expect("waiting lock") = Some(tokio::time::Instant::now());
    }
}

/// The age of the oldest waiting row, in seconds, at `now` (0 when none waits, or when the
/// journal's clock is ahead of this one).
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
fn age(since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> f64 {
    since.map_or(0.0, |since| {
        (now - since).to_std().map_or(0.0, |d| d.as_secs_f64())
    })
}

/// A row's lease was lost to another worker (`herohealth.outbox.lease.losses`).
pub(crate) fn lease_lost() {
    metrics::lease_lost();
}

#[cfg(feature = "metrics")]
mod metrics {
    use std::sync::{Mutex, Weak};

    use chrono::{DateTime, Utc};
    use opentelemetry::{KeyValue, global};

    use crate::journal::Status;

    pub(super) fn rows(status: Status, count: i64) {
        global::meter("herohealth_outbox")
            .i64_gauge("herohealth.outbox.rows")
            .with_unit("{row}")
            .with_description("Rows by status, as this process sees the journal")
            .build()
            .record(
                count,
                &[KeyValue::new(
                    "herohealth.outbox.row.status",
                    status.as_str(),
                )],
            );
    }

    /// The gauge of the oldest waiting row's age, observing `since` while it lives.
    pub(super) fn waiting_age(since: Weak<Mutex<Option<DateTime<Utc>>>>) {
        // The clock is the outbox's runtime's (`register` runs inside its work; a collection
        // runs on the reader's thread).
        let runtime = tokio::runtime::Handle::try_current().ok();
        // The instrument lives as long as the meter provider: its handle is not needed.
        let _gauge = global::meter("herohealth_outbox")
            .f64_observable_gauge("herohealth.outbox.waiting.age")
            .with_unit("s")
            .with_description(
                "Age of the oldest row waiting for a person (ambiguous); 0 when none waits",
            )
            .with_callback(move |observer| {
                if let Some(since) = since.upgrade() {
                    let since = *since.lock().unwrap_or_else(|e| e.into_inner());
                    let _clock = runtime.as_ref().map(|r| r.enter());
                    observer.observe(super::age(since, herohealth::now()), &[]);
                }
            })
            .build();
    }

    pub(super) fn lease_lost() {
        global::meter("herohealth_outbox")
            .u64_counter("herohealth.outbox.lease.losses")
            .with_unit("{row}")
            .with_description("Rows another worker took over (this worker's lease was lost)")
            .build()
            .add(1, &[]);
    }
}

#[cfg(not(feature = "metrics"))]
mod metrics {
    use chrono::{DateTime, Utc};

    use crate::journal::Status;

    pub(super) fn rows(_: Status, _: i64) {}
    pub(super) fn waiting_age(_: std::sync::Weak<std::sync::Mutex<Option<DateTime<Utc>>>>) {}
    pub(super) fn lease_lost() {}
}
