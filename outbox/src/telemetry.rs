//! The outbox's spans (a run, each row's send, each row's resolution), carrying the run id and
//! the row's line and position, never a row's values; and (feature `metrics`) its measurements:
//! rows by status, lease losses. Every value recorded is a number or one of [`Status`]'s names.

use std::sync::Mutex;

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

/// A row's lease was lost to another worker (`herohealth.outbox.lease.losses`).
pub(crate) fn lease_lost() {
    metrics::lease_lost();
}

#[cfg(feature = "metrics")]
mod metrics {
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
    use crate::journal::Status;

    pub(super) fn rows(_: Status, _: i64) {}
    pub(super) fn lease_lost() {}
}
