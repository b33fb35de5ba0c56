//! The gRPC face of the subscription service: decode and validate requests,
//! check the tenant's resources, load the domain's types, let them decide,
//! save and answer. Who may call what is decided in [`access`] alone.

pub mod access;
mod cart;
mod catalog;
mod convert;
mod lifecycle;
mod order;
mod subscription;
mod upstream;

use std::time::Duration;

use chrono::TimeDelta;
use tonic::{Request, Response, Status};
use twotier_outbox::Outbox;
use twotier_partners::PartnerDirectory;
use twotier_platform::Error;
use twotier_platform::auth::Caller;
use twotier_platform::paging::PageTokens;
use twotier_proto::subscription as pb;
use twotier_proto::subscription::subscription_service_server::SubscriptionService;

pub use upstream::Upstreams;

use crate::domain::CancellationWindow;

/// Settings of the subscription service.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SubscriptionSettings {
    /// R27: how long after purchase a subscription may be cancelled and
    /// its licence quantity decreased (`TWOTIER_SUBSCRIPTION_CANCELLATION_WINDOW`).
    #[serde(default = "default_cancellation_window", with = "humantime_serde")]
    pub cancellation_window: Duration,
}

impl Default for SubscriptionSettings {
    fn default() -> Self {
        Self {
            cancellation_window: default_cancellation_window(),
        }
    }
}

impl SubscriptionSettings {
    /// The cancellation window; a length beyond what a date can hold means
    /// "always".
    pub fn window(&self) -> CancellationWindow {
        TimeDelta::from_std(self.cancellation_window).map_or(
            CancellationWindow::new(TimeDelta::MAX),
            CancellationWindow::new,
        )
    }
}

fn default_cancellation_window() -> Duration {
    CancellationWindow::DEFAULT.length()
}

/// Implements `SubscriptionService`.
#[derive(Clone)]
pub struct Api {
    outbox: Outbox,
    directory: PartnerDirectory,
    upstream: Upstreams,
    pages: PageTokens,
    window: CancellationWindow,
}

impl Api {
    /// The API over `outbox`'s database, its partner projection and the
    /// services it asks, sealing page tokens with `pages`; subscriptions
    /// bought through it are cancellable for `window`.
    pub fn new(
        outbox: Outbox,
        directory: PartnerDirectory,
        upstream: Upstreams,
        pages: PageTokens,
        window: CancellationWindow,
    ) -> Self {
        Self {
            outbox,
            directory,
            upstream,
            pages,
            window,
        }
    }

    /// Connections for queries (see [`Outbox::reads`]); commands run in
    /// [`Outbox::command`].
    fn db(&self) -> &sea_orm::DatabaseConnection {
        self.outbox.reads()
    }

    /// The same, for the reads made by position (`store::by_position`):
    /// on SQLite in the calling thread, on PostgreSQL on held connections.
    fn reads(&self) -> &twotier_platform::inline_reads::Reads {
        self.outbox.reads_by_position()
    }

    /// Where to reach a reseller, from the partner projection once caught up
    /// (an address changed a moment ago is the one written into the event).
    /// Callers ask only for resellers the partnership service has just
    /// verified, so one the projection does not know means it could not
    /// catch up: the command fails as UNAVAILABLE instead of writing an
    /// event that would leave the reseller without its email. Never inside
    /// a command's transaction: the lookup may wait.
    async fn reseller_contact(&self, partner_id: &str) -> Result<pb::ResellerContact, Error> {
        let reseller = self
            .directory
            .current_reseller(partner_id)
            .await?
            .ok_or_else(|| Error::Unavailable {
                reason: twotier_platform::upstream::DEPENDENCY_UNAVAILABLE,
                message: format!("reseller {partner_id} is not known here yet; retry shortly"),
            })?;
        Ok(convert::reseller_contact(reseller))
    }
}

/// The verified caller of a request.
fn caller<T>(request: &Request<T>) -> Result<Caller, Error> {
    Ok(Caller::of(request)?.clone())
}

