//! Protobuf <-> domain types of the notification service.

use twotier_outbox::Event;
use twotier_platform::time::{optional_timestamp, timestamp};
use twotier_proto::notification as pb;

use crate::domain::{
    AttemptOutcome, DeliveryAttempt, EventSource, Notification, Outgoing, RecipientRole, Settled,
    Status, Template,
};

/// The state a list filter names; `None` for any.
pub fn status_filter(value: pb::NotificationStatus) -> Option<Status> {
    match value {
        pb::NotificationStatus::Pending => Some(Status::Pending),
        pb::NotificationStatus::Sent => Some(Status::Sent),
        pb::NotificationStatus::Failed => Some(Status::Failed),
        pb::NotificationStatus::Unspecified => None,
    }
}

fn status(value: Status) -> pb::NotificationStatus {
    match value {
        Status::Pending => pb::NotificationStatus::Pending,
        Status::Sent => pb::NotificationStatus::Sent,
        Status::Failed => pb::NotificationStatus::Failed,
    }
}

fn outcome(value: AttemptOutcome) -> pb::DeliveryOutcome {
    match value {
        AttemptOutcome::Delivered => pb::DeliveryOutcome::Delivered,
        AttemptOutcome::TransientFailure => pb::DeliveryOutcome::TransientFailure,
        AttemptOutcome::PermanentFailure => pb::DeliveryOutcome::PermanentFailure,
        AttemptOutcome::Unconfirmed => pb::DeliveryOutcome::Unconfirmed,
    }
}

fn attempt(attempt: DeliveryAttempt) -> pb::DeliveryAttempt {
    pb::DeliveryAttempt {
        attempt: attempt.attempt,
        attempt_time: Some(timestamp(attempt.attempted_at)),
        outcome: outcome(attempt.outcome).into(),
        error: attempt.error,
    }
}

/// A notification as the API shows it.
pub fn notification(notification: Notification) -> pb::Notification {
    let next_attempt_time = notification.next_attempt().map(timestamp);
    pb::Notification {
        name: format!("notifications/{}", notification.id),
        recipient: notification.recipient,
        template: notification.template,
        language_code: notification.language,
        subject: notification.subject,
        status: status(notification.status).into(),
        attempts: notification.attempts,
        tenant_id: notification.tenant_id,
        source_event: Some(event_reference(notification.source)),
        create_time: Some(timestamp(notification.created_at)),
        send_time: optional_timestamp(notification.sent_at),
        last_error: notification.last_error,
        delivery_attempts: notification
            .delivery_attempts
            .into_iter()
            .map(attempt)
            .collect(),
        next_attempt_time,
    }
}

fn event_reference(source: EventSource) -> pb::EventReference {
    pb::EventReference {
        upstream: source.upstream,
        event_id: source.event_id,
        event_type: source.event_type,
        position: source.position,
    }
}

fn recipient_role(template: &str) -> pb::RecipientRole {
    match Template::parse(template).map(Template::recipient) {
        Some(RecipientRole::Provider) => pb::RecipientRole::Provider,
        Some(RecipientRole::Reseller) => pb::RecipientRole::Reseller,
        Some(RecipientRole::Invitee) => pb::RecipientRole::Invitee,
        Some(RecipientRole::CustomerAdmin) => pb::RecipientRole::CustomerAdmin,
        None => pb::RecipientRole::Unspecified,
    }
}

/// The notification log's report of an attempt on `email` that ended as
/// `settled`: `EmailSent` or `EmailFailed`, for the email's provider
/// tenant, without address, text, link or error (R30).
pub fn delivery_report(email: &Outgoing, settled: &Settled) -> Event {
    let notification = format!("notifications/{}", email.id);
    let cause = Some(event_reference(email.source.clone()));
    let recipient_role = recipient_role(&email.template).into();
    let attempts = settled.delivery.attempts;
    let tenant = &email.tenant_id;
    if settled.outcome == AttemptOutcome::Delivered {
        let sent = pb::EmailSent {
            notification,
            provider_id: tenant.clone(),
            kind: email.template.clone(),
            cause,
            recipient_role,
            attempts,
            send_time: Some(timestamp(settled.sent_at.unwrap_or(settled.attempted_at))),
        };
        return Event::new(AGGREGATE, &email.id, tenant, &sent);
    }
    let permanent = settled.outcome == AttemptOutcome::PermanentFailure;
    let failed = pb::EmailFailed {
        notification,
        provider_id: tenant.clone(),
        kind: email.template.clone(),
        cause,
        recipient_role,
        attempts,
        permanent,
        attempt_time: Some(timestamp(settled.attempted_at)),
        next_attempt_time: (!permanent).then(|| timestamp(settled.delivery.next_attempt_at)),
    };
    Event::new(AGGREGATE, &email.id, tenant, &failed)
}

/// The aggregate type of the notification log's events.
const AGGREGATE: &str = "notification";
