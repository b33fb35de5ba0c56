//! The one error type of the API layer and its mapping to `tonic::Status`.
//!
//! Every failure a caller can see carries a stable machine-readable reason
//! (`google.rpc.ErrorInfo.reason`), and invalid input also carries the
//! offending fields (`google.rpc.BadRequest`). Services define their own
//! typed domain errors and convert them into [`Error`]; this module is the
//! only place that builds a `tonic::Status`.

use std::time::Duration;

use tonic::metadata::MetadataValue;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

// Defined beside the codec that answers undecodable requests, which runs
// below this crate; one constant for both.
pub use twotier_proto::ERROR_DOMAIN;

/// How long a caller should wait, on average, before retrying an
/// overloaded or unavailable service.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_millis(500);

/// Trailer in which gRPC's retry policy looks for how long to wait, in
/// milliseconds (gRFC A6 "server pushback").
pub const RETRY_PUSHBACK_HEADER: &str = "grpc-retry-pushback-ms";

/// [`DEFAULT_RETRY_AFTER`] spread over half to one and a half of it.
/// Callers refused at the same moment (a burst over the concurrency limit,
/// every call during a database outage) then come back spread out, not
/// together as the next burst.
fn spread_retry_after() -> Duration {
    DEFAULT_RETRY_AFTER.mul_f64(rand::random_range(0.5..1.5))
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path of the field, e.g. `reseller.contact_email`.
    pub field: String,
    /// Why it is invalid, in words for a person.
    pub description: String,
}

/// A failure as the caller sees it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed; nothing was changed.
    #[error("{message}")]
    InvalidArgument {
        reason: &'static str,
        message: String,
        violations: Vec<FieldViolation>,
    },
    /// No credentials, or credentials that do not verify.
    #[error("{message}")]
    Unauthenticated {
        reason: &'static str,
        message: String,
    },
    /// The caller is known but its roles do not allow the call.
    #[error("{message}")]
    PermissionDenied {
        reason: &'static str,
        message: String,
    },
    /// The resource does not exist, or belongs to another tenant.
    #[error("{message}")]
    NotFound {
        reason: &'static str,
        message: String,
    },
    /// The resource to create exists already.
    #[error("{message}")]
    AlreadyExists {
        reason: &'static str,
        message: String,
    },
    /// The system is not in the state the call needs (a business rule).
    #[error("{message}")]
    FailedPrecondition {
        reason: &'static str,
        message: String,
    },
    /// A concurrent change won (stale etag); read again and retry.
    #[error("{message}")]
    Aborted {
        reason: &'static str,
        message: String,
    },
    /// Too much load; retry after the hinted delay.
    #[error("{message}")]
    ResourceExhausted {
        reason: &'static str,
        message: String,
    },
    /// A rate limit refused the call; retry after `retry_after`.
    #[error("{message}")]
    RateLimited {
        reason: &'static str,
        message: String,
        retry_after: Duration,
    },
    /// The call ran out of time (e.g. its request never finished arriving).
    #[error("{message}")]
    DeadlineExceeded {
        reason: &'static str,
        message: String,
    },
    /// Past the valid range, which the system's state may move (a log
    /// position beyond its head).
    #[error("{message}")]
    OutOfRange {
        reason: &'static str,
        message: String,
    },
    /// No such method here (a client newer than this server, or a
    /// mistyped path).
    #[error("{message}")]
    Unimplemented {
        reason: &'static str,
        message: String,
    },
    /// A dependency (database, another service) is down; retry later.
    #[error("{message}")]
    Unavailable {
        reason: &'static str,
        message: String,
    },
    /// A bug or an unexpected failure. The message is logged, not returned.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// A request with one invalid field.
    pub fn invalid_field(
        reason: &'static str,
        field: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        let violation = FieldViolation {
            field: field.into(),
            description: description.into(),
        };
        Self::InvalidArgument {
            reason,
            message: format!("{}: {}", violation.field, violation.description),
            violations: vec![violation],
        }
    }

    /// The machine-readable reason of this error.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::InvalidArgument { reason, .. }
            | Self::Unauthenticated { reason, .. }
            | Self::PermissionDenied { reason, .. }
            | Self::NotFound { reason, .. }
            | Self::AlreadyExists { reason, .. }
            | Self::FailedPrecondition { reason, .. }
            | Self::Aborted { reason, .. }
            | Self::ResourceExhausted { reason, .. }
            | Self::RateLimited { reason, .. }
            | Self::DeadlineExceeded { reason, .. }
            | Self::OutOfRange { reason, .. }
            | Self::Unimplemented { reason, .. }
            | Self::Unavailable { reason, .. } => reason,
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// The gRPC status code of this error.
    pub fn code(&self) -> Code {
        match self {
            Self::InvalidArgument { .. } => Code::InvalidArgument,
            Self::Unauthenticated { .. } => Code::Unauthenticated,
            Self::PermissionDenied { .. } => Code::PermissionDenied,
            Self::NotFound { .. } => Code::NotFound,
            Self::AlreadyExists { .. } => Code::AlreadyExists,
            Self::FailedPrecondition { .. } => Code::FailedPrecondition,
            Self::Aborted { .. } => Code::Aborted,
            Self::ResourceExhausted { .. } | Self::RateLimited { .. } => Code::ResourceExhausted,
            Self::DeadlineExceeded { .. } => Code::DeadlineExceeded,
            Self::OutOfRange { .. } => Code::OutOfRange,
            Self::Unimplemented { .. } => Code::Unimplemented,
            Self::Unavailable { .. } => Code::Unavailable,
            Self::Internal(_) => Code::Internal,
        }
    }

    /// A stale etag.
    pub fn etag_mismatch(resource: &str) -> Self {
        Self::Aborted {
            reason: "ETAG_MISMATCH",
            message: format!("{resource} was changed by someone else; read it again and retry"),
        }
    }

    /// A caller without the roles the call needs.
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::PermissionDenied {
            reason: "ROLE_NOT_ALLOWED",
            message: message.into(),
        }
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        error.into_status_with(std::collections::HashMap::new())
    }
}

