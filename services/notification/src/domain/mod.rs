//! Notifications as plain rules: which emails an upstream event asks for,
//! to whom and in which language (R20, R21), rendered from templates; and
//! how the delivery of each moves from pending to sent or failed.

mod causes;
mod delivery;
mod email;
mod error;
mod notification;
mod profile;
mod recipient;
mod templates;

pub use causes::{
    Acceptance, Assignment, AssignmentRole, CustomerCreated, InvitationEmail, LifecycleChange,
    LifecycleNotice, Order, OrderLine, ProviderContact, RelationshipAcceptance, RelationshipEmail,
    ResellerContact,
};
pub use delivery::{Backoff, Delivery, Outcome, Settled};
pub use email::{Content, Email, Language, SealedLink, Template};
pub use error::{DeliveryError, NotificationError, RenderError};
pub use notification::{
    AttemptOutcome, DeliveryAttempt, EventSource, NewNotification, Notification,
    NotificationFilter, Outgoing, Status,
};
pub use profile::ProviderProfile;
pub use recipient::RecipientRole;
pub use templates::Templates;
