//! What an operations team sees of the client: a `tracing` span per operation call and per
//! attempt, named and attributed by OpenTelemetry's HTTP client semantic conventions, and (feature
//! `metrics`) measurements through the `opentelemetry` metrics API. The guide's telemetry page
//! lists every span, metric and attribute.
//!
//! Safe by construction: every value recorded comes from the API description (the operation id,
//! its method and path template), the client's configuration (the server's address and port), a
//! status code, a count, a duration or one of the crate's own enums ([`SendOutcome`], the error
//! kinds). Nothing of a request (its URL, query, headers, body) or of an answer (its body, its
//! headers) is ever handed to a span or a metric: there is no parameter here that could carry it.

use std::time::Duration;

use reqwest::StatusCode;
use tracing::{Span, field::Empty};

use crate::{
    api::spec::Operation,
    error::{Error, ErrorKind, WasSent},
    response::Response,
};

/// What came of a call of an operation that changes state (a send): the attribute
/// `herohealth.send.outcome` and the metric `herohealth.client.sends`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendOutcome {
    /// Hero answered 2xx and the answer was read.
    Sent,
    /// Nothing was carried out ([`WasSent::NotSent`]): refused before it was written, never
    /// reached Hero, or refused by Hero with a status that means it was not processed.
    Refused,
    /// It may have gone ([`WasSent::MayHaveArrived`]): look before sending again.
    OutcomeUnknown,
    /// Hero answered 2xx but the answer could not be used ([`WasSent::Accepted`]): it went.
    Accepted,
}

impl SendOutcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Refused => "refused",
            Self::OutcomeUnknown => "outcome_unknown",
            Self::Accepted => "accepted",
        }
    }

    fn of(result: Result<(), &Error>) -> Self {
        match result.map_err(Error::was_sent) {
            Ok(()) => Self::Sent,
            Err(WasSent::NotSent) => Self::Refused,
            Err(WasSent::MayHaveArrived) => Self::OutcomeUnknown,
            Err(WasSent::Accepted) => Self::Accepted,
        }
    }
}

/// An error kind as a low-cardinality `error.type` value.
pub(crate) fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidConfig => "invalid_config",
        ErrorKind::InvalidRequest => "invalid_request",
        ErrorKind::Auth => "auth",
        ErrorKind::Validation => "validation",
        ErrorKind::NotFound => "not_found",
        ErrorKind::Conflict => "conflict",
        ErrorKind::RateLimited => "rate_limited",
        ErrorKind::Server => "server",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Connection => "connection",
        ErrorKind::Decode => "decode",
        ErrorKind::UnexpectedStatus => "unexpected_status",
        ErrorKind::WaitDeadline => "wait_deadline",
        ErrorKind::DeliveryFailed => "delivery_failed",
        ErrorKind::Pace => "pace",
    }
}

/// The server's host and port from the client's base URL (never its path or query).
fn server(url: Option<&reqwest::Url>) -> (Option<&str>, Option<u16>) {
    match url {
        Some(url) => (url.host_str(), url.port_or_known_default()),
        None => (None, None),
    }
}

/// The span of one call of `op` (span name: the operation id), entered around the whole call:
/// its checks, its attempts and the waits between them, and reading the answer. `url` is only
/// read for its host and port.
pub(crate) fn call_span(op: &'static Operation, url: Option<&reqwest::Url>) -> Span {
    let (address, port) = server(url);
    tracing::info_span!(
        "herohealth.call",
        otel.name = op.id,
        otel.kind = "internal",
        otel.status_code = Empty,
        herohealth.operation = op.id,
        http.request.method = op.method,
        url.template = op.path,
        server.address = address,
        server.port = port,
        http.response.status_code = Empty,
        error.type = Empty,
        herohealth.send.outcome = Empty,
        herohealth.attempts = Empty,
    )
}

/// Records how the call ended on its span (and counts a send).
pub(crate) fn call_ended<T>(
    span: &Span,
    op: &'static Operation,
    result: &crate::Result<Response<T>>,
) {
    let (status, error) = match result {
        Ok(response) => (Some(response.status()), None),
        Err(e) => (e.status(), Some(e)),
    };
    if let Some(status) = status {
        span.record("http.response.status_code", status.as_u16());
    }
    if let Some(e) = error {
        span.record("error.type", kind_name(e.kind()));
        span.record("otel.status_code", "error");
    }
    if op.changes_state() {
        let outcome = SendOutcome::of(error.map_or(Ok(()), Err));
        span.record("herohealth.send.outcome", outcome.as_str());
        metrics::send(op, outcome);
    }
}

/// Records the number of attempts written on the current (call) span.
pub(crate) fn attempts(count: u32) {
    Span::current().record("herohealth.attempts", count);
}

/// The span of one attempt of `op` (span name `{method} {url.template}`, kind client), entered
/// around writing the request and reading the answer's head. `attempt` counts from 1.
pub(crate) fn attempt_span(op: &'static Operation, url: &reqwest::Url, attempt: u32) -> Span {
    let (address, port) = server(Some(url));
    let resends = attempt.saturating_sub(1);
    tracing::info_span!(
        "herohealth.attempt",
        otel.name = %format_args!("{} {}", op.method, op.path),
        otel.kind = "client",
        otel.status_code = Empty,
        herohealth.operation = op.id,
        http.request.method = op.method,
        url.template = op.path,
        server.address = address,
        server.port = port,
        http.request.resend_count = (resends > 0).then_some(resends),
        http.response.status_code = Empty,
        error.type = Empty,
    )
}

