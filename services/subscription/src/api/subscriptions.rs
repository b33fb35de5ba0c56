//! Subscriptions (R15-R19) and the trait implementation that routes every
//! RPC of `SubscriptionService`.

use tonic::{Request, Response, Status};
use twotier_platform::auth::{Caller, Role};
use twotier_platform::{Error, names, paging, validate};
use twotier_proto::subscription as pb;
use twotier_proto::subscription::subscription_service_server::SubscriptionService;

use super::carts::CUSTOMER;
use super::{Api, provider};

const SUBSCRIPTION: [&str; 6] = ["providers", "*", "customers", "*", "subscriptions", "*"];

/// The customer and subscription id of a subscription name.
fn subscription_name(name: &str) -> Result<(String, String), Error> {
    let [provider_id, customer_id, subscription_id] = names::require(name, &SUBSCRIPTION, "name")?;
    Ok((
        format!("providers/{provider_id}/customers/{customer_id}"),
        subscription_id.to_owned(),
    ))
}

fn require_etag(etag: &str) -> Result<(), Error> {
    if etag.is_empty() {
        return Err(Error::invalid_field(
            "ETAG_REQUIRED",
            "etag",
            "is required: send the subscription's current etag",
        ));
    }
    Ok(())
}

fn optional_partner_id(value: &str, field: &str) -> Result<Option<String>, Error> {
    if value.is_empty() {
        return Ok(None);
    }
    validate::partner_id(value)
        .map_err(|d| Error::invalid_field("INVALID_PARTNER_ID", field, d))?;
    Ok(Some(value.to_owned()))
}

#[tonic::async_trait]
impl SubscriptionService for Api {
    async fn list_offers(
        &self,
        request: Request<pb::ListOffersRequest>,
    ) -> Result<Response<pb::ListOffersResponse>, Status> {
        self.list_offers_call(request).await
    }

    async fn get_offer(
        &self,
        request: Request<pb::GetOfferRequest>,
    ) -> Result<Response<pb::Offer>, Status> {
        self.get_offer_call(request).await
    }

    async fn create_cart(
        &self,
        request: Request<pb::CreateCartRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        self.create_cart_call(request).await
    }

    async fn get_cart(
        &self,
        request: Request<pb::GetCartRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        self.get_cart_call(request).await
    }

    async fn add_line_item(
        &self,
        request: Request<pb::AddLineItemRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        self.add_line_item_call(request).await
    }

    async fn update_line_item(
        &self,
        request: Request<pb::UpdateLineItemRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        self.update_line_item_call(request).await
    }

    async fn remove_line_item(
        &self,
        request: Request<pb::RemoveLineItemRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        self.remove_line_item_call(request).await
    }

    async fn attest_indirect_provider(
        &self,
        request: Request<pb::AttestIndirectProviderRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        self.attest_call(request).await
    }

    async fn review_cart(
        &self,
        request: Request<pb::ReviewCartRequest>,
    ) -> Result<Response<pb::CartReview>, Status> {
        self.review_cart_call(request).await
    }

    async fn checkout_cart(
        &self,
        request: Request<pb::CheckoutCartRequest>,
    ) -> Result<Response<pb::Order>, Status> {
        self.checkout_call(request).await
    }

    async fn cancel_cart(
        &self,
        request: Request<pb::CancelCartRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        self.cancel_cart_call(request).await
    }

    async fn get_order(
        &self,
        request: Request<pb::GetOrderRequest>,
    ) -> Result<Response<pb::Order>, Status> {
        self.get_order_call(request).await
    }

    async fn list_orders(
        &self,
        request: Request<pb::ListOrdersRequest>,
    ) -> Result<Response<pb::ListOrdersResponse>, Status> {
        self.list_orders_call(request).await
    }

    async fn list_subscriptions(
        &self,
        request: Request<pb::ListSubscriptionsRequest>,
    ) -> Result<Response<pb::ListSubscriptionsResponse>, Status> {
        let caller = Caller::of(&request)?.clone();
        caller.require_any(&[Role::GlobalAdmin, Role::SalesAgent, Role::ResellerAdmin])?;
        let request = request.into_inner();
        names::require::<2>(&request.parent, &CUSTOMER, "parent")?;
        let page_size = paging::page_size(request.page_size)?;
        self.domain
            .authorize_customer(&caller, &request.parent)
            .await?;
        let (subscriptions, next_page_token) = self
            .pages
            .list::<pb::ListSubscriptionsRequest>(&caller.tenant_id)
            .serve(&request.page_token, async |token| {
                self.domain
                    .list_subscriptions(&request.parent, page_size, token)
                    .await
            })
            .await?;
        Ok(Response::new(pb::ListSubscriptionsResponse {
            subscriptions,
            next_page_token,
        }))
    }

    async fn get_subscription(
        &self,
        request: Request<pb::GetSubscriptionRequest>,
    ) -> Result<Response<pb::Subscription>, Status> {
        let caller = Caller::of(&request)?.clone();
        caller.require_any(&[Role::GlobalAdmin, Role::SalesAgent, Role::ResellerAdmin])?;
        let (customer, subscription_id) = subscription_name(&request.get_ref().name)?;
        self.domain.authorize_customer(&caller, &customer).await?;
        Ok(Response::new(
            self.domain
                .get_subscription(&customer, &subscription_id)
                .await?,
        ))
    }

    async fn change_license_quantity(
        &self,
        request: Request<pb::ChangeLicenseQuantityRequest>,
    ) -> Result<Response<pb::Subscription>, Status> {
        let caller = provider(&request)?;
        let request = request.into_inner();
        let (customer, subscription_id) = subscription_name(&request.name)?;
        require_etag(&request.etag)?;
        self.domain.authorize_customer(&caller, &customer).await?;
        Ok(Response::new(
            self.domain
                .change_quantity(&customer, &subscription_id, request.quantity, &request.etag)
                .await?,
        ))
    }

    async fn change_reseller_of_record(
        &self,
        request: Request<pb::ChangeResellerOfRecordRequest>,
    ) -> Result<Response<pb::Subscription>, Status> {
        let caller = provider(&request)?;
        let request = request.into_inner();
        let (customer, subscription_id) = subscription_name(&request.name)?;
        require_etag(&request.etag)?;
        let partner_id = optional_partner_id(&request.reseller_partner_id, "reseller_partner_id")?;
        self.domain.authorize_customer(&caller, &customer).await?;
        Ok(Response::new(
            self.domain
                .change_reseller_of_record(
                    &caller,
                    &customer,
                    &subscription_id,
                    partner_id,
                    &request.etag,
                )
                .await?,
        ))
    }

    async fn set_support_contact(
        &self,
        request: Request<pb::SetSupportContactRequest>,
    ) -> Result<Response<pb::Subscription>, Status> {
        let caller = provider(&request)?;
        let request = request.into_inner();
        let (customer, subscription_id) = subscription_name(&request.name)?;
        require_etag(&request.etag)?;
        let partner_id = optional_partner_id(
            &request.support_contact_partner_id,
            "support_contact_partner_id",
        )?;
        self.domain.authorize_customer(&caller, &customer).await?;
        Ok(Response::new(
            self.domain
                .set_support_contact(
                    &caller,
                    &customer,
                    &subscription_id,
                    partner_id,
                    &request.etag,
                )
                .await?,
        ))
    }
}
