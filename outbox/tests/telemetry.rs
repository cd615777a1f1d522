//! An outbox run's telemetry through the OpenTelemetry SDK's in-memory exporters: its run span,
//! a span per row sent and per row resolved, with the run id and the row's line and nothing of
//! the row's values; the client's call spans under them; and (feature `metrics`) the rows by
//! status.

use std::time::Duration;

use herohealth::FindOptions;
use herohealth_mock::{Fault, FaultRule, MockServer};
use herohealth_outbox::{Input, Options, Outbox, SqliteJournal};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_subscriber::{Layer as _, filter::Targets, layer::SubscriberExt};

/// The rows' patient data: none may appear in any telemetry.
const SEEDED: &[&str] = &[
    "88231457",
    "88231458",
    "88231459",
    "HIV result ready SECRET-7781",
    "SECRET-7781",
    "Flu jab for Zelda",
    "Zelda",
];

const CSV: &str = "patient_id,type,text\n\
88231457,sms,HIV result ready SECRET-7781\n\
88231458,sms,Flu jab for Zelda\n\
88231459,sms,HIV result ready SECRET-7781\n";

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.as_str().into_owned())
}

/// The tests here install the global meter provider: one at a time.
static GLOBAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn an_outbox_run_is_a_run_span_with_row_and_resolution_spans() {
    let _one = GLOBAL.lock().unwrap_or_else(|e| e.into_inner());
    #[cfg(feature = "metrics")]
    let (meter, metrics) = {
        let exporter = opentelemetry_sdk::metrics::InMemoryMetricExporter::default();
        let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
            .with_reader(
                opentelemetry_sdk::metrics::PeriodicReader::builder(exporter.clone()).build(),
            )
            .build();
        opentelemetry::global::set_meter_provider(provider.clone());
        (provider, exporter)
    };
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry().with(
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("test"))
            .with_filter(
                Targets::new()
                    .with_target("herohealth", tracing::Level::TRACE)
                    .with_target("herohealth_mock", tracing::level_filters::LevelFilter::OFF),
            ),
    );
    {
        let _default = tracing::subscriber::set_default(subscriber);
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let mock = MockServer::start().await;
                // The second send is processed, then its connection lost: resolved by a lookup.
                mock.inject(FaultRule::new("send_message", Fault::ResetAfterProcessing).nth(2));
                let options = Options::default().concurrency(1).rate(None).find(
                    FindOptions::default()
                        .list_delay(Duration::from_millis(20))
                        .looks(2),
                );
                let outbox =
                    Outbox::new(mock.client(), SqliteJournal::in_memory().unwrap(), options);
                let input = Input::from_csv(CSV.as_bytes()).unwrap();
                let summary = outbox.run(&input, |_| {}).await.unwrap();
                assert!(summary.all_sent(), "{summary:?}");
                assert_eq!(mock.processed("send_message"), 3);
            });
    }
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    let named =
        |name: &str| -> Vec<&SpanData> { spans.iter().filter(|s| s.name == name).collect() };

    let runs = named("outbox run");
    assert_eq!(runs.len(), 1, "{spans:#?}");
    assert_eq!(
        attr(runs[0], "herohealth.outbox.rows").as_deref(),
        Some("3")
    );
    assert_eq!(
        attr(runs[0], "herohealth.outbox.done").as_deref(),
        Some("0")
    );

    let rows = named("outbox send row");
    assert_eq!(rows.len(), 3, "{spans:#?}");
    let mut lines: Vec<(String, String, String)> = rows
        .iter()
        .map(|s| {
            assert_eq!(attr(s, "herohealth.outbox.run").as_deref(), Some("0"));
            assert_eq!(s.parent_span_id, runs[0].span_context.span_id());
            (
                attr(s, "herohealth.outbox.line").unwrap(),
                attr(s, "herohealth.outbox.row").unwrap(),
                attr(s, "herohealth.outbox.row.status").unwrap(),
            )
        })
        .collect();
    lines.sort();
    let expected = |l: &str, r: &str, s: &str| (l.to_owned(), r.to_owned(), s.to_owned());
    assert_eq!(
        lines,
        vec![
            expected("2", "0", "sent"),
            expected("3", "1", "unknown"),
            expected("4", "2", "sent"),
        ]
    );
    // Each row's send call is a child of its row span.
    let sends = named("send_message");
    assert_eq!(sends.len(), 3);
    for send in &sends {
        assert!(
            rows.iter()
                .any(|r| r.span_context.span_id() == send.parent_span_id)
        );
    }

    let resolved = named("outbox resolve row");
    assert_eq!(resolved.len(), 1, "{spans:#?}");
    assert_eq!(
        attr(resolved[0], "herohealth.outbox.line").as_deref(),
        Some("3")
    );
    assert_eq!(
        attr(resolved[0], "herohealth.outbox.found").as_deref(),
        Some("sent")
    );
    // The lookup's list calls are its children: the template only.
    let lists = named("list_sent_messages");
    assert!(!lists.is_empty());
    for list in &lists {
        assert_eq!(list.parent_span_id, resolved[0].span_context.span_id());
        assert_eq!(
            attr(list, "url.template").as_deref(),
            Some("/v2/sent_messages")
        );
    }

    // No row value anywhere: span names, attributes, events.
    for s in &spans {
        let mut texts = vec![s.name.to_string()];
        for kv in s
            .attributes
            .iter()
            .chain(s.events.iter().flat_map(|e| e.attributes.iter()))
        {
            texts.push(kv.value.as_str().into_owned());
        }
        texts.extend(s.events.iter().map(|e| e.name.to_string()));
        for text in texts {
            for datum in SEEDED {
                assert!(
                    !text.contains(datum),
                    "{datum} in {text:?} of span {}",
                    s.name
                );
            }
        }
    }

    #[cfg(feature = "metrics")]
    {
        use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
        meter.force_flush().unwrap();
        let mut rows_by_status = std::collections::BTreeMap::new();
        for rm in metrics.get_finished_metrics().unwrap() {
            for sm in rm.scope_metrics() {
                for m in sm.metrics() {
                    if m.name() != "herohealth.outbox.rows" {
                        continue;
                    }
                    let AggregatedMetrics::I64(MetricData::Gauge(g)) = m.data() else {
                        panic!("{:?}", m.data())
                    };
                    for p in g.data_points() {
                        let status = p.attributes().next().unwrap().value.as_str().into_owned();
                        assert!(
                            herohealth_outbox::Status::parse(&status).is_some(),
                            "{status}"
                        );
                        rows_by_status.insert(status, p.value());
                    }
                }
            }
        }
        assert_eq!(rows_by_status.get("sent"), Some(&3), "{rows_by_status:?}");
        assert_eq!(
            rows_by_status.get("pending"),
            Some(&0),
            "{rows_by_status:?}"
        );
        assert_eq!(
            rows_by_status.get("unknown"),
            Some(&0),
            "{rows_by_status:?}"
        );

        // The pace waits: the outbox's own before each send (it paces its sends itself) and the
        // lookup's list calls, in the client's one histogram, by operation.
        let mut waits = std::collections::BTreeMap::new();
        let last = metrics.get_finished_metrics().unwrap().pop().unwrap();
        for sm in last.scope_metrics() {
            for m in sm.metrics() {
                if m.name() != "herohealth.client.pace.wait.duration" {
                    continue;
                }
                let AggregatedMetrics::F64(MetricData::Histogram(h)) = m.data() else {
                    panic!("{:?}", m.data())
                };
                for p in h.data_points() {
                    let op = p.attributes().next().unwrap().value.as_str().into_owned();
                    waits.insert(op, p.count());
                }
            }
        }
        assert_eq!(waits.get("send_message"), Some(&3), "{waits:?}");
        assert!(
            waits.get("list_sent_messages").is_some_and(|n| *n >= 1),
            "{waits:?}"
        );
    }
}

