//! How long a call may take: the caller's deadline (`grpc-timeout`) or
//! the server's limit (`TWOTIER_REQUEST_TIMEOUT`), whichever is shorter.
//! A call cut off is answered with a status of its own and a reason, inside
//! the request metrics, so it is counted like any other answer: a read cut
//! off by the server's limit as transient (`UNAVAILABLE` with `RetryInfo`),
//! a command as `DEADLINE_EXCEEDED`, since it may have committed and only a
//! retry with its request id is safe. A stream is bounded until it starts.
//! tonic bounds every call by its caller's deadline too, outside every
//! layer; this one's clock starts first, so its answer comes first.

use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use tonic::body::Body;
use tower::{Layer, Service};

use crate::error::Error;

/// Bounds every call by the shorter of its caller's deadline and `limit`.
#[derive(Clone)]
pub(crate) struct DeadlineLayer {
    limit: Duration,
}

impl DeadlineLayer {
    pub(crate) fn new(limit: Duration) -> Self {
        Self { limit }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Deadline {
            inner,
            limit: self.limit,
        }
    }
}

/// The service [`DeadlineLayer`] produces.
#[derive(Clone)]
pub(crate) struct Deadline<S> {
    inner: S,
    limit: Duration,
}

impl<S> Service<http::Request<Body>> for Deadline<S>
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
        let callers = request
            .headers()
            .get("grpc-timeout")
            .and_then(|value| value.to_str().ok())
            .and_then(grpc_timeout);
        let cut_off = Cutoff::of(callers, self.limit);
        let at = tokio::time::Instant::now() + cut_off.after();
        let command = crate::auth::is_command(request.uri().path());
        let answer = self.inner.call(request);
        async move {
            match tokio::time::timeout_at(at, answer).await {
                Ok(answered) => answered,
                Err(_) => Ok(tonic::Status::from(cut_off.error(command)).into_http()),
            }
        }
        .boxed()
    }
}

/// Who ends a call that takes too long, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cutoff {
    /// Its caller's deadline comes first.
    Caller(Duration),
    /// The server's limit comes first.
    Server(Duration),
}

impl Cutoff {
    fn of(callers: Option<Duration>, limit: Duration) -> Self {
        match callers {
            Some(deadline) if deadline < limit => Self::Caller(deadline),
            _ => Self::Server(limit),
        }
    }

    fn after(self) -> Duration {
        match self {
            Self::Caller(after) | Self::Server(after) => after,
        }
    }

    /// The answer to a call cut off; `command`: one that may change rows.
    fn error(self, command: bool) -> Error {
        match self {
            Self::Caller(after) => Error::DeadlineExceeded {
                reason: "DEADLINE_EXCEEDED",
                message: format!("the call was not answered within its deadline ({after:?})"),
            },
            Self::Server(after) if command => Error::DeadlineExceeded {
                reason: "REQUEST_TIMEOUT",
                message: format!(
                    "the command was not answered within the server's limit ({after:?}) and may have taken effect; read what it changes (or retry with the same request id, where it takes one) before trying again"
                ),
            },
            Self::Server(after) => Error::Unavailable {
                reason: "REQUEST_TIMEOUT",
                message: format!(
                    "the call was not answered within the server's limit ({after:?}); retry later"
                ),
            },
        }
    }
}

/// A `grpc-timeout` value: up to eight digits and a unit (gRPC over
/// HTTP/2: `H`, `M`, `S`, `m`, `u`, `n`); `None` if malformed.
fn grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at_checked(value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;

    #[test]
    fn grpc_timeouts_are_read_in_every_unit_and_malformed_ones_ignored() {
        assert_eq!(grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(grpc_timeout("3M"), Some(Duration::from_secs(180)));
        assert_eq!(grpc_timeout("10S"), Some(Duration::from_secs(10)));
        assert_eq!(grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(
            grpc_timeout("99999999u"),
            Some(Duration::from_micros(99_999_999))
        );
        assert_eq!(grpc_timeout("5n"), Some(Duration::from_nanos(5)));
        for malformed in ["", "S", "123456789S", "1x", "-1S", "1.5S", "١S"] {
            assert_eq!(grpc_timeout(malformed), None, "{malformed:?}");
        }
    }

    #[test]
    fn the_shorter_of_the_callers_deadline_and_the_servers_limit_cuts_a_call_off() {
        let limit = Duration::from_secs(10);
        let short = Duration::from_secs(1);
        assert_eq!(Cutoff::of(Some(short), limit), Cutoff::Caller(short));
        assert_eq!(
            Cutoff::of(Some(Duration::from_secs(60)), limit),
            Cutoff::Server(limit)
        );
        assert_eq!(Cutoff::of(None, limit), Cutoff::Server(limit));
        for command in [false, true] {
            assert_eq!(
                Cutoff::Caller(short).error(command).code(),
                Code::DeadlineExceeded
            );
            assert_eq!(
                Cutoff::Server(limit).error(command).reason(),
                "REQUEST_TIMEOUT"
            );
        }
        // A read cut off by the server's own limit is transient (it comes
        // with RetryInfo); a command may have committed, so it is not
        // answered as one a retry policy would repeat blindly.
        assert_eq!(Cutoff::Server(limit).error(false).code(), Code::Unavailable);
        assert_eq!(
            Cutoff::Server(limit).error(true).code(),
            Code::DeadlineExceeded
        );
    }
}
