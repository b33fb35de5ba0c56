//! What can go wrong reading notifications.

use twotier_platform::Error;

/// A notification-domain failure.
#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    /// No such notification for this caller.
    #[error("no such notification")]
    NotFound,
    /// Validation, permissions and the database.
    #[error(transparent)]
    Platform(#[from] Error),
}

impl From<sea_orm::DbErr> for NotificationError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Platform(error.into())
    }
}

impl From<NotificationError> for Error {
    fn from(error: NotificationError) -> Self {
        match error {
            NotificationError::NotFound => Error::NotFound {
                reason: "NOTIFICATION_NOT_FOUND",
                message: "no such notification".into(),
            },
            NotificationError::Platform(inner) => inner,
        }
    }
}