impl Error {
    /// This error as a status whose `ErrorInfo` also carries `metadata`,
    /// facts a caller acts on (e.g. `oldest_retained_position` of a pruned
    /// log).
    pub fn into_status_with(self, metadata: std::collections::HashMap<String, String>) -> Status {
        let error = self;
        let code = error.code();
        let reason = error.reason();
        let retry_after = match &error {
            Error::RateLimited { retry_after, .. } => Some(*retry_after),
            _ if matches!(code, Code::Unavailable | Code::ResourceExhausted) => {
                Some(spread_retry_after())
            }
            _ => None,
        };
        let (message, violations) = match error {
            Error::InvalidArgument {
                message,
                violations,
                ..
            } => (message, violations),
            Error::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                ("internal error".to_owned(), Vec::new())
            }
            other => (other.to_string(), Vec::new()),
        };
        let mut details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, metadata);
        for violation in violations {
            details.add_bad_request_violation(violation.field, violation.description);
        }
        let Some(retry_after) = retry_after else {
            return Status::with_error_details(code, message, details);
        };
        details.set_retry_info(Some(retry_after));
        let mut status = Status::with_error_details(code, message, details);
        // The same wait as gRPC's own retry policy reads it (gRFC A6
        // server pushback), for clients that retry without decoding
        // RetryInfo.
        if let Ok(pushback) = MetadataValue::try_from(retry_after.as_millis().to_string()) {
            status
                .metadata_mut()
                .insert(RETRY_PUSHBACK_HEADER, pushback);
        }
        status
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(error: sea_orm::DbErr) -> Self {
        if crate::db::is_retryable(&error) {
            tracing::warn!(error = %error, "database unavailable");
            return Self::Unavailable {
                reason: "DATABASE_UNAVAILABLE",
                message: "the database is unavailable; retry later".to_owned(),
            };
        }
        if crate::db::is_unstorable_text(&error) {
            return Self::InvalidArgument {
                reason: "UNSTORABLE_TEXT",
                message: "a text value of the request holds a character that cannot be stored (a NUL character)".to_owned(),
                violations: Vec::new(),
            };
        }
        Self::Internal(format!("database: {error}"))
    }
}

impl From<sea_orm::TransactionError<Error>> for Error {
    fn from(error: sea_orm::TransactionError<Error>) -> Self {
        match error {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(inner) => inner,
        }
    }
}

