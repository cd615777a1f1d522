//! `-v` and `-vv`: the client's logs on stderr, the HTTP stack's never.

use std::io::IsTerminal;

use tracing_subscriber::{Layer, layer::SubscriberExt, util::SubscriberInitExt};

/// Logs at `verbosity` (the count of `-v`) to stderr, nothing when it is 0; and the spans to
/// `otel`'s exporter when there is one.
pub(crate) fn init(verbosity: u8, otel: Option<&crate::telemetry::Otel>) {
    let spans = otel.and_then(|o| o.layer());
    if verbosity == 0 && spans.is_none() {
        return;
    }
    let logs = (verbosity > 0).then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            // Colour only on a terminal: not into a log file or a pipe.
            .with_ansi(std::io::stderr().is_terminal())
            .with_filter(filter(verbosity))
    });
    tracing_subscriber::registry().with(logs).with(spans).init();
}

/// The log filter of `-v` (1) and `-vv` (2): the crate's own targets, with every library below
/// that logs what passes through it (the HTTP stack, the PostgreSQL driver) capped as
/// `herohealth::log_directives` caps it: no frame, header, URL or statement parameter reaches
/// stderr.
fn filter(verbosity: u8) -> tracing_subscriber::EnvFilter {
    let ours = match verbosity {
        0 | 1 => "herohealth=debug,herohealth_outbox=info",
        _ => "herohealth=trace,herohealth_outbox=debug,herohealth_mock=info",
    };
    tracing_subscriber::EnvFilter::new(herohealth::log_directives(ours))
}
