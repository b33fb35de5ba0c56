//! Reading notifications and their delivery attempts.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use twotier_platform::paging;
use twotier_platform::time::{optional_timestamp, timestamp};
use twotier_proto::notification as pb;

use super::NotificationError;
use super::status;
use crate::store::entities::{delivery_attempt, notification};

/// Which notifications to list.
#[derive(Debug, Clone, Default)]
pub struct NotificationFilter {
    /// Only this tenant's (provider callers); `None` for operators.
    pub tenant_id: Option<String>,
    /// Only to this address.
    pub recipient: String,
    /// Only from this event type.
    pub event_type: String,
    /// Only in this stored status.
    pub status: Option<&'static str>,
}

/// Reads notifications.
#[derive(Clone)]
pub struct Notifications {
    db: DatabaseConnection,
}

impl Notifications {
    /// Notifications of `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Lists notifications matching `filter`, newest first.
    pub async fn list(
        &self,
        filter: &NotificationFilter,
        page_size: u64,
        page_token: &str,
    ) -> Result<(Vec<pb::Notification>, String), NotificationError> {
        let fingerprint = paging::fingerprint(&[
            filter.tenant_id.as_deref().unwrap_or("*"),
            &filter.recipient,
            &filter.event_type,
            filter.status.unwrap_or(""),
        ]);
        let after: Option<String> = paging::decode_token(page_token, &fingerprint)?;
        let mut query = notification::Entity::find()
            .order_by_desc(notification::Column::Id)
            .limit(page_size + 1);
        if let Some(tenant) = &filter.tenant_id {
            query = query.filter(notification::Column::TenantId.eq(tenant));
        }
        if !filter.recipient.is_empty() {
            query = query.filter(notification::Column::Recipient.eq(&filter.recipient));
        }
        if !filter.event_type.is_empty() {
            query = query.filter(notification::Column::SourceEventType.eq(&filter.event_type));
        }
        if let Some(state) = filter.status {
            query = query.filter(notification::Column::Status.eq(state));
        }
        if let Some(after) = after {
            query = query.filter(notification::Column::Id.lt(after));
        }
        let rows = query.all(&self.db).await?;
        let (rows, token) =
            paging::finish_page(rows, page_size, &fingerprint, |row| row.id.clone());
        Ok((rows.into_iter().map(to_proto).collect(), token))
    }

    /// One notification with its attempts; `tenant_id` restricts provider
    /// callers to their own.
    pub async fn get(
        &self,
        id: &str,
        tenant_id: Option<&str>,
    ) -> Result<pb::Notification, NotificationError> {
        let row = notification::Entity::find_by_id(id.to_owned())
            .one(&self.db)
            .await?
            .filter(|row| tenant_id.is_none_or(|tenant| row.tenant_id == tenant))
            .ok_or(NotificationError::NotFound)?;
        let attempts = delivery_attempt::Entity::find()
            .filter(delivery_attempt::Column::NotificationId.eq(id))
            .order_by_asc(delivery_attempt::Column::Attempt)
            .all(&self.db)
            .await?;
        let mut notification = to_proto(row);
        notification.delivery_attempts = attempts
            .into_iter()
            .map(|attempt| pb::DeliveryAttempt {
                attempt: attempt.attempt,
                attempt_time: Some(timestamp(attempt.attempted_at)),
                outcome: match attempt.outcome.as_str() {
                    "delivered" => pb::DeliveryOutcome::Delivered,
                    "permanent_failure" => pb::DeliveryOutcome::PermanentFailure,
                    _ => pb::DeliveryOutcome::TransientFailure,
                }
                .into(),
                error: attempt.error,
            })
            .collect();
        Ok(notification)
    }
}

/// The stored status a filter value names.
pub fn status_key(value: pb::NotificationStatus) -> Option<&'static str> {
    match value {
        pb::NotificationStatus::Pending => Some(status::PENDING),
        pb::NotificationStatus::Sent => Some(status::SENT),
        pb::NotificationStatus::Failed => Some(status::FAILED),
        pb::NotificationStatus::Unspecified => None,
    }
}

fn to_proto(row: notification::Model) -> pb::Notification {
    let state = match row.status.as_str() {
        status::SENT => pb::NotificationStatus::Sent,
        status::FAILED => pb::NotificationStatus::Failed,
        _ => pb::NotificationStatus::Pending,
    };
    pb::Notification {
        name: format!("notifications/{}", row.id),
        recipient: row.recipient,
        template: row.template,
        language_code: row.language,
        subject: row.subject,
        status: state.into(),
        attempts: row.attempts,
        tenant_id: row.tenant_id,
        source_event: Some(pb::EventReference {
            upstream: row.source_upstream,
            event_id: row.source_event_id,
            event_type: row.source_event_type,
            position: u64::try_from(row.source_position).unwrap_or_default(),
        }),
        create_time: Some(timestamp(row.created_at)),
        send_time: optional_timestamp(row.sent_at),
        last_error: row.last_error,
        delivery_attempts: Vec::new(),
        next_attempt_time: (state == pb::NotificationStatus::Pending)
            .then(|| timestamp(row.next_attempt_at)),
    }
}
