//! A notification: one email recorded from an event, with its delivery
//! record (R21).

use chrono::{DateTime, Utc};

use super::{Delivery, Language, SealedLink, Template};

/// Where a notification is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not handed over yet; retried until it is.
    Pending,
    /// The mail system accepted it.
    Sent,
    /// The mail system refused it for good.
    Failed,
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Handed over.
    Delivered,
    /// Refused for now; tried again later.
    TransientFailure,
    /// Refused for good.
    PermanentFailure,
    /// Started, and no outcome recorded: still under way, or cut off by a
    /// crash or a database outage (the email may have gone out).
    Unconfirmed,
}

/// The upstream event a notification was recorded from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventSource {
    /// The upstream log.
    pub upstream: String,
    /// The event's id.
    pub event_id: String,
    /// The event's payload type.
    pub event_type: String,
    /// Its position in the log.
    pub position: u64,
}

/// One try to hand an email over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// 1 for the first.
    pub attempt: i32,
    /// When.
    pub attempted_at: DateTime<Utc>,
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// Error text; empty on success.
    pub error: String,
}

/// A notification as it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// UUIDv7.
    pub id: String,
    /// The provider tenant it concerns.
    pub tenant_id: String,
    /// Recipient address.
    pub recipient: String,
    /// Template name.
    pub template: String,
    /// Language code.
    pub language: String,
    /// Rendered subject.
    pub subject: String,
    /// Its delivery state.
    pub status: Status,
    /// Attempts so far.
    pub attempts: i32,
    /// The event it was recorded from.
    pub source: EventSource,
    /// When recorded.
    pub created_at: DateTime<Utc>,
    /// When sent.
    pub sent_at: Option<DateTime<Utc>>,
    /// The last attempt's error.
    pub last_error: String,
    /// When the next attempt is due (meaningful while pending).
    pub next_attempt_at: DateTime<Utc>,
    /// Every attempt, oldest first (read one at a time only).
    pub delivery_attempts: Vec<DeliveryAttempt>,
}

impl Notification {
    /// When it is tried next; nothing once sent or failed.
    pub fn next_attempt(&self) -> Option<DateTime<Utc>> {
        (self.status == Status::Pending).then_some(self.next_attempt_at)
    }

    /// Whether a caller limited to `tenant` (none: everyone's) may see it.
    pub fn visible_to(&self, tenant: Option<&str>) -> bool {
        tenant.is_none_or(|tenant| self.tenant_id == tenant)
    }
}

/// Which notifications to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationFilter {
    /// Only this tenant's (provider callers); `None` for operators.
    pub tenant_id: Option<String>,
    /// Only to this address; empty for any.
    pub recipient: String,
    /// Only from this event type; empty for any.
    pub event_type: String,
    /// Only in this state.
    pub status: Option<Status>,
}

/// An email rendered, to be recorded as pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    /// Recipient address.
    pub recipient: String,
    /// Which email.
    pub template: Template,
    /// Its language.
    pub language: Language,
    /// Subject.
    pub subject: String,
    /// Body; a personal link in it is sealed.
    pub body: String,
    /// The link the body's marker stands for.
    pub sealed_link: Option<SealedLink>,
    /// Whom or what it is about ([`crate::domain::Email::about`]).
    pub about: String,
}

/// The error an email recorded without an address carries.
pub const NO_RECIPIENT: &str = "no recipient address known: the provider has no listing contact and the token of the user who caused it carried no email";

impl NewNotification {
    /// How it is recorded at `now`: pending, due at once; or, with no
    /// address to send to (a provider without a listing contact whose user
    /// had no `email` claim), failed for good without an attempt, so the
    /// email that could not go out is still on record (R21) with why.
    pub fn delivery(&self, now: DateTime<Utc>) -> (Delivery, &'static str) {
        let pending = Delivery::new(now);
        if self.recipient.is_empty() {
            let failed = Delivery {
                status: Status::Failed,
                ..pending
            };
            return (failed, NO_RECIPIENT);
        }
        (pending, "")
    }
}

/// A recorded email as the dispatcher sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The notification's id (also the Message-ID's).
    pub id: String,
    /// Template name, for logs.
    pub template: String,
    /// Recipient address.
    pub recipient: String,
    /// Subject.
    pub subject: String,
    /// Body, its link sealed.
    pub body: String,
    /// The link the body's marker stands for.
    pub sealed_link: Option<SealedLink>,
    /// The provider tenant it concerns.
    pub tenant_id: String,
    /// The event it was recorded from.
    pub source: EventSource,
    /// Its delivery as read.
    pub delivery: Delivery,
    /// W3C `traceparent` of the event handling that recorded it.
    pub traceparent: String,
    /// W3C `tracestate` to go with it.
    pub tracestate: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification(status: Status) -> Notification {
        Notification {
            id: "n".into(),
            tenant_id: "contoso".into(),
            recipient: "a@example.com".into(),
            template: "order_placed".into(),
            language: "en".into(),
            subject: "s".into(),
            status,
            attempts: 1,
            source: EventSource::default(),
            created_at: DateTime::UNIX_EPOCH,
            sent_at: None,
            last_error: String::new(),
            next_attempt_at: DateTime::UNIX_EPOCH,
            delivery_attempts: Vec::new(),
        }
    }

    fn new_notification(recipient: &str) -> NewNotification {
        NewNotification {
            recipient: recipient.into(),
            template: Template::PartnershipAccepted,
            language: Language::English,
            subject: "s".into(),
            body: "b".into(),
            sealed_link: None,
            about: String::new(),
        }
    }

    #[test]
    fn an_email_is_recorded_pending_and_due_at_once() {
        let now = DateTime::UNIX_EPOCH;
        let (delivery, error) = new_notification("a@example.com").delivery(now);
        assert_eq!(delivery, Delivery::new(now));
        assert!(delivery.is_due(now));
        assert_eq!(error, "");
    }

    #[test]
    fn an_email_without_an_address_is_recorded_failed_without_an_attempt() {
        let now = DateTime::UNIX_EPOCH;
        let (delivery, error) = new_notification("").delivery(now);
        assert_eq!(delivery.status, Status::Failed);
        assert_eq!(delivery.attempts, 0);
        assert!(!delivery.is_due(now));
        assert_eq!(error, NO_RECIPIENT);
    }

    #[test]
    fn only_a_pending_notification_has_a_next_attempt() {
        assert!(notification(Status::Pending).next_attempt().is_some());
        assert!(notification(Status::Sent).next_attempt().is_none());
        assert!(notification(Status::Failed).next_attempt().is_none());
    }

    #[test]
    fn a_provider_sees_its_own_tenants_notifications_and_the_operator_all() {
        let n = notification(Status::Sent);
        assert!(n.visible_to(None));
        assert!(n.visible_to(Some("contoso")));
        assert!(!n.visible_to(Some("northwind")));
    }
}