/// Records how an attempt ended on its span (its status, or the kind of its transport failure),
/// and measures it.
pub(crate) fn attempt_ended(
    span: &Span,
    op: &'static Operation,
    result: Result<StatusCode, ErrorKind>,
    took: Duration,
) {
    let (status, error) = match result {
        Ok(status) => {
            span.record("http.response.status_code", status.as_u16());
            if status.as_u16() >= 400 {
                // The semantic conventions' `error.type` for an error status: the status code.
                span.record("error.type", status.as_str());
                span.record("otel.status_code", "error");
            }
            (Some(status), None)
        }
        Err(kind) => {
            span.record("error.type", kind_name(kind));
            span.record("otel.status_code", "error");
            (None, Some(kind))
        }
    };
    metrics::attempt(op, status, error, took);
}

/// Counts a retry of `op` (an attempt about to be written again).
pub(crate) fn retried(op: &'static Operation) {
    metrics::retry(op);
}

/// Measures the wait for the client's pace before an attempt of `op` (the client's own attempts,
/// and a caller's that paces them itself: [`crate::Pace::wait_for`]).
pub(crate) fn paced(op: &'static Operation, waited: Duration) {
    metrics::pace_wait(op, waited);
}

/// Counts a webhook delivery's verification by its result.
pub(crate) fn webhook_verified(result: &'static str) {
    metrics::webhook(result);
}

/// A status as its class (`2xx`), for metrics: bounded whatever the server answers.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        5 => "5xx",
        _ => "other",
    }
}

/// The measurements, through the global meter provider the application installed (read at each
/// measurement, so that a provider installed after a client was built is used all the same).
#[cfg(feature = "metrics")]
mod metrics {
    use std::time::Duration;

    use opentelemetry::{KeyValue, global, metrics::Meter};
    use reqwest::StatusCode;

    use super::{SendOutcome, kind_name, status_class};
    use crate::{api::spec::Operation, error::ErrorKind};

    /// The semantic conventions' advice for `http.client.request.duration`.
    const DURATION_BOUNDARIES: &[f64] = &[
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    ];

    fn meter() -> Meter {
        global::meter("herohealth")
    }

    fn operation(op: &Operation) -> KeyValue {
        KeyValue::new("herohealth.operation", op.id)
    }

    pub(super) fn send(op: &'static Operation, outcome: SendOutcome) {
        meter()
            .u64_counter("herohealth.client.sends")
            .with_unit("{send}")
            .with_description("Calls of the operations that change state, by outcome")
            .build()
            .add(
                1,
                &[
                    operation(op),
                    KeyValue::new("herohealth.send.outcome", outcome.as_str()),
                ],
            );
    }

    pub(super) fn attempt(
        op: &'static Operation,
        status: Option<StatusCode>,
        error: Option<ErrorKind>,
        took: Duration,
    ) {
        let meter = meter();
        let mut attributes = vec![
            operation(op),
            KeyValue::new("http.request.method", op.method),
            KeyValue::new("url.template", op.path),
        ];
        if let Some(status) = status {
            attributes.push(KeyValue::new(
                "herohealth.status_class",
                status_class(status),
            ));
            if status == StatusCode::TOO_MANY_REQUESTS {
                meter
                    .u64_counter("herohealth.client.rate_limited")
                    .with_unit("{response}")
                    .with_description("Answers 429 (Hero's rate limit)")
                    .build()
                    .add(1, &[operation(op)]);
            }
            if status.as_u16() >= 400 {
                let kind = crate::Error::kind_of_status(status.as_u16());
                attributes.push(KeyValue::new("error.type", kind_name(kind)));
            }
        }
        if let Some(kind) = error {
            attributes.push(KeyValue::new("error.type", kind_name(kind)));
        }
        meter
            .f64_histogram("http.client.request.duration")
            .with_unit("s")
            .with_description("Duration of HTTP client requests (one per attempt)")
            .with_boundaries(DURATION_BOUNDARIES.to_vec())
            .build()
            .record(took.as_secs_f64(), &attributes);
    }

    pub(super) fn retry(op: &'static Operation) {
        meter()
            .u64_counter("herohealth.client.retries")
            .with_unit("{retry}")
            .with_description("Attempts written again by the retry policy")
            .build()
            .add(1, &[operation(op)]);
    }

    pub(super) fn pace_wait(op: &'static Operation, waited: Duration) {
        meter()
            .f64_histogram("herohealth.client.pace.wait.duration")
            .with_unit("s")
            .with_description("Time an attempt waited for the client's pace")
            .with_boundaries(super::metrics::DURATION_BOUNDARIES.to_vec())
            .build()
            .record(waited.as_secs_f64(), &[operation(op)]);
    }

    pub(super) fn webhook(result: &'static str) {
        meter()
            .u64_counter("herohealth.webhook.verifications")
            .with_unit("{delivery}")
            .with_description("Webhook deliveries verified, by result")
            .build()
            .add(1, &[KeyValue::new("herohealth.webhook.result", result)]);
    }
}

/// Without the `metrics` feature: nothing is measured.
#[cfg(not(feature = "metrics"))]
mod metrics {
    use std::time::Duration;

    use reqwest::StatusCode;

    use super::SendOutcome;
    use crate::{api::spec::Operation, error::ErrorKind};

    pub(super) fn send(_: &'static Operation, _: SendOutcome) {}
    pub(super) fn attempt(
        _: &'static Operation,
        _: Option<StatusCode>,
        _: Option<ErrorKind>,
        _: Duration,
    ) {
    }
    pub(super) fn retry(_: &'static Operation) {}
    pub(super) fn pace_wait(_: &'static Operation, _: Duration) {}
    pub(super) fn webhook(_: &'static str) {}
}
