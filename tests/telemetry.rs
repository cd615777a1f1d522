//! Telemetry through the OpenTelemetry SDK's in-memory exporters, the way a user wires it: the
//! client's `tracing` spans through `tracing-opentelemetry`, and (feature `metrics`) its
//! measurements on the global meter provider. Each scenario (a send, a retried 429, a send whose
//! outcome is unknown, a page of a list with a patient's name in its query) checks the spans'
//! names and attributes, and that no seeded datum appears in any span name, attribute, event or
//! metric attribute.

mod support;

use std::{
    collections::BTreeMap,
    sync::{Mutex, MutexGuard},
    time::Duration,
};

use herohealth::{HeroClient, MessageType};
use herohealth_mock::{Fault, FaultRule, MockServer};
use opentelemetry::{KeyValue, trace::SpanKind, trace::TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_subscriber::{filter::Targets, layer::SubscriberExt};

/// Patient data of this file's own: names, an NHS number, contact details, message text, a
/// patient id. None may appear in any telemetry.
const SEEDED: &[&str] = &[
    "Zelda",
    "Quixote-Fairweather",
    "Zelda Quixote-Fairweather",
    "9434765919",
    "+447700900123",
    "07700900123",
    "zelda.qf@example.org",
    "HIV result ready SECRET-7781",
    "SECRET-7781",
    "88231457",
];

/// One scenario at a time: the meter provider is the process's (global), so two scenarios
/// measuring at once would count each other's calls.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// What a scenario recorded.
struct Recorded {
    spans: Vec<SpanData>,
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    metrics: Vec<MetricPoint>,
}

/// One data point of one metric: its name, attributes and value (a histogram's count).
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
struct MetricPoint {
    name: String,
    attributes: BTreeMap<String, String>,
    value: f64,
}

/// Runs `scenario` on a runtime of its own with the client's spans exported to memory, and
/// returns what it recorded (spans, and metrics with the feature).
fn record<F>(scenario: impl FnOnce() -> F) -> Recorded
where
    F: Future<Output = ()>,
{
    let _one: MutexGuard<'_, ()> = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    metrics::drain();
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    // The client's targets only: the mock server in this process has its own.
    let subscriber = tracing_subscriber::registry().with(
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("test"))
            .with_filter(
                Targets::new()
                    .with_target("herohealth", tracing::Level::TRACE)
                    .with_target(
                        "herohealth_mock",
                        tracing_subscriber::filter::LevelFilter::OFF,
                    ),
            ),
    );
    {
        let _default = tracing::subscriber::set_default(subscriber);
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(scenario());
    }
    provider.force_flush().unwrap();
    Recorded {
        spans: exporter.get_finished_spans().unwrap(),
        metrics: metrics::drain(),
    }
}

use tracing_subscriber::Layer as _;

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.as_str().into_owned())
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    let mut found: Vec<&SpanData> = spans.iter().filter(|s| s.name == name).collect();
    found.sort_by_key(|s| s.start_time);
    found
}

/// Every text telemetry holds: span names, attribute keys and values, event names and their
/// attributes, status descriptions, metric names and attributes.
fn every_text(recorded: &Recorded) -> Vec<String> {
    let mut out = Vec::new();
    let kvs = |out: &mut Vec<String>, kvs: &[KeyValue]| {
        for kv in kvs {
            out.push(kv.key.as_str().to_owned());
            out.push(kv.value.as_str().into_owned());
        }
    };
    for s in &recorded.spans {
        out.push(s.name.to_string());
        kvs(&mut out, &s.attributes);
        for e in s.events.iter() {
            out.push(e.name.to_string());
            kvs(&mut out, &e.attributes);
        }
        if let opentelemetry::trace::Status::Error { description } = &s.status {
            out.push(description.to_string());
        }
    }
    for m in &recorded.metrics {
        out.push(m.name.clone());
        for (k, v) in &m.attributes {
            out.push(k.clone());
            out.push(v.clone());
        }
    }
    out
}

