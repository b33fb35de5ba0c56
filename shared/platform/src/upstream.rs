//! Synchronous calls to another twotier service, for reads that must be
//! fresh at the moment of a command: signed with this service's own token,
//! carrying the original caller's token on whose behalf it asks (so the
//! other service authorizes that caller and records who it was), with a
//! deadline and the trace context.

use std::sync::Arc;
use std::time::Duration;

use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::auth::{Caller, ON_BEHALF_OF_HEADER, Role, ServiceTokens};
use crate::channel::{ChannelError, ChannelOptions, ClientChannels};
use crate::error::Error;

/// The `ErrorInfo.reason` of a call that failed because another service it
/// needs could not answer (unreachable, slow, overloaded, or not yet caught
/// up with): transient, answered as `UNAVAILABLE` with `RetryInfo`.
pub const DEPENDENCY_UNAVAILABLE: &str = "DEPENDENCY_UNAVAILABLE";

/// How long a call to another service may take.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(3);

/// A connection to another service.
#[derive(Clone, Debug)]
pub struct Upstream {
    name: &'static str,
    channel: Channel,
    deadline: Duration,
    service_tokens: Arc<ServiceTokens>,
}

impl Upstream {
    /// A lazily connected channel to `endpoint` (e.g.
    /// `http://127.0.0.1:50052`), named `name` in errors, called with
    /// `service_tokens`.
    pub fn new(
        name: &'static str,
        channels: &ClientChannels,
        endpoint: &str,
        deadline: Duration,
        service_tokens: Arc<ServiceTokens>,
    ) -> Result<Self, ChannelError> {
        let channel = channels.connect_lazy(
            endpoint,
            ChannelOptions {
                connect_timeout: Duration::from_secs(1),
                request_timeout: Some(deadline),
            },
        )?;
        Ok(Self {
            name,
            channel,
            deadline,
            service_tokens,
        })
    }

    /// The channel, for a generated client.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// `message` as a request on behalf of `caller`: this service's token,
    /// the caller's token (unless the caller is a service itself), the
    /// current trace context and the deadline.
    pub fn request<T>(&self, caller: &Caller, message: T) -> Result<tonic::Request<T>, Error> {
        let mut request = tonic::Request::new(message);
        request.set_timeout(self.deadline);
        let token = self
            .service_tokens
            .token()
            .map_err(|e| Error::Internal(format!("cannot mint the service token: {e}")))?;
        request
            .metadata_mut()
            .insert("authorization", bearer_value(&token)?);
        if !caller.has(Role::Service) {
            request
                .metadata_mut()
                .insert(ON_BEHALF_OF_HEADER, bearer_value(&caller.bearer)?);
        }
        crate::telemetry::inject_trace_context(request.metadata_mut());
        Ok(request)
    }

    /// The error for a failed call: the upstream being unreachable, slow or
    /// overloaded is UNAVAILABLE here; so is a token it refused (the
    /// caller's expiring during the call, or this service's while its
    /// secret is rotated), a concurrent change it lost, and a method it
    /// does not know yet (an older version, during a rolling upgrade): a
    /// retry gets the true answer, from this service's own door if the
    /// caller's token is what expired. Anything else is unexpected.
    pub fn failure(&self, status: &Status) -> Error {
        match status.code() {
            Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Cancelled
            | Code::ResourceExhausted
            | Code::Unauthenticated
            | Code::Aborted
            | Code::Unimplemented
            | Code::Unknown => {
                tracing::warn!(upstream = self.name, code = ?status.code(), message = status.message(), "upstream unavailable");
                Error::Unavailable {
                    reason: DEPENDENCY_UNAVAILABLE,
                    message: format!("the {} service is unavailable; retry later", self.name),
                }
            }
            _ => Error::Internal(format!(
                "{} service answered {:?}: {}",
                self.name,
                status.code(),
                status.message()
            )),
        }
    }
}

fn bearer_value(token: &str) -> Result<tonic::metadata::AsciiMetadataValue, Error> {
    format!("Bearer {token}")
        .parse()
        .map_err(|_| Error::Internal("a token is not a valid header value".into()))
}

/// The `google.rpc.ErrorInfo.reason` of a status, if it has one.
pub fn reason_of(status: &Status) -> Option<String> {
    status.get_details_error_info().map(|info| info.reason)
}

/// How long a status asks its caller to wait before calling again
/// (`google.rpc.RetryInfo.retry_delay`), if it says.
pub fn retry_delay_of(status: &Status) -> Option<Duration> {
    status.get_details_retry_info()?.retry_delay
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Secret;

    #[tokio::test]
    async fn refused_tokens_and_lost_races_upstream_are_transient_here() {
        let secret = Secret::new("test", b"0123456789abcdef0123456789abcdef".to_vec()).unwrap();
        let upstream = Upstream::new(
            "partnership",
            &ClientChannels::plaintext(),
            "http://127.0.0.1:9",
            DEFAULT_DEADLINE,
            Arc::new(ServiceTokens::new(&secret, "test")),
        )
        .unwrap();
        for code in [
            Code::Unavailable,
            Code::DeadlineExceeded,
            Code::ResourceExhausted,
            Code::Unauthenticated,
            Code::Aborted,
            Code::Unimplemented,
        ] {
            let error = upstream.failure(&Status::new(code, "no"));
            assert!(
                matches!(error, Error::Unavailable { reason, .. } if reason == DEPENDENCY_UNAVAILABLE),
                "{code:?}: {error:?}"
            );
        }
        for code in [Code::Internal, Code::DataLoss] {
            let error = upstream.failure(&Status::new(code, "no"));
            assert!(matches!(error, Error::Internal(_)), "{code:?}: {error:?}");
        }
    }
}
