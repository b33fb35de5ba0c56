//! Synchronous calls to another twotier service, for reads that must be
//! fresh at the moment of a command: with a deadline, the caller's identity
//! and the trace context forwarded.

use std::time::Duration;

use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::auth::Caller;
use crate::channel::{ChannelError, ChannelOptions, ClientChannels};
use crate::error::Error;

/// How long a call to another service may take.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(3);

/// A connection to another service.
#[derive(Clone, Debug)]
pub struct Upstream {
    name: &'static str,
    channel: Channel,
    deadline: Duration,
}

impl Upstream {
    /// A lazily connected channel to `endpoint` (e.g.
    /// `http://127.0.0.1:50052`), named `name` in errors.
    pub fn new(
        name: &'static str,
        channels: &ClientChannels,
        endpoint: &str,
        deadline: Duration,
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
        })
    }

    /// The channel, for a generated client.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// `message` as a request on behalf of `caller`: its bearer token, the
    /// current trace context and the deadline.
    pub fn request<T>(&self, caller: &Caller, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.set_timeout(self.deadline);
        if let Ok(bearer) = format!("Bearer {}", caller.bearer).parse() {
            request.metadata_mut().insert("authorization", bearer);
        }
        crate::telemetry::inject_trace_context(request.metadata_mut());
        request
    }

    /// The error for a failed call: the upstream being unreachable, slow or
    /// overloaded is UNAVAILABLE here; anything else is unexpected.
    pub fn failure(&self, status: &Status) -> Error {
        match status.code() {
            Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Cancelled
            | Code::ResourceExhausted
            | Code::Unknown => {
                tracing::warn!(upstream = self.name, code = ?status.code(), message = status.message(), "upstream unavailable");
                Error::Unavailable {
                    reason: "DEPENDENCY_UNAVAILABLE",
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

/// The `google.rpc.ErrorInfo.reason` of a status, if it has one.
pub fn reason_of(status: &Status) -> Option<String> {
    status.get_details_error_info().map(|info| info.reason)
}
