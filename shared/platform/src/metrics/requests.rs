//! Request metrics: a count and a latency histogram per gRPC method and
//! status code.

use std::sync::LazyLock;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::{BoxFuture, FutureExt};
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram};
use tonic::body::Body;
use tower::{Layer, Service};

use crate::auth::Policy;

struct Instruments {
    requests: Counter<u64>,
    duration: Histogram<f64>,
}

static INSTRUMENTS: LazyLock<Instruments> = LazyLock::new(|| Instruments {
    requests: super::meter()
        .u64_counter("rpc.server.requests")
        .with_description("gRPC calls served, by method and status code")
        .build(),
    duration: super::seconds_histogram(
        "rpc.server.duration",
        "time to the response headers, by method and status code",
    ),
});

/// The standard methods every server serves beside its own.
const STANDARD_METHODS: [&str; 4] = [
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// The method label of a path: the path itself when the server serves it,
/// else `other`, so that callers making up paths cannot grow the label set
/// (and the process's memory) without bound.
fn method_label(policy: &Policy, path: &str) -> String {
    if policy.access(path).is_some() || STANDARD_METHODS.contains(&path) {
        path.to_owned()
    } else {
        "other".to_owned()
    }
}

/// Records every call's method, status code and duration.
#[derive(Clone)]
pub struct RequestMetricsLayer {
    policy: Policy,
}

impl RequestMetricsLayer {
    /// A layer labelling the methods `policy` knows by name.
    pub fn new(policy: Policy) -> Self {
        Self { policy }
    }
}

impl<S> Layer<S> for RequestMetricsLayer {
    type Service = RequestMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestMetrics {
            inner,
            policy: self.policy.clone(),
        }
    }
}

/// The service [`RequestMetricsLayer`] produces.
#[derive(Clone)]
pub struct RequestMetrics<S> {
    inner: S,
    policy: Policy,
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
        let method = method_label(&self.policy, request.uri().path());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Access, Rule};

    #[test]
    fn made_up_paths_share_one_label() {
        let policy = Policy::new(&[Rule::new(
            "twotier.partnership.v1.PartnershipService",
            "GetPartnership",
            Access::Authenticated,
        )]);
        let served = "/twotier.partnership.v1.PartnershipService/GetPartnership";
        assert_eq!(method_label(&policy, served), served);
        assert_eq!(
            method_label(&policy, "/grpc.health.v1.Health/Check"),
            "/grpc.health.v1.Health/Check"
        );
        for made_up in ["/x.Y/Z", "/grpc.health.v1.Health/Nope", "/"] {
            assert_eq!(method_label(&policy, made_up), "other");
        }
    }
}