fn reply<T>(outcome: Result<T, Error>) -> Result<Response<T>, Status> {
    outcome.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl SubscriptionService for Api {
    async fn list_offers(
        &self,
        request: Request<pb::ListOffersRequest>,
    ) -> Result<Response<pb::ListOffersResponse>, Status> {
        reply(self.list_offers_call(request).await)
    }

    async fn get_offer(
        &self,
        request: Request<pb::GetOfferRequest>,
    ) -> Result<Response<pb::Offer>, Status> {
        reply(self.get_offer_call(request).await)
    }

    async fn create_cart(
        &self,
        request: Request<pb::CreateCartRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        let request_id = request.get_ref().request_id.clone();
        let resource = request.get_ref().parent.clone();
        reply(
            self.outbox
                .audited(&resource, &request_id, self.create_cart_call(request))
                .await,
        )
    }

    async fn get_cart(
        &self,
        request: Request<pb::GetCartRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        reply(self.get_cart_call(request).await)
    }

    async fn add_line_item(
        &self,
        request: Request<pb::AddLineItemRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        let resource = request.get_ref().cart.clone();
        reply(
            self.outbox
                .audited(&resource, "", self.add_line_item_call(request))
                .await,
        )
    }

    async fn update_line_item(
        &self,
        request: Request<pb::UpdateLineItemRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        let resource = request.get_ref().cart.clone();
        reply(
            self.outbox
                .audited(&resource, "", self.update_line_item_call(request))
                .await,
        )
    }

    async fn remove_line_item(
        &self,
        request: Request<pb::RemoveLineItemRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        let resource = request.get_ref().cart.clone();
        reply(
            self.outbox
                .audited(&resource, "", self.remove_line_item_call(request))
                .await,
        )
    }

    async fn attest_indirect_provider(
        &self,
        request: Request<pb::AttestIndirectProviderRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        let resource = request.get_ref().cart.clone();
        reply(
            self.outbox
                .audited(&resource, "", self.attest_call(request))
                .await,
        )
    }

    async fn review_cart(
        &self,
        request: Request<pb::ReviewCartRequest>,
    ) -> Result<Response<pb::CartReview>, Status> {
        reply(self.review_cart_call(request).await)
    }

    async fn checkout_cart(
        &self,
        request: Request<pb::CheckoutCartRequest>,
    ) -> Result<Response<pb::Order>, Status> {
        let request_id = request.get_ref().request_id.clone();
        let resource = request.get_ref().cart.clone();
        reply(
            self.outbox
                .audited(&resource, &request_id, self.checkout_call(request))
                .await,
        )
    }

    async fn cancel_cart(
        &self,
        request: Request<pb::CancelCartRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        let resource = request.get_ref().cart.clone();
        reply(
            self.outbox
                .audited(&resource, "", self.cancel_cart_call(request))
                .await,
        )
    }

    async fn get_order(
        &self,
        request: Request<pb::GetOrderRequest>,
    ) -> Result<Response<pb::Order>, Status> {
        reply(self.get_order_call(request).await)
    }

    async fn list_orders(
        &self,
        request: Request<pb::ListOrdersRequest>,
    ) -> Result<Response<pb::ListOrdersResponse>, Status> {
        reply(self.list_orders_call(request).await)
    }

    async fn list_subscriptions(
        &self,
        request: Request<pb::ListSubscriptionsRequest>,
    ) -> Result<Response<pb::ListSubscriptionsResponse>, Status> {
        reply(self.list_subscriptions_call(request).await)
    }

    async fn get_subscription(
        &self,
        request: Request<pb::GetSubscriptionRequest>,
    ) -> Result<Response<pb::Subscription>, Status> {
        reply(self.get_subscription_call(request).await)
    }

    async fn change_license_quantity(
        &self,
        request: Request<pb::ChangeLicenseQuantityRequest>,
    ) -> Result<Response<pb::Subscription>, Status> {
        let resource = request.get_ref().name.clone();
        reply(
            self.outbox
                .audited(&resource, "", self.change_quantity_call(request))
                .await,
        )
    }

    async fn change_reseller_of_record(
        &self,
        request: Request<pb::ChangeResellerOfRecordRequest>,
    ) -> Result<Response<pb::Subscription>, Status> {
        let resource = request.get_ref().name.clone();
        reply(
            self.outbox
                .audited(&resource, "", self.change_reseller_of_record_call(request))
                .await,
        )
    }

    async fn set_support_contact(
        &self,
        request: Request<pb::SetSupportContactRequest>,
    ) -> Result<Response<pb::Subscription>, Status> {
        let resource = request.get_ref().name.clone();
        reply(
            self.outbox
                .audited(&resource, "", self.set_support_contact_call(request))
                .await,
        )
    }

    async fn suspend_subscription(
        &self,
        request: Request<pb::SuspendSubscriptionRequest>,
    ) -> Result<Response<pb::Subscription>, Status> {
        let resource = request.get_ref().name.clone();
        reply(
            self.outbox
                .audited(&resource, "", self.suspend_call(request))
                .await,
        )
    }

    async fn reactivate_subscription(
        &self,
        request: Request<pb::ReactivateSubscriptionRequest>,
    ) -> Result<Response<pb::Subscription>, Status> {
        let resource = request.get_ref().name.clone();
        reply(
            self.outbox
                .audited(&resource, "", self.reactivate_call(request))
                .await,
        )
    }

    async fn cancel_subscription(
        &self,
        request: Request<pb::CancelSubscriptionRequest>,
    ) -> Result<Response<pb::Subscription>, Status> {
        let resource = request.get_ref().name.clone();
        reply(
            self.outbox
                .audited(&resource, "", self.cancel_call(request))
                .await,
        )
    }

    async fn set_auto_renew(
        &self,
        request: Request<pb::SetAutoRenewRequest>,
    ) -> Result<Response<pb::Subscription>, Status> {
        let resource = request.get_ref().name.clone();
        reply(
            self.outbox
                .audited(&resource, "", self.set_auto_renew_call(request))
                .await,
        )
    }
}
