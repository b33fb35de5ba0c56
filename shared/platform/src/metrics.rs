//! Request metrics: a count and a latency histogram per gRPC method and
//! status code, exported with the OpenTelemetry meter provider (a no-op
//! unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set).

use std::sync::LazyLock;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::{BoxFuture, FutureExt};
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram};
use tonic::body::Body;
use tower::{Layer, Service};

struct Instruments {
    requests: Counter<u64>,
    duration: Histogram<f64>,
}

static INSTRUMENTS: LazyLock<Instruments> = LazyLock::new(|| {
    let meter = opentelemetry::global::meter("twotier");
    Instruments {
        requests: meter
            .u64_counter("rpc.server.requests")
            .with_description("gRPC calls served, by method and status code")
            .build(),
        duration: meter
            .f64_histogram("rpc.server.duration")
            .with_unit("s")
            .with_description("time to the response headers, by method and status code")
            .build(),
    }
});

/// Records every call's method, status code and duration.
#[derive(Clone, Copy)]
pub struct RequestMetricsLayer;

impl<S> Layer<S> for RequestMetricsLayer {
    type Service = RequestMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestMetrics { inner }
    }
}

/// The service [`RequestMetricsLayer`] produces.
#[derive(Clone)]
pub struct RequestMetrics<S> {
    inner: S,
}

impl<S> Service<http::Request<Body>> for RequestMetrics<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let started = Instant::now();
        let response = self.inner.call(request);
        async move {
            let outcome = response.await;
            // Errors travel as trailers-only responses with `grpc-status` in
            // the headers; a response without it is on its way to OK.
            let code = match &outcome {
                Ok(response) => response
                    .headers()
                    .get("grpc-status")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.parse::<i64>().ok())
                    .unwrap_or(0),
                Err(_) => 2,
            };
            let attributes = [
                KeyValue::new("rpc.method", method),
                KeyValue::new("rpc.grpc.status_code", code),
            ];
            INSTRUMENTS.requests.add(1, &attributes);
            INSTRUMENTS
                .duration
                .record(started.elapsed().as_secs_f64(), &attributes);
            outcome
        }
        .boxed()
    }
}
