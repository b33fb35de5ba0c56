//! A service's own (domain) errors, Quickwit's `ServiceError` pattern:
//! every variant names its [`ErrorCode`] and a stable reason, its `Display`
//! is the message a caller reads, and [`From`] turns it into an [`Error`],
//! the one type that becomes a `tonic::Status`. Domain errors implement it
//! without knowing anything of gRPC.

use crate::error::{Error, FieldViolation};

/// The kind of a service's own failure: which status it is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Bad input in `field` (`INVALID_ARGUMENT` with a field violation).
    InvalidArgument {
        /// Path of the offending field, e.g. `body`.
        field: &'static str,
    },
    /// The caller may not do this (`PERMISSION_DENIED`).
    PermissionDenied,
    /// No such resource for this caller (`NOT_FOUND`).
    NotFound,
    /// It exists already (`ALREADY_EXISTS`).
    AlreadyExists,
    /// A business rule refuses it in the current state (`FAILED_PRECONDITION`).
    FailedPrecondition,
    /// Someone else changed it first (`ABORTED`).
    Aborted,
    /// A limit refuses it for now (`RESOURCE_EXHAUSTED`).
    ResourceExhausted,
    /// A dependency is down (`UNAVAILABLE`).
    Unavailable,
}

/// A service's own error (Quickwit's `ServiceError` pattern): every variant
/// names its [`ErrorCode`] and a stable reason, its `Display` is the message
/// a caller reads, and [`From`] turns it into an [`Error`], the one type
/// that becomes a `tonic::Status`. Domain errors implement it without
/// knowing anything of gRPC.
pub trait ServiceError: std::error::Error {
    /// How the error is answered.
    fn error_code(&self) -> ErrorCode;
    /// The stable `ErrorInfo.reason`.
    fn reason(&self) -> &'static str;
}

impl<E: ServiceError> From<E> for Error {
    fn from(error: E) -> Self {
        let reason = error.reason();
        let message = error.to_string();
        match error.error_code() {
            ErrorCode::InvalidArgument { field } => Error::InvalidArgument {
                reason,
                message: format!("{field}: {message}"),
                violations: vec![FieldViolation {
                    field: field.to_owned(),
                    description: message,
                }],
            },
            ErrorCode::PermissionDenied => Error::PermissionDenied { reason, message },
            ErrorCode::NotFound => Error::NotFound { reason, message },
            ErrorCode::AlreadyExists => Error::AlreadyExists { reason, message },
            ErrorCode::FailedPrecondition => Error::FailedPrecondition { reason, message },
            ErrorCode::Aborted => Error::Aborted { reason, message },
            ErrorCode::ResourceExhausted => Error::ResourceExhausted { reason, message },
            ErrorCode::Unavailable => Error::Unavailable { reason, message },
        }
    }
}

#[cfg(test)]
mod tests {
    use tonic::{Code, Status};
    use tonic_types::StatusExt;

    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum InvitationError {
        #[error("the invitation expired")]
        Expired,
        #[error("must contain the invitation link")]
        LinkMissing,
    }

    impl ServiceError for InvitationError {
        fn error_code(&self) -> ErrorCode {
            match self {
                Self::Expired => ErrorCode::FailedPrecondition,
                Self::LinkMissing => ErrorCode::InvalidArgument { field: "body" },
            }
        }

        fn reason(&self) -> &'static str {
            match self {
                Self::Expired => "INVITATION_EXPIRED",
                Self::LinkMissing => "INVITATION_LINK_MISSING",
            }
        }
    }

    #[test]
    fn service_errors_become_statuses_with_their_code_reason_and_field() {
        let status = Status::from(Error::from(InvitationError::Expired));
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(status.message(), "the invitation expired");
        let details = status.get_error_details();
        assert_eq!(details.error_info().unwrap().reason, "INVITATION_EXPIRED");
        let status = Status::from(Error::from(InvitationError::LinkMissing));
        assert_eq!(status.code(), Code::InvalidArgument);
        let violations = status.get_error_details().bad_request().unwrap().clone();
        assert_eq!(violations.field_violations[0].field, "body");
    }
}
