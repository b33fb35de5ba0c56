//! Notifications: recording the emails R20 asks for (rendered from
//! templates in the recipient's language) and delivering them (R21).

mod dispatcher;
mod error;
mod mailer;
mod query;
mod record;
mod settings;
mod templates;

pub use dispatcher::Dispatcher;
pub use error::NotificationError;
pub use mailer::{Mailer, SendError, mailer_from};
pub use query::{NotificationFilter, Notifications, status_key};
pub use record::{NewNotification, record};
pub use settings::{MailSettings, TlsMode};
pub use templates::Templates;

/// Notification states as stored.
pub(crate) mod status {
    pub const PENDING: &str = "pending";
    pub const SENT: &str = "sent";
    pub const FAILED: &str = "failed";
}
