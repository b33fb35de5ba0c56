//! `NotificationService`: listing and reading notifications (R21).

pub mod access;

use tonic::{Request, Response, Status};
use twotier_platform::auth::{Caller, Role};
use twotier_platform::paging::{self, PageTokens};
use twotier_platform::{Error, names, validate};
use twotier_proto::notification as pb;
use twotier_proto::notification::notification_service_server::NotificationService;

use crate::domain::{NotificationError, NotificationFilter, Notifications};

const NAME: [&str; 2] = ["notifications", "*"];

/// Implements `NotificationService`.
#[derive(Clone)]
pub struct Api {
    notifications: Notifications,
    pages: PageTokens,
}

impl Api {
    /// The API over `notifications`, sealing page tokens with `pages`.
    pub fn new(notifications: Notifications, pages: PageTokens) -> Self {
        Self {
            notifications,
            pages,
        }
    }
}

impl From<NotificationError> for Status {
    fn from(error: NotificationError) -> Self {
        Error::from(error).into()
    }
}

/// The tenant a caller is limited to: none for the platform operator, its
/// own for provider users.
fn scope<T>(request: &Request<T>) -> Result<Option<String>, Error> {
    let caller = Caller::of(request)?;
    caller.require_any(&[Role::PlatformOperator, Role::GlobalAdmin, Role::SalesAgent])?;
    if caller.has(Role::PlatformOperator) {
        return Ok(None);
    }
    Ok(Some(caller.tenant_id.clone()))
}

#[tonic::async_trait]
impl NotificationService for Api {
    async fn list_notifications(
        &self,
        request: Request<pb::ListNotificationsRequest>,
    ) -> Result<Response<pb::ListNotificationsResponse>, Status> {
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
            status: crate::domain::status_key(status),
        };
        let (notifications, next_page_token) = self
            .pages
            .list::<pb::ListNotificationsRequest>(&caller_tenant)
            .serve(&request.page_token, async |token| {
                self.notifications.list(&filter, page_size, token).await
            })
            .await?;
        Ok(Response::new(pb::ListNotificationsResponse {
            notifications,
            next_page_token,
        }))
    }

    async fn get_notification(
        &self,
        request: Request<pb::GetNotificationRequest>,
    ) -> Result<Response<pb::Notification>, Status> {
        let tenant_id = scope(&request)?;
        let [id] = names::require(&request.get_ref().name, &NAME, "name")?;
        Ok(Response::new(
            self.notifications.get(id, tenant_id.as_deref()).await?,
        ))
    }
}
