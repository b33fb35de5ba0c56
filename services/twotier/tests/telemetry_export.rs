//! With `OTEL_EXPORTER_OTLP_ENDPOINT` set, every service exports its traces
//! and its metrics (request counts and latencies; outbox events and lag per
//! consumer) over OTLP/gRPC, and its log lines name the exported traces.
//! The collector here is a real OTLP server that only remembers what it was
//! sent.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::workload::{Clients, run_item};
use common::{SERVICES, System};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::resource::v1::Resource;
use tonic::{Request, Response, Status};

/// What each `service.name` exported: metric names, span names and trace
/// ids (hex).
#[derive(Clone, Default)]
struct Collector {
    metrics: Arc<Mutex<BTreeMap<String, BTreeSet<String>>>>,
    spans: Arc<Mutex<BTreeMap<String, BTreeSet<String>>>>,
    traces: Arc<Mutex<BTreeSet<String>>>,
}

fn service_name(resource: Option<&Resource>) -> String {
    resource
        .into_iter()
        .flat_map(|resource| &resource.attributes)
        .find(|attribute| attribute.key == "service.name")
        .and_then(|attribute| attribute.value.as_ref()?.value.as_ref())
        .map(|value| match value {
            Value::StringValue(name) => name.clone(),
            other => format!("{other:?}"),
        })
        .unwrap_or_default()
}

#[tonic::async_trait]
impl MetricsService for Collector {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        let mut seen = self.metrics.lock().unwrap();
        for batch in request.into_inner().resource_metrics {
            let names = seen
                .entry(service_name(batch.resource.as_ref()))
                .or_default();
            for scope in batch.scope_metrics {
                names.extend(scope.metrics.into_iter().map(|metric| metric.name));
            }
        }
        Ok(Response::new(ExportMetricsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let mut seen = self.spans.lock().unwrap();
        let mut traces = self.traces.lock().unwrap();
        for batch in request.into_inner().resource_spans {
            let names = seen
                .entry(service_name(batch.resource.as_ref()))
                .or_default();
            for span in batch.scope_spans.into_iter().flat_map(|scope| scope.spans) {
                let hex: String = span.trace_id.iter().map(|b| format!("{b:02x}")).collect();
                traces.insert(hex);
                names.insert(span.name);
            }
        }
        Ok(Response::new(ExportTraceServiceResponse::default()))
    }
}

impl Collector {
    async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let router = tonic::transport::Server::builder()
            .add_service(MetricsServiceServer::new(self.clone()))
            .add_service(TraceServiceServer::new(self.clone()));
        tokio::spawn(
            router.serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        endpoint
    }

    fn exported(&self, service: &str, metrics: &[&str], span_prefix: &str) -> bool {
        let name = format!("twotier-{service}");
        let has_metrics = self
            .metrics
            .lock()
            .unwrap()
            .get(&name)
            .is_some_and(|seen| metrics.iter().all(|metric| seen.contains(*metric)));
        let has_spans = self
            .spans
            .lock()
            .unwrap()
            .get(&name)
            .is_some_and(|seen| seen.iter().any(|span| span.starts_with(span_prefix)));
        has_metrics && has_spans
    }
}

/// The metrics a service must have exported after the workload, and how
/// one of its spans is named: the upstream only serves calls, the others
/// also handle its events.
fn expected(service: &str) -> (Vec<&'static str>, &'static str) {
    let requests = ["rpc.server.requests", "rpc.server.duration"];
    if service == "partnership" {
        return (
            requests.to_vec(),
            "/twotier.partnership.v1.PartnershipService/",
        );
    }
    let outbox = ["outbox.consumer.events", "outbox.consumer.lag"];
    ([requests, outbox].concat(), "handle twotier.")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_exports_traces_and_request_and_outbox_metrics_over_otlp() {
    let collector = Collector::default();
    let endpoint = collector.start().await;
    let system = System::start_with(
        1,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_METRIC_EXPORT_INTERVAL", "300"),
            ("OTEL_BSP_SCHEDULE_DELAY", "300"),
            // Quiet logs that keep every trace span (docs/operations.md);
            // the two services' info lines are what the log check reads.
            (
                "RUST_LOG",
                "warn,twotier_platform=info,twotier_outbox=info,twotier_partnership=info,twotier_notification=info",
            ),
            ("TWOTIER_LOG_FORMAT", "json"),
        ],
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(120);
    run_item(&Clients::new(&system, 0), 0, deadline).await;
    common::verify(&system, 1).await;

    let all_exported = || {
        SERVICES.iter().all(|service| {
            let (metrics, span) = expected(service);
            collector.exported(service, &metrics, span)
        })
    };
    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        while !all_exported() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    if waited.is_err() {
        let logs: Vec<String> = system
            .processes
            .iter()
            .map(|p| format!("--- {}\n{}", p.service, p.log()))
            .collect();
        panic!(
            "not every service exported its spans and metrics in time\nmetrics: {:?}\nspans: {:?}\n{}",
            collector.metrics.lock().unwrap(),
            collector.spans.lock().unwrap(),
            logs.join("\n")
        );
    }

    for (service, message) in [
        ("partnership", "partnership accepted"),
        ("notification", "email sent"),
    ] {
        let log = system.replicas(service)[0].log();
        let trace = trace_of_log_line(&log, message)
            .unwrap_or_else(|| panic!("a {message:?} line with a trace_id in:\n{log}"));
        twotier_testkit::wait_until(
            &format!("the trace of {message:?} ({trace}) exported"),
            Duration::from_secs(60),
            || async { collector.traces.lock().unwrap().contains(&trace) },
        )
        .await;
    }
}

/// The `trace_id` of the span around the first JSON log line saying
/// `message`.
fn trace_of_log_line(log: &str, message: &str) -> Option<String> {
    log.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["fields"]["message"] == message)
        .find_map(|line| Some(line["span"]["trace_id"].as_str()?.to_owned()))
}
