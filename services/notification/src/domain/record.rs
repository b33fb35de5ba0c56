//! Recording the emails an event asks for, in the consumer's transaction.

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, EntityTrait};
use twotier_outbox::HandleError;
use twotier_proto::events::EventEnvelope;

use super::status;
use crate::store::entities::notification;

/// An email to send, rendered.
#[derive(Debug, Clone)]
pub struct NewNotification {
    /// Recipient address.
    pub recipient: String,
    /// Template name.
    pub template: &'static str,
    /// `en` or `de`.
    pub language: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// The capability token (`<kind>:<id>`) the body's marker stands for.
    pub sealed_link: Option<String>,
}

/// Records `notifications` for `event` of `upstream`. The unique key
/// (event, recipient, template) makes recording idempotent: an event handled
/// twice still yields one email each.
pub async fn record(
    txn: &DatabaseTransaction,
    upstream: &str,
    event: &EventEnvelope,
    notifications: Vec<NewNotification>,
) -> Result<(), HandleError> {
    let now = Utc::now();
    let (traceparent, tracestate) = twotier_platform::telemetry::current_trace_context();
    for email in notifications {
        if email.recipient.is_empty() {
            tracing::warn!(template = email.template, event_id = %event.event_id, "no recipient address known; email skipped");
            continue;
        }
        let row = notification::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            tenant_id: Set(event.tenant_id.clone()),
            recipient: Set(email.recipient),
            template: Set(email.template.to_owned()),
            language: Set(email.language),
            subject: Set(email.subject),
            body: Set(email.body),
            status: Set(status::PENDING.to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            lease_until: Set(None),
            last_error: Set(String::new()),
            source_upstream: Set(upstream.to_owned()),
            source_event_id: Set(event.event_id.clone()),
            source_event_type: Set(event.event_type.clone()),
            source_position: Set(i64::try_from(event.position).unwrap_or(i64::MAX)),
            created_at: Set(now),
            sent_at: Set(None),
            traceparent: Set(traceparent.clone()),
            tracestate: Set(tracestate.clone()),
            sealed_link: Set(email.sealed_link),
        };
        notification::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    notification::Column::SourceEventId,
                    notification::Column::Recipient,
                    notification::Column::Template,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}