/// Fails naming the datum and the text it was found in.
fn assert_no_patient_data(recorded: &Recorded, also: &[String]) {
    let texts = every_text(recorded);
    assert!(!texts.is_empty());
    for datum in SEEDED
        .iter()
        .map(|s| s.to_string())
        .chain(also.iter().cloned())
    {
        let datum = datum.to_lowercase();
        for text in &texts {
            assert!(
                !text.to_lowercase().contains(&datum),
                "a seeded datum is in the telemetry: {text:?}"
            );
        }
    }
}

async fn mock_with(rules: Vec<FaultRule>) -> (MockServer, HeroClient) {
    support::mock_with_timeout(rules, support::quick_retries(), Duration::from_millis(2000)).await
}

async fn send(hero: &HeroClient) -> herohealth::Result<()> {
    hero.send_message()
        .body_map(|b| {
            b.patient_id("88231457")
                .message_type(MessageType::Sms)
                .recipient_contact_detail("+447700900123")
                .message_string("HIV result ready SECRET-7781")
        })
        .send()
        .await
        .map(|_| ())
}

/// The values the mock seeded (its patients' ids, contact details and texts): none may show.
fn mock_data(mock: &MockServer) -> Vec<String> {
    mock.sent_messages()
        .into_iter()
        .flat_map(|m| [m.patient_id, m.recipient_contact_detail, m.text])
        .filter(|v| v.len() >= 4)
        .collect()
}

/// The attributes every span of a call and an attempt of `send_message` carries.
fn assert_send_attributes(span: &SpanData, port: u16) {
    assert_eq!(
        attr(span, "herohealth.operation").as_deref(),
        Some("send_message")
    );
    assert_eq!(attr(span, "http.request.method").as_deref(), Some("POST"));
    assert_eq!(
        attr(span, "url.template").as_deref(),
        Some("/v1/messages/send")
    );
    assert_eq!(attr(span, "server.address").as_deref(), Some("127.0.0.1"));
    assert_eq!(attr(span, "server.port"), Some(port.to_string()));
    assert_eq!(attr(span, "url.full"), None);
    assert_eq!(attr(span, "url.query"), None);
}

#[test]
fn a_send_is_a_call_span_with_one_attempt_span() {
    let mut data = Vec::new();
    let mut port = 0;
    let recorded = record(|| async {
        let (mock, hero) = mock_with(vec![]).await;
        port = mock.addr().port();
        send(&hero).await.unwrap();
        data = mock_data(&mock);
    });
    let calls = named(&recorded.spans, "send_message");
    let attempts = named(&recorded.spans, "POST /v1/messages/send");
    assert_eq!(
        (calls.len(), attempts.len()),
        (1, 1),
        "{:#?}",
        recorded.spans
    );
    let (call, attempt) = (calls[0], attempts[0]);
    assert_send_attributes(call, port);
    assert_send_attributes(attempt, port);
    assert_eq!(call.span_kind, SpanKind::Internal);
    assert_eq!(attempt.span_kind, SpanKind::Client);
    assert_eq!(attempt.parent_span_id, call.span_context.span_id());
    assert_eq!(
        attr(call, "herohealth.send.outcome").as_deref(),
        Some("sent")
    );
    assert_eq!(attr(call, "herohealth.attempts").as_deref(), Some("1"));
    let status = attr(attempt, "http.response.status_code").unwrap();
    assert!(status.starts_with('2'), "{status}");
    assert_eq!(attr(call, "http.response.status_code"), Some(status));
    assert_eq!(attr(attempt, "http.request.resend_count"), None);
    assert_eq!(attr(attempt, "error.type"), None);
    assert_eq!(attr(call, "error.type"), None);
    assert_no_patient_data(&recorded, &data);
    metrics::assert_send(&recorded, "sent", 1);
}

