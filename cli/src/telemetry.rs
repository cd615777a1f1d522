//! OpenTelemetry export: over OTLP (HTTP, protobuf) when the standard variables say where
//! (`OTEL_EXPORTER_OTLP_ENDPOINT`, or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` /
//! `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` for one signal), and nothing at all otherwise: no
//! exporter is built and no connection is attempted. The exporter reads the other standard
//! variables itself (`OTEL_EXPORTER_OTLP_HEADERS`, `..._TIMEOUT`, `..._COMPRESSION`,
//! `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`); `OTEL_SDK_DISABLED=true`,
//! `OTEL_TRACES_EXPORTER=none` and `OTEL_METRICS_EXPORTER=none` turn it, or one signal, off.
//!
//! What is exported is the client's and the outbox's own spans and metrics (`herohealth` and
//! `herohealth_outbox` targets only: never the HTTP stack's or the database driver's), whose
//! attributes hold no patient data (the guide's telemetry page lists them).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{MetricExporter, SpanExporter};
use opentelemetry_sdk::{
    Resource,
    metrics::{PeriodicReader, SdkMeterProvider},
    trace::SdkTracerProvider,
};
use tracing_subscriber::{Layer, filter::Targets};

/// The providers `hero` installed, shut down (everything still buffered sent) when it ends.
pub(crate) struct Otel {
    traces: Option<SdkTracerProvider>,
    metrics: Option<SdkMeterProvider>,
}

/// Whether the variable is set to something.
fn set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty())
}

/// Whether the variable says `value` (case-insensitively).
fn says(name: &str, value: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v.trim().eq_ignore_ascii_case(value))
}

fn resource() -> Resource {
    let builder = Resource::builder();
    if set("OTEL_SERVICE_NAME") {
        builder.build()
    } else {
        builder.with_service_name("hero").build()
    }
}

impl Otel {
    /// The providers the environment asks for, or `None` when it asks for none. An exporter
    /// that cannot be built (a malformed endpoint) is reported on stderr and left out: `hero`
    /// still runs.
    pub(crate) fn from_env() -> Option<Otel> {
        if says("OTEL_SDK_DISABLED", "true") {
            return None;
        }
        let any = set("OTEL_EXPORTER_OTLP_ENDPOINT");
        let traces = (any || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
            && !says("OTEL_TRACES_EXPORTER", "none");
        let metrics = (any || set("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"))
            && !says("OTEL_METRICS_EXPORTER", "none");
        if !traces && !metrics {
            return None;
        }
        let traces = traces
            .then(|| match SpanExporter::builder().with_http().build() {
                Ok(exporter) => Some(
                    SdkTracerProvider::builder()
                        .with_batch_exporter(exporter)
                        .with_resource(resource())
                        .build(),
                ),
                Err(_) => {
                    // The exporter's error quotes the endpoint, which may hold credentials.
                    eprintln!("hero: traces are not exported: the OTEL_EXPORTER_OTLP_* settings could not be used");
                    None
                }
            })
            .flatten();
        let metrics = metrics
            .then(|| match MetricExporter::builder().with_http().build() {
                Ok(exporter) => {
                    let provider = SdkMeterProvider::builder()
                        .with_reader(PeriodicReader::builder(exporter).build())
                        .with_resource(resource())
                        .build();
                    opentelemetry::global::set_meter_provider(provider.clone());
                    Some(provider)
                }
                Err(_) => {
                    // The exporter's error quotes the endpoint, which may hold credentials.
                    eprintln!("hero: metrics are not exported: the OTEL_EXPORTER_OTLP_* settings could not be used");
                    None
                }
            })
            .flatten();
        Some(Otel { traces, metrics })
    }

    /// The layer that hands the client's and the outbox's spans to the trace exporter.
    pub(crate) fn layer<S>(&self) -> Option<impl Layer<S> + use<S>>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        let tracer = self.traces.as_ref()?.tracer("hero");
        Some(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(
                    Targets::new()
                        .with_target("herohealth", tracing::Level::INFO)
                        .with_target("herohealth_outbox", tracing::Level::INFO)
                        .with_target("herohealth_mock", tracing::level_filters::LevelFilter::OFF),
                ),
        )
    }

    /// Sends what is still buffered and stops the exporters.
    pub(crate) fn shutdown(self) {
        if let Some(traces) = self.traces {
            let _ = traces.shutdown();
        }
        if let Some(metrics) = self.metrics {
            let _ = metrics.shutdown();
        }
    }
}
