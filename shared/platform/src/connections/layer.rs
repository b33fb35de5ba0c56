//! Counting the calls in flight on each connection, from the request to the
//! last byte of its response, so only connections without calls count as
//! idle.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{BoxFuture, FutureExt};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tonic::body::Body;
use tower::{Layer, Service};

use super::{Connection, ConnectionInfo};

/// The connection a request arrived on. Over TLS, tonic inserts the
/// wrapped stream's info beside its `TlsConnectInfo`, so one lookup serves
/// both (tests/tls.rs holds that).
fn connection_of<B>(request: &http::Request<B>) -> Option<&Arc<Connection>> {
    request
        .extensions()
        .get::<ConnectionInfo>()
        .map(|info| &info.connection)
}

/// Records that the connection of `request` presented a valid token: such
/// connections are the last to be closed to make room for others.
pub fn mark_authenticated<B>(request: &http::Request<B>) {
    if let Some(connection) = connection_of(request) {
        connection.authenticated();
    }
}

/// Whether `path` is a stream anyone may open without a token and keep
/// open: `Health/Watch` and server reflection.
fn holds_open_without_a_token(path: &str) -> bool {
    crate::auth::is_public(path) && path != "/grpc.health.v1.Health/Check"
}

/// Counts each call on its connection until its response is complete.
#[derive(Debug, Clone, Copy, Default)]
pub struct ActiveStreamsLayer;

impl<S> Layer<S> for ActiveStreamsLayer {
    type Service = ActiveStreams<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ActiveStreams { inner }
    }
}

/// The service [`ActiveStreamsLayer`] produces.
#[derive(Debug, Clone)]
pub struct ActiveStreams<S> {
    inner: S,
}

impl<S> Service<http::Request<Body>> for ActiveStreams<S>
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
        let Some(connection) = connection_of(&request).cloned() else {
            return self.inner.call(request).boxed();
        };
        // Health and reflection answer without a token; a stream of theirs
        // (a `Health/Watch` never ends) must not make its connection look
        // busy, or anonymous callers could hold every connection slot. A
        // connection carrying only such streams is idle: closed at the idle
        // timeout, and evicted first at the cap. A unary `Health/Check` is
        // counted as any call, so a probe is never cut mid-answer.
        if holds_open_without_a_token(request.uri().path()) {
            connection.spoke();
            return self.inner.call(request).boxed();
        }
        let call = InFlight::start(connection);
        let response = self.inner.call(request);
        async move {
            let response = response.await?;
            Ok(response.map(|body| {
                Body::new(CountedBody {
                    inner: body,
                    _call: call,
                })
            }))
        }
        .boxed()
    }
}

/// One call in flight on a connection; ends when dropped.
struct InFlight(Arc<Connection>);

impl InFlight {
    fn start(connection: Arc<Connection>) -> Self {
        connection.call_started();
        Self(connection)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.call_ended();
    }
}

/// A response body that keeps its call counted until it is sent or
/// abandoned.
struct CountedBody {
    inner: Body,
    _call: InFlight,
}

impl HttpBody for CountedBody {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