#[test]
fn a_retried_429_is_two_attempts_the_second_a_resend() {
    let mut data = Vec::new();
    let recorded = record(|| async {
        let (mock, hero) = mock_with(vec![
            FaultRule::new(
                "send_message",
                Fault::RateLimited {
                    retry_after: Some(0),
                },
            )
            .first(1),
        ])
        .await;
        send(&hero).await.unwrap();
        assert_eq!(mock.calls("send_message"), 2);
        data = mock_data(&mock);
    });
    let calls = named(&recorded.spans, "send_message");
    let attempts = named(&recorded.spans, "POST /v1/messages/send");
    assert_eq!(
        (calls.len(), attempts.len()),
        (1, 2),
        "{:#?}",
        recorded.spans
    );
    assert_eq!(attr(calls[0], "herohealth.attempts").as_deref(), Some("2"));
    assert_eq!(
        attr(calls[0], "herohealth.send.outcome").as_deref(),
        Some("sent")
    );
    let (first, second) = (attempts[0], attempts[1]);
    assert_eq!(
        attr(first, "http.response.status_code").as_deref(),
        Some("429")
    );
    assert_eq!(attr(first, "error.type").as_deref(), Some("429"));
    assert!(matches!(
        first.status,
        opentelemetry::trace::Status::Error { .. }
    ));
    assert_eq!(attr(first, "http.request.resend_count"), None);
    assert_eq!(
        attr(second, "http.request.resend_count").as_deref(),
        Some("1")
    );
    assert_eq!(attr(second, "error.type"), None);
    for a in [first, second] {
        assert_eq!(a.parent_span_id, calls[0].span_context.span_id());
    }
    assert_no_patient_data(&recorded, &data);
    metrics::assert_retried_429(&recorded);
}

#[test]
fn a_send_whose_outcome_is_unknown_says_so() {
    let mut data = Vec::new();
    let recorded = record(|| async {
        let (mock, hero) = mock_with(vec![FaultRule::new(
            "send_message",
            Fault::ResetAfterProcessing,
        )])
        .await;
        let err = send(&hero).await.unwrap_err();
        assert!(err.may_have_been_sent());
        data = mock_data(&mock);
    });
    let calls = named(&recorded.spans, "send_message");
    let attempts = named(&recorded.spans, "POST /v1/messages/send");
    assert_eq!(
        (calls.len(), attempts.len()),
        (1, 1),
        "{:#?}",
        recorded.spans
    );
    let call = calls[0];
    assert_eq!(
        attr(call, "herohealth.send.outcome").as_deref(),
        Some("outcome_unknown")
    );
    assert_eq!(attr(call, "error.type").as_deref(), Some("connection"));
    assert_eq!(
        attr(attempts[0], "error.type").as_deref(),
        Some("connection")
    );
    assert_eq!(attr(attempts[0], "http.response.status_code"), None);
    assert!(matches!(
        call.status,
        opentelemetry::trace::Status::Error { .. }
    ));
    assert_no_patient_data(&recorded, &data);
    metrics::assert_send(&recorded, "outcome_unknown", 1);
}

#[test]
fn a_refused_send_has_a_call_span_and_no_attempt() {
    let recorded = record(|| async {
        let (_mock, hero) = mock_with(vec![]).await;
        let err = hero
            .send_message()
            .body_map(|b| {
                b.patient_id("88231457")
                    .message_type(MessageType::Sms)
                    .message_string("")
            })
            .send()
            .await
            .unwrap_err();
        assert!(!err.may_have_been_sent());
    });
    let calls = named(&recorded.spans, "send_message");
    assert_eq!(calls.len(), 1, "{:#?}", recorded.spans);
    assert!(named(&recorded.spans, "POST /v1/messages/send").is_empty());
    assert_eq!(
        attr(calls[0], "herohealth.send.outcome").as_deref(),
        Some("refused")
    );
    assert_eq!(
        attr(calls[0], "error.type").as_deref(),
        Some("invalid_request")
    );
    assert_no_patient_data(&recorded, &[]);
    metrics::assert_send(&recorded, "refused", 1);
}