/// Collects every invalid field of a request before failing, so a caller
/// sees all its mistakes at once.
#[derive(Debug, Default)]
pub struct Violations {
    violations: Vec<FieldViolation>,
}

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a violation.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.violations.push(FieldViolation {
            field: field.into(),
            description: description.into(),
        });
    }

    /// Records the violation of a check that returned an error description.
    pub fn check(&mut self, field: impl Into<String>, outcome: Result<(), String>) {
        if let Err(description) = outcome {
            self.add(field, description);
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.violations.is_empty()
    }

    /// `Ok` when nothing was recorded, else `INVALID_ARGUMENT` with `reason`.
    pub fn into_result(self, reason: &'static str) -> Result<(), Error> {
        if self.violations.is_empty() {
            return Ok(());
        }
        let message = self
            .violations
            .iter()
            .map(|v| format!("{}: {}", v.field, v.description))
            .collect::<Vec<_>>()
            .join("; ");
        Err(Error::InvalidArgument {
            reason,
            message,
            violations: self.violations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_carries_reason_and_fields() {
        let mut violations = Violations::new();
        violations.add("reseller.contact_email", "not an email address");
        violations.add("reseller.partner_id", "must be 6 to 10 digits");
        let status = Status::from(violations.into_result("INVALID_RESELLER").unwrap_err());
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        assert_eq!(details.error_info().unwrap().reason, "INVALID_RESELLER");
        let fields: Vec<_> = details
            .bad_request()
            .unwrap()
            .field_violations
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(fields, ["reseller.contact_email", "reseller.partner_id"]);
    }

    #[test]
    fn internal_errors_hide_their_detail() {
        let status = Status::from(Error::Internal("secret sql".into()));
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("secret"));
    }

    #[test]
    fn undecodable_requests_are_refused_in_the_shape_of_every_other_error() {
        use prost::Message;
        use twotier_proto::codec::{MALFORMED_REQUEST, decode_error};
        use twotier_proto::customer::ListCustomersRequest;
        let truncated = ListCustomersRequest::decode([0x0a_u8, 0x05, 0x41].as_slice()).unwrap_err();
        let from_codec = decode_error::<ListCustomersRequest>(truncated);
        let from_here = Status::from(Error::InvalidArgument {
            reason: MALFORMED_REQUEST,
            message: String::new(),
            violations: Vec::new(),
        });
        assert_eq!(from_codec.code(), from_here.code());
        let info = |status: &Status| {
            let details = status.get_error_details();
            let info = details.error_info().cloned().expect("ErrorInfo");
            (info.reason, info.domain, info.metadata)
        };
        assert_eq!(info(&from_codec), info(&from_here));
    }

    #[test]
    fn retry_hints_are_spread_around_the_default() {
        let delays: std::collections::BTreeSet<Duration> = (0..200)
            .map(|_| {
                let status = Status::from(Error::ResourceExhausted {
                    reason: "SERVER_OVERLOADED",
                    message: "busy".into(),
                });
                status
                    .get_error_details()
                    .retry_info()
                    .and_then(|info| info.retry_delay)
                    .expect("a retry delay")
            })
            .collect();
        let (Some(shortest), Some(longest)) = (delays.first(), delays.last()) else {
            panic!("no delays");
        };
        assert!(*shortest >= DEFAULT_RETRY_AFTER / 2, "{shortest:?}");
        assert!(*longest <= DEFAULT_RETRY_AFTER * 3 / 2, "{longest:?}");
        assert!(delays.len() > 100, "spread, not one value: {delays:?}");
    }

    #[test]
    fn a_retry_hint_is_also_a_pushback_trailer_and_only_on_transient_refusals() {
        let status = Status::from(Error::Unavailable {
            reason: "DATABASE_UNAVAILABLE",
            message: "down".into(),
        });
        let delay = status
            .get_error_details()
            .retry_info()
            .and_then(|info| info.retry_delay)
            .expect("a retry delay");
        let pushback = status
            .metadata()
            .get(RETRY_PUSHBACK_HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(|ms| ms.parse::<u128>().ok());
        assert_eq!(pushback, Some(delay.as_millis()));

        let not_found = Status::from(Error::NotFound {
            reason: "PARTNERSHIP_NOT_FOUND",
            message: "no".into(),
        });
        assert!(not_found.get_error_details().retry_info().is_none());
        assert!(not_found.metadata().get(RETRY_PUSHBACK_HEADER).is_none());
    }

    #[test]
    fn unavailable_carries_retry_info() {
        let status = Status::from(Error::Unavailable {
            reason: "DATABASE_UNAVAILABLE",
            message: "down".into(),
        });
        assert!(status.get_error_details().retry_info().is_some());
    }
}
