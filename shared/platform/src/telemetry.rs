//! Logs and traces: `tracing` for logs (human or JSON), OpenTelemetry spans
//! propagated with W3C trace context across gRPC calls and the outbox, and
//! OTLP export only when an endpoint is configured.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogFormat, TelemetrySettings};

/// Keeps the exporters of a process alive; flushes them on [`Telemetry::shutdown`].
pub struct Telemetry {
    tracer_provider: SdkTracerProvider,
    meter_provider: opentelemetry_sdk::metrics::SdkMeterProvider,
    prometheus: prometheus::Registry,
}

impl Telemetry {
    /// Flushes pending spans and metrics.
    pub fn shutdown(self) {
        if let Err(error) = self.tracer_provider.shutdown() {
            eprintln!("trace exporter shutdown: {error}");
        }
        if let Err(error) = self.meter_provider.shutdown() {
            eprintln!("metric exporter shutdown: {error}");
        }
    }

    /// The registry every instrument of the process reports to, for the
    /// Prometheus endpoint ([`crate::metrics::serve_prometheus`]).
    pub fn prometheus_registry(&self) -> prometheus::Registry {
        self.prometheus.clone()
    }
}

/// Installs the process-wide subscriber, propagator and providers. Spans
/// always get trace ids (so logs and the outbox carry them); they leave the
/// process only when `otlp_endpoint` is set. Metrics are always kept for the
/// Prometheus endpoint, and pushed over OTLP too when it is set.
pub fn init(settings: &TelemetrySettings) -> Result<Telemetry, Box<dyn std::error::Error>> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(settings.service_name.clone())
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            crate::VERSION,
        ))
        .build();
    let mut tracer_builder = SdkTracerProvider::builder().with_resource(resource.clone());
    let prometheus = prometheus::Registry::new();
    let scraped = opentelemetry_prometheus::exporter()
        .with_registry(prometheus.clone())
        .build()?;
    let mut meter_builder = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
        .with_resource(resource)
        .with_reader(scraped);
    if let Some(endpoint) = &settings.otlp_endpoint {
        use opentelemetry_otlp::WithExportConfig;
        let spans = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.clone())
            .build()?;
        tracer_builder = tracer_builder.with_batch_exporter(spans);
        let metrics = opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.clone())
            .build()?;
        meter_builder = meter_builder.with_periodic_exporter(metrics);
    }
    let meter_provider = meter_builder.build();
    opentelemetry::global::set_meter_provider(meter_provider.clone());
    let tracer_provider = tracer_builder.build();
    opentelemetry::global::set_tracer_provider(tracer_provider.clone());
    let otel_layer = tracing_opentelemetry::layer().with_tracer(tracer_provider.tracer("twotier"));

    // One global filter: `RUST_LOG` decides which spans exist as well as
    // which lines are logged. Per-layer filters (traces unfiltered, logs by
    // `RUST_LOG`) lost a random share of spans under load with
    // tracing-opentelemetry, so operators who quiet the logs keep the
    // trace spans with `twotier_platform=info,twotier_outbox=info`
    // (docs/operations.md).
    let filter = EnvFilter::try_new(&settings.log_filter)?;
    let registry = tracing_subscriber::registry().with(filter).with(otel_layer);
    match settings.log_format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
                    .event_format(crate::log_format::JsonWithTrace),
            )
            .try_init()?,
        LogFormat::Human => registry.with(tracing_subscriber::fmt::layer()).try_init()?,
    }
    Ok(Telemetry {
        tracer_provider,
        meter_provider,
        prometheus,
    })
}

/// The span of one gRPC call, a child of the caller's trace when the request
/// carries a `traceparent` header.
pub fn grpc_request_span(request: &http::Request<()>) -> Span {
    let path = request.uri().path();
    let span = tracing::info_span!(
        "grpc.request",
        otel.name = path,
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.method = path,
        enduser.id = tracing::field::Empty,
        trace_id = tracing::field::Empty,
        span_id = tracing::field::Empty,
    );
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&opentelemetry_http::HeaderExtractor(request.headers()))
    });
    let _ = span.set_parent(parent);
    record_trace_id(&span);
    span
}