#[test]
fn a_list_with_a_patients_name_in_its_query_records_only_the_template() {
    let mut data = Vec::new();
    let recorded = record(|| async {
        let (mock, hero) = mock_with(vec![]).await;
        let page = hero
            .list_sent_messages()
            .patient_first_name("Zelda")
            .patient_last_name("Quixote-Fairweather")
            .patient_full_name("Zelda Quixote-Fairweather")
            .patient_id("88231457")
            .recipient_contact_detail("zelda.qf@example.org")
            .send()
            .await;
        assert!(page.is_ok(), "{page:?}");
        // And a page of everything the mock holds: its rows are patient data too.
        let all = hero.list_sent_messages().send().await.unwrap().into_inner();
        data = all
            .data
            .iter()
            .map(|m| m.recipient_contact_detail.expose().to_owned())
            .chain(mock_data(&mock))
            .filter(|v| v.len() >= 4)
            .collect();
        assert!(!data.is_empty());
    });
    let calls = named(&recorded.spans, "list_sent_messages");
    let attempts = named(&recorded.spans, "GET /v2/sent_messages");
    assert_eq!(
        (calls.len(), attempts.len()),
        (2, 2),
        "{:#?}",
        recorded.spans
    );
    for span in calls.iter().chain(&attempts) {
        assert_eq!(
            attr(span, "url.template").as_deref(),
            Some("/v2/sent_messages")
        );
        assert_eq!(attr(span, "http.request.method").as_deref(), Some("GET"));
        // A read has no send outcome.
        assert_eq!(attr(span, "herohealth.send.outcome"), None);
    }
    assert_no_patient_data(&recorded, &data);
}

#[cfg(feature = "metrics")]
mod metrics {
    use std::{collections::BTreeMap, sync::OnceLock};

    use opentelemetry_sdk::metrics::{
        InMemoryMetricExporter, InMemoryMetricExporterBuilder, PeriodicReader, SdkMeterProvider,
        Temporality,
        data::{AggregatedMetrics, MetricData},
    };

    use super::{MetricPoint, Recorded};

