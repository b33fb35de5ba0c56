//! Protobuf <-> domain types of the notification service.

use twotier_platform::time::{optional_timestamp, timestamp};
use twotier_proto::notification as pb;

use crate::domain::{AttemptOutcome, DeliveryAttempt, Notification, Status};

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
        source_event: Some(pb::EventReference {
            upstream: notification.source.upstream,
            event_id: notification.source.event_id,
            event_type: notification.source.event_type,
            position: notification.source.position,
        }),
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
