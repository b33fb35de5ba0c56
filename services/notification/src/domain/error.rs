//! What can go wrong with notifications.

use twotier_platform::{ErrorCode, ServiceError};

/// A failure reading notifications.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NotificationError {
    /// No such notification for this caller (another tenant's included).
    #[error("no such notification")]
    NotFound,
}

impl ServiceError for NotificationError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::NotFound => "NOTIFICATION_NOT_FOUND",
        }
    }
}

/// Why a delivery step is refused. Only the dispatcher meets these (it
/// logs them); no caller does.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeliveryError {
    /// Not pending, not yet due, or leased by another dispatcher.
    #[error("the notification is not due for sending")]
    NotDue,
    /// Sent or failed for good already; nothing changes it any more.
    #[error("the notification was already sent or failed")]
    AlreadySettled,
}

impl ServiceError for DeliveryError {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::FailedPrecondition
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::NotDue => "NOTIFICATION_NOT_DUE",
            Self::AlreadySettled => "NOTIFICATION_ALREADY_SETTLED",
        }
    }
}

/// A template that does not render: a bug of the binary, not of the event.
/// The consumer rejects the event with it (and dead-letters it in the end),
/// so it never reaches a caller and has no error code.
#[derive(Debug, thiserror::Error)]
#[error("rendering {template}.{language}: {detail}")]
pub struct RenderError {
    /// Template name.
    pub template: &'static str,
    /// Language code.
    pub language: &'static str,
    /// What minijinja said.
    pub detail: String,
}