    /// The process's meter provider: installed once, read by every scenario (one at a time).
    fn installed() -> &'static (SdkMeterProvider, InMemoryMetricExporter) {
        static PROVIDER: OnceLock<(SdkMeterProvider, InMemoryMetricExporter)> = OnceLock::new();
        PROVIDER.get_or_init(|| {
            let exporter = InMemoryMetricExporterBuilder::new()
                .with_temporality(Temporality::Delta)
                .build();
            let provider = SdkMeterProvider::builder()
                .with_reader(PeriodicReader::builder(exporter.clone()).build())
                .build();
            opentelemetry::global::set_meter_provider(provider.clone());
            (provider, exporter)
        })
    }

    /// What was measured since the last drain.
    pub(super) fn drain() -> Vec<MetricPoint> {
        let (provider, exporter) = installed();
        provider.force_flush().unwrap();
        let mut out = Vec::new();
        for rm in exporter.get_finished_metrics().unwrap() {
            for sm in rm.scope_metrics() {
                for m in sm.metrics() {
                    let mut push = |attrs: Vec<&opentelemetry::KeyValue>, value: f64| {
                        let attributes: BTreeMap<String, String> = attrs
                            .into_iter()
                            .map(|kv| (kv.key.to_string(), kv.value.as_str().into_owned()))
                            .collect();
                        out.push(MetricPoint {
                            name: m.name().to_owned(),
                            attributes,
                            value,
                        });
                    };
                    match m.data() {
                        AggregatedMetrics::U64(MetricData::Sum(s)) => {
                            for p in s.data_points() {
                                push(p.attributes().collect(), p.value() as f64);
                            }
                        }
                        AggregatedMetrics::U64(MetricData::Gauge(g)) => {
                            for p in g.data_points() {
                                push(p.attributes().collect(), p.value() as f64);
                            }
                        }
                        AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                            for p in h.data_points() {
                                push(p.attributes().collect(), p.count() as f64);
                            }
                        }
                        other => panic!("an unexpected kind of metric: {other:?}"),
                    }
                }
            }
        }
        exporter.reset();
        out
    }

    fn total(recorded: &Recorded, name: &str, with: &[(&str, &str)]) -> f64 {
        recorded
            .metrics
            .iter()
            .filter(|p| p.name == name)
            .filter(|p| {
                with.iter()
                    .all(|(k, v)| p.attributes.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|p| p.value)
            .sum()
    }

    pub(super) fn assert_send(recorded: &Recorded, outcome: &str, count: u64) {
        let with = [
            ("herohealth.operation", "send_message"),
            ("herohealth.send.outcome", outcome),
        ];
        assert_eq!(
            total(recorded, "herohealth.client.sends", &with),
            count as f64,
            "{:#?}",
            recorded.metrics
        );
        // Every attribute of every metric comes from a declared set.
        for p in &recorded.metrics {
            for (k, v) in &p.attributes {
                let declared: &[&str] = match k.as_str() {
                    "herohealth.operation" => &[],
                    "http.request.method" => &["GET", "POST", "PATCH", "PUT", "DELETE"],
                    "url.template" => &[],
                    "herohealth.status_class" => &["1xx", "2xx", "3xx", "4xx", "5xx", "other"],
                    "herohealth.send.outcome" => {
                        &["sent", "refused", "outcome_unknown", "accepted"]
                    }
                    "error.type" => &[
                        "invalid_request",
                        "auth",
                        "validation",
                        "not_found",
                        "conflict",
                        "rate_limited",
                        "server",
                        "timeout",
                        "connection",
                        "decode",
                        "unexpected_status",
                        "pace",
                    ],
                    other => panic!("an undeclared metric attribute {other}"),
                };
                match k.as_str() {
                    "herohealth.operation" => assert!(
                        herohealth::spec::OPERATIONS.iter().any(|o| o.id == v),
                        "{v}"
                    ),
                    "url.template" => assert!(
                        herohealth::spec::OPERATIONS.iter().any(|o| o.path == v),
                        "{v}"
                    ),
                    _ => assert!(declared.contains(&v.as_str()), "{k}={v}"),
                }
            }
        }
        if outcome != "refused" {
            assert!(
                total(
                    recorded,
                    "http.client.request.duration",
                    &[("herohealth.operation", "send_message")]
                ) >= 1.0,
                "{:#?}",
                recorded.metrics
            );
        }
    }

    pub(super) fn assert_retried_429(recorded: &Recorded) {
        assert_send(recorded, "sent", 1);
        let op = [("herohealth.operation", "send_message")];
        assert_eq!(total(recorded, "herohealth.client.retries", &op), 1.0);
        assert_eq!(total(recorded, "herohealth.client.rate_limited", &op), 1.0);
        let durations = "http.client.request.duration";
        assert_eq!(total(recorded, durations, &op), 2.0);
        let limited = [
            ("herohealth.operation", "send_message"),
            ("herohealth.status_class", "4xx"),
            ("error.type", "rate_limited"),
        ];
        assert_eq!(total(recorded, durations, &limited), 1.0);
    }
}

/// Without the `metrics` feature nothing is measured, and nothing is asserted of metrics.
#[cfg(not(feature = "metrics"))]
mod metrics {
    use super::{MetricPoint, Recorded};

    pub(super) fn drain() -> Vec<MetricPoint> {
        Vec::new()
    }
    pub(super) fn assert_send(_: &Recorded, _: &str, _: u64) {}
    pub(super) fn assert_retried_429(_: &Recorded) {}
}
