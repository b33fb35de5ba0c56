//! Receiving a call's request before it competes for capacity: the body is
//! read into memory within a deadline and a size cap, so a caller that
//! sends headers and then nothing (or trickles bytes) ties up a little
//! memory until the deadline, never an admission permit.
//!
//! Every twotier RPC is unary or server-streaming: the client sends one
//! message and half-closes, so the whole request is known before any
//! service code runs. Public paths (health, reflection, whose reflection
//! stream is bidirectional) carry no verified caller and pass straight
//! through.

use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use tonic::body::Body;
use tower::{Layer, Service, ServiceExt};

use crate::auth::Caller;
use crate::error::Error;

/// The largest request accepted: tonic's default decoding limit (4 MiB)
/// plus the 5-byte gRPC message prefix, so no request tonic would decode
/// is refused here.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024 + 5;

/// Reads each authenticated request's body within `timeout`.
#[derive(Debug, Clone, Copy)]
pub struct ReceiveLayer {
    timeout: Duration,
}

impl ReceiveLayer {
    /// Requests must arrive whole within `timeout` of their headers.
    pub fn new(timeout: Duration) -> Self {
        Self { timeout }
    }
}

impl<S> Layer<S> for ReceiveLayer {
    type Service = Receive<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Receive {
            inner,
            timeout: self.timeout,
        }
    }
}

/// The service [`ReceiveLayer`] produces.
#[derive(Debug, Clone)]
pub struct Receive<S> {
    inner: S,
    timeout: Duration,
}

impl<S> Service<http::Request<Body>> for Receive<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
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
        if request.extensions().get::<Caller>().is_none() {
            return self.inner.call(request).boxed();
        }
        crate::connections::mark_authenticated(&request);
        // The ready service serves this call later, once the body is in; a
        // fresh clone takes its place for the next call (tower's pattern
        // for services used across an await).
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let timeout = self.timeout;
        async move {
            let (parts, body) = request.into_parts();
            let received = match receive(body, timeout).await {
                Ok(bytes) => bytes,
                Err(error) => {
                    tracing::info!(
                        path = parts.uri.path(),
                        reason = error.reason(),
                        "request not received"
                    );
                    return Ok(tonic::Status::from(error).into_http());
                }
            };
            let request = http::Request::from_parts(parts, Body::new(Full::new(received)));
            inner.oneshot(request).await
        }
        .boxed()
    }
}

async fn receive(body: Body, timeout: Duration) -> Result<bytes::Bytes, Error> {
    let collected = tokio::time::timeout(timeout, Limited::new(body, MAX_REQUEST_BYTES).collect())
        .await
        .map_err(|_| Error::DeadlineExceeded {
            reason: "REQUEST_RECEIVE_TIMEOUT",
            message: format!(
                "the request did not arrive within {timeout:?} of its headers; send the message and half-close promptly"
            ),
        })?;
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(Error::InvalidArgument {
                reason: "REQUEST_TOO_LARGE",
                message: format!("the request is larger than {MAX_REQUEST_BYTES} bytes"),
                violations: Vec::new(),
            })
        }
        Err(error) => Err(Error::InvalidArgument {
            reason: "REQUEST_UNREADABLE",
            message: format!("the request could not be read: {error}"),
            violations: Vec::new(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_body_that_never_ends_times_out() {
        let silent =
            futures::stream::pending::<Result<http_body::Frame<bytes::Bytes>, tonic::Status>>();
        let body = Body::new(http_body_util::StreamBody::new(silent));
        let error = receive(body, Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(error.reason(), "REQUEST_RECEIVE_TIMEOUT");
        assert_eq!(error.code(), tonic::Code::DeadlineExceeded);
    }

    #[tokio::test]
    async fn an_oversized_body_is_refused() {
        let body = Body::new(Full::new(bytes::Bytes::from(vec![
            0;
            MAX_REQUEST_BYTES + 1
        ])));
        let error = receive(body, Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(error.reason(), "REQUEST_TOO_LARGE");
    }

    #[tokio::test]
    async fn a_whole_body_passes() {
        let body = Body::new(Full::new(bytes::Bytes::from_static(b"\0\0\0\0\x01x")));
        assert_eq!(
            receive(body, Duration::from_secs(5)).await.unwrap(),
            bytes::Bytes::from_static(b"\0\0\0\0\x01x")
        );
    }
}
