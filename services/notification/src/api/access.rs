//! Who may call each RPC of the notification service (enforced before the
//! call reaches a handler): a provider reads its own tenant's emails, the
//! platform operator everyone's.

use twotier_platform::auth::Access::AnyOf;
use twotier_platform::auth::{Role, Rule};

const NOTIFICATIONS: &str = "twotier.notification.v1.NotificationService";

const READERS: &[Role] = &[Role::PlatformOperator, Role::GlobalAdmin, Role::SalesAgent];

/// The rules of `NotificationService`.
pub const NOTIFICATION_RULES: &[Rule] = &[
    Rule::new(NOTIFICATIONS, "ListNotifications", AnyOf(READERS)),
    Rule::new(NOTIFICATIONS, "GetNotification", AnyOf(READERS)),
];