/// `herohealth.outbox.waiting.age`: the age of the oldest row waiting for a person, by a clock
/// the test owns (tokio's, paused): 90 s after the row became ambiguous, and 0 once it is
/// decided and the outbox has looked again.
#[cfg(feature = "metrics")]
#[test]
fn the_oldest_row_waiting_for_a_person_is_measured_by_its_age() {
    use herohealth_outbox::{Choice, Decision, Journal, RowState, Status};
    use opentelemetry_sdk::metrics::{
        InMemoryMetricExporter, PeriodicReader, SdkMeterProvider,
        data::{AggregatedMetrics, MetricData},
    };

    let _one = GLOBAL.lock().unwrap_or_else(|e| e.into_inner());
    let exporter = InMemoryMetricExporter::default();
    let provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    opentelemetry::global::set_meter_provider(provider.clone());
    // The gauge's reading at a collection now.
    let age = || -> Option<f64> {
        provider.force_flush().unwrap();
        let last = exporter.get_finished_metrics().unwrap().pop()?;
        let mut seen = None;
        for sm in last.scope_metrics() {
            for m in sm.metrics() {
                if m.name() != "herohealth.outbox.waiting.age" {
                    continue;
                }
                let AggregatedMetrics::F64(MetricData::Gauge(g)) = m.data() else {
                    panic!("{:?}", m.data())
                };
                let points: Vec<_> = g.data_points().collect();
                if points.is_empty() {
                    continue;
                }
                assert_eq!(points.len(), 1, "one reading, no attributes");
                assert_eq!(points[0].attributes().count(), 0);
                seen = Some(points[0].value());
            }
        }
        seen
    };
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(async {
            let mock = MockServer::start().await;
            let journal = SqliteJournal::in_memory().unwrap();
            let input = Input::from_csv(CSV.as_bytes()).unwrap();
            journal.open(&input).await.unwrap();
            // Row 1 could not be settled: a person decides. 90 s pass.
            let ambiguous = RowState::Ambiguous {
                message_ids: vec!["41".into()],
                reason: "example".into(),
            };
            journal
                .transition(0, 1, Status::Pending, &ambiguous)
                .await
                .unwrap();
            tokio::time::advance(Duration::from_secs(90)).await;
            let options = Options::default().concurrency(1).rate(None);
            let outbox = Outbox::new(mock.client(), journal, options);
            let summary = outbox.run(&input, |_| {}).await.unwrap();
            assert_eq!((summary.sent, summary.ambiguous), (2, 1), "{summary:?}");
            // (herohealth::now reads the system clock and tokio's apart: a few microseconds.)
            let waited = age().expect("the gauge is observed");
            assert!((89.9..91.0).contains(&waited), "{waited}");
            // Its age grows with the clock, with no reading of the journal.
            tokio::time::advance(Duration::from_secs(30)).await;
            let waited = age().unwrap();
            assert!((119.9..121.0).contains(&waited), "{waited}");

            // Decided: once the outbox has looked again, no row waits.
            let decision = Decision::new(Choice::Abandon, "A. Person", "phoned").unwrap();
            outbox.journal().decide(0, 1, &decision).await.unwrap();
            outbox.work(|_| {}).await.unwrap();
            assert_eq!(age(), Some(0.0));
            // An outbox that is gone observes nothing.
            drop(outbox);
            assert_eq!(age(), None);
        });
}