/// Records the OpenTelemetry trace and span ids on `span` (fields
/// `trace_id` and `span_id`) so that log lines inside it carry them. (A log
/// formatter cannot ask OpenTelemetry itself: it runs inside the
/// subscriber, where the current span is out of reach.)
pub fn record_trace_id(span: &Span) {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    if span_context.is_valid() {
        span.record("trace_id", span_context.trace_id().to_string());
        span.record("span_id", span_context.span_id().to_string());
    }
}

/// The W3C `traceparent` and `tracestate` of the current span, for storing
/// with an outbox event. Empty strings when nothing is traced.
pub fn current_trace_context() -> (String, String) {
    let context = Span::current().context();
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    (
        carrier.remove("traceparent").unwrap_or_default(),
        bounded_tracestate(&carrier.remove("tracestate").unwrap_or_default()),
    )
}

/// Longest `tracestate` twotier keeps and passes on: the 512 characters
/// W3C Trace Context asks every platform to propagate at least, and what an
/// outbox row holds. A caller's header may be longer (up to 32 members).
pub const MAX_TRACESTATE_CHARS: usize = 512;

/// `tracestate` cut to [`MAX_TRACESTATE_CHARS`] as W3C Trace Context says
/// to cut it: members longer than 128 characters go first, then members
/// from the end; what is kept stays in order. A caller's long header then
/// never fails the command whose trace it names.
fn bounded_tracestate(tracestate: &str) -> String {
    if tracestate.len() <= MAX_TRACESTATE_CHARS {
        return tracestate.to_owned();
    }
    let mut kept = String::new();
    for member in tracestate.split(',').map(str::trim) {
        if member.is_empty() || member.len() > 128 {
            continue;
        }
        let separator = usize::from(!kept.is_empty());
        if kept.len() + separator + member.len() > MAX_TRACESTATE_CHARS {
            break;
        }
        if separator == 1 {
            kept.push(',');
        }
        kept.push_str(member);
    }
    kept
}

/// The W3C trace id of the current span, or empty when nothing traces.
pub fn current_trace_id() -> String {
    let (traceparent, _) = current_trace_context();
    traceparent
        .split('-')
        .nth(1)
        .filter(|id| id.chars().any(|c| c != '0'))
        .unwrap_or_default()
        .to_owned()
}

/// Makes `span` a child of the trace an event was written in.
pub fn set_remote_parent(span: &Span, traceparent: &str, tracestate: &str) {
    if traceparent.is_empty() {
        record_trace_id(span);
        return;
    }
    let carrier = HashMap::from([
        ("traceparent".to_owned(), traceparent.to_owned()),
        ("tracestate".to_owned(), tracestate.to_owned()),
    ]);
    let parent = TraceContextPropagator::new().extract(&carrier);
    let _ = span.set_parent(parent);
    record_trace_id(span);
}

/// Adds the current span's trace context to an outgoing call's metadata.
pub fn inject_trace_context(metadata: &mut tonic::metadata::MetadataMap) {
    let (traceparent, tracestate) = current_trace_context();
    for (key, value) in [("traceparent", traceparent), ("tracestate", tracestate)] {
        if value.is_empty() {
            continue;
        }
        if let Ok(value) = value.parse() {
            metadata.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tracestate_within_bounds_is_kept_as_it_is() {
        let short = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
        assert_eq!(bounded_tracestate(short), short);
        assert_eq!(bounded_tracestate(""), "");
    }

    #[test]
    fn a_long_tracestate_loses_its_long_members_first_then_members_from_the_end() {
        let long_member = format!("big={}", "x".repeat(200));
        let members: Vec<String> = (0..40)
            .map(|i| format!("k{i:02}=v{}", "y".repeat(20)))
            .collect();
        let header = format!("{},{long_member},{}", members[0], members[1..].join(","));
        let bounded = bounded_tracestate(&header);
        assert!(bounded.len() <= MAX_TRACESTATE_CHARS, "{}", bounded.len());
        assert!(!bounded.contains("big="));
        let kept: Vec<&str> = bounded.split(',').collect();
        assert_eq!(
            kept,
            members[..kept.len()]
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
        );
        assert!(kept.len() > 10);
    }
}
