//! Metrics: instruments recorded with OpenTelemetry, scraped by Prometheus
//! from each process's `/metrics` endpoint and pushed over OTLP as well when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

mod endpoint;
mod requests;

pub use endpoint::{MetricsEndpoint, serve_prometheus};
pub use requests::RequestMetricsLayer;

use opentelemetry::metrics::{Gauge, Histogram, Meter};

/// Upper bounds, in seconds, of every duration histogram: from a fast
/// query (1 ms) to a consumer catching up after an outage (5 min). The
/// OpenTelemetry defaults are meant for milliseconds and put every latency
/// recorded in seconds into the first bucket.
pub const SECONDS_BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// The meter of every twotier instrument.
pub fn meter() -> Meter {
    opentelemetry::global::meter("twotier")
}

/// A histogram of durations in seconds, bucketed by [`SECONDS_BUCKETS`].
pub fn seconds_histogram(name: &'static str, description: &'static str) -> Histogram<f64> {
    meter()
        .f64_histogram(name)
        .with_unit("s")
        .with_description(description)
        .with_boundaries(SECONDS_BUCKETS.to_vec())
        .build()
}

/// A gauge of a current value: the last one recorded per attribute set is
/// what a scrape sees.
pub fn gauge(name: &'static str, unit: &'static str, description: &'static str) -> Gauge<f64> {
    meter()
        .f64_gauge(name)
        .with_unit(unit)
        .with_description(description)
        .build()
}
