//! Outgoing mail, the notification service's second kind of IO beside the
//! database: the dispatcher that sends due notifications and the mailers
//! it hands them to (SMTP, or `.eml` files in a mail folder).

mod dispatcher;
mod gauges;
mod mailer;
mod settings;
mod settlements;
mod smtp;

pub use dispatcher::Dispatcher;
pub use gauges::sample_queue;
pub use mailer::{Mailer, SendError, mailer_from};
pub use settings::{MailSettings, TlsMode};
pub use settlements::{Settlement, Settlements};
