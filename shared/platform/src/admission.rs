//! Load shedding: a process serves at most `limit` calls at once and refuses
//! the excess at once with RESOURCE_EXHAUSTED and a retry hint, instead of
//! queueing them into a stall.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{BoxFuture, FutureExt};
use tokio::sync::Semaphore;
use tonic::body::Body;
use tower::{Layer, Service};

use crate::error::Error;

/// Health checks are always admitted, so an overloaded process is not
/// mistaken for a dead one.
const ALWAYS_ADMITTED: &str = "/grpc.health.v1.Health/";

/// Admits at most `limit` concurrent calls across all connections.
#[derive(Clone)]
pub struct AdmissionLayer {
    permits: Arc<Semaphore>,
}

impl AdmissionLayer {
    /// A layer admitting `limit` calls at once.
    pub fn new(limit: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limit.max(1))),
        }
    }
}

impl<S> Layer<S> for AdmissionLayer {
    type Service = Admission<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Admission {
            inner,
            permits: self.permits.clone(),
        }
    }
}

/// The service [`AdmissionLayer`] produces.
#[derive(Clone)]
pub struct Admission<S> {
    inner: S,
    permits: Arc<Semaphore>,
}

impl<S> Service<http::Request<Body>> for Admission<S>
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
        if request.uri().path().starts_with(ALWAYS_ADMITTED) {
            return self.inner.call(request).boxed();
        }
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            tracing::warn!(
                path = request.uri().path(),
                "call refused: concurrency limit reached"
            );
            let status = tonic::Status::from(Error::ResourceExhausted {
                reason: "SERVER_OVERLOADED",
                message: "the server is at its concurrency limit; retry later".into(),
            });
            return futures::future::ready(Ok(status.into_http())).boxed();
        };
        let response = self.inner.call(request);
        async move {
            let outcome = response.await;
            drop(permit);
            outcome
        }
        .boxed()
    }
}
