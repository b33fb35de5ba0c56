//! `NotificationService`: listing and reading notifications, each caller
//! limited to its own tenant's but the platform operator.

use tonic::{Request, Response, Status};
use twotier_platform::auth::Caller;
use twotier_platform::{Error, names, paging, validate};
use twotier_proto::notification as pb;
use twotier_proto::notification::notification_service_server::NotificationService;

use super::{Api, convert, scope};
use crate::domain::{NotificationError, NotificationFilter};
use crate::store::notification as store;

const NAME: [&str; 2] = ["notifications", "*"];

impl Api {
    async fn list(
        &self,
        request: Request<pb::ListNotificationsRequest>,
    ) -> Result<pb::ListNotificationsResponse, Error> {
        let tenant_id = scope(&request)?;
        let caller_tenant = Caller::of(&request)?.tenant_id.clone();
        let request = request.into_inner();
        let page_size = paging::page_size(request.page_size)?;
        if !request.recipient.is_empty() {
            validate::email(&request.recipient)
                .map_err(|d| Error::invalid_field("INVALID_FILTER", "recipient", d))?;
        }
        validate::line(&request.event_type, 0, 200)
            .map_err(|d| Error::invalid_field("INVALID_FILTER", "event_type", d))?;
        let status = pb::NotificationStatus::try_from(request.status).map_err(|_| {
            Error::invalid_field("INVALID_FILTER", "status", "is not a known status")
        })?;
        let filter = NotificationFilter {
            tenant_id,
            recipient: request.recipient,
            event_type: request.event_type,
            status: convert::status_filter(status),
        };
        let (notifications, next_page_token) = self
            .pages
            .list::<pb::ListNotificationsRequest>(&caller_tenant)
            .serve(&request.page_token, async |token| {
                store::list(&self.db, &filter, page_size, token).await
            })
            .await?;
        Ok(pb::ListNotificationsResponse {
            notifications: notifications
                .into_iter()
                .map(convert::notification)
                .collect(),
            next_page_token,
        })
    }

    async fn get(
        &self,
        request: Request<pb::GetNotificationRequest>,
    ) -> Result<pb::Notification, Error> {
        let tenant_id = scope(&request)?;
        let [id] = names::require(&request.get_ref().name, &NAME, "name")?;
        let notification = store::get(&self.db, id)
            .await?
            .filter(|notification| notification.visible_to(tenant_id.as_deref()))
            .ok_or(NotificationError::NotFound)?;
        Ok(convert::notification(notification))
    }
}

#[tonic::async_trait]
impl NotificationService for Api {
    async fn list_notifications(
        &self,
        request: Request<pb::ListNotificationsRequest>,
    ) -> Result<Response<pb::ListNotificationsResponse>, Status> {
        Ok(Response::new(self.list(request).await?))
    }

    async fn get_notification(
        &self,
        request: Request<pb::GetNotificationRequest>,
    ) -> Result<Response<pb::Notification>, Status> {
        Ok(Response::new(self.get(request).await?))
    }
}
