//! `-v` and `-vv`: the client's logs on stderr, the HTTP stack's never.

use std::io::IsTerminal;

/// Logs at `verbosity` (the count of `-v`) to stderr; nothing when it is 0.
pub(crate) fn init(verbosity: u8) {
    if verbosity == 0 {
        return;
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter(verbosity))
        .with_writer(std::io::stderr)
        // Colour only on a terminal: not into a log file or a pipe.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
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
