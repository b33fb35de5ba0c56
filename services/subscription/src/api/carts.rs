//! Carts, checkout and orders (R15, R16).

use tonic::{Request, Response, Status};
use twotier_platform::idempotency::IdempotencyKey;
use twotier_platform::{Error, Violations, names, paging, validate};
use twotier_proto::subscription as pb;

use super::{Api, provider};
use crate::domain::LineInput;

pub(super) const PROVIDER: [&str; 2] = ["providers", "*"];
const CART: [&str; 4] = ["providers", "*", "carts", "*"];
const ORDER: [&str; 4] = ["providers", "*", "orders", "*"];
pub(super) const CUSTOMER: [&str; 4] = ["providers", "*", "customers", "*"];

/// A line item's fields, checked for form (the offer's limits are checked
/// by the domain).
fn line_input(line: &pb::LineItem) -> Result<LineInput, Error> {
    let mut violations = Violations::new();
    let offer = names::parse::<1>(&line.offer, &["offers", "*"]);
    if offer.is_none() {
        violations.add("line_item.offer", "must look like offers/{offer_id}");
    }
    let term = pb::Term::try_from(line.term)
        .ok()
        .filter(|t| *t != pb::Term::Unspecified);
    if term.is_none() {
        violations.add("line_item.term", "must be TERM_MONTHLY or TERM_ANNUAL");
    }
    let billing_cycle = pb::BillingCycle::try_from(line.billing_cycle)
        .ok()
        .filter(|c| *c != pb::BillingCycle::Unspecified);
    if billing_cycle.is_none() {
        violations.add(
            "line_item.billing_cycle",
            "must be BILLING_CYCLE_MONTHLY or BILLING_CYCLE_ANNUAL",
        );
    }
    if !line.reseller_partner_id.is_empty() {
        violations.check(
            "line_item.reseller_partner_id",
            validate::partner_id(&line.reseller_partner_id),
        );
    }
    violations.into_result("INVALID_LINE_ITEM")?;
    match (offer, term, billing_cycle) {
        (Some([offer_id]), Some(term), Some(billing_cycle)) => Ok(LineInput {
            offer_id: offer_id.to_owned(),
            quantity: line.quantity,
            term,
            billing_cycle,
            reseller_partner_id: Some(line.reseller_partner_id.clone()).filter(|id| !id.is_empty()),
        }),
        _ => Err(Error::Internal("validated line item lost a field".into())),
    }
}

impl Api {
    pub(super) async fn create_cart_call(
        &self,
        request: Request<pb::CreateCartRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        let caller = provider(&request)?;
        let request = request.into_inner();
        let [provider_id] = names::require(&request.parent, &PROVIDER, "parent")?;
        let customer = request
            .cart
            .as_ref()
            .map(|cart| cart.customer.clone())
            .unwrap_or_default();
        let mut violations = Violations::new();
        if names::parse::<2>(&customer, &CUSTOMER).is_none() {
            violations.add(
                "cart.customer",
                "must look like providers/{provider_id}/customers/{customer_id}",
            );
        }
        violations.check("request_id", validate::request_id(&request.request_id));
        violations.into_result("INVALID_CART")?;
        caller.require_own_provider(provider_id)?;
        let key = IdempotencyKey::new(
            "subscription.CreateCart",
            &caller.tenant_id,
            &request.request_id,
            &request,
        );
        Ok(Response::new(
            self.domain
                .create_cart(&caller, provider_id, &customer, key)
                .await?,
        ))
    }

    pub(super) async fn get_cart_call(
        &self,
        request: Request<pb::GetCartRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        let caller = provider(&request)?;
        let [provider_id, cart_id] = names::require(&request.get_ref().name, &CART, "name")?;
        caller.require_own_provider(provider_id)?;
        Ok(Response::new(
            self.domain.get_cart(provider_id, cart_id).await?,
        ))
    }

    pub(super) async fn add_line_item_call(
        &self,
        request: Request<pb::AddLineItemRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        let caller = provider(&request)?;
        let request = request.into_inner();
        let [provider_id, cart_id] = names::require(&request.cart, &CART, "cart")?;
        let line = line_input(&request.line_item.unwrap_or_default())?;
        caller.require_own_provider(provider_id)?;
        Ok(Response::new(
            self.domain.add_line(provider_id, cart_id, line).await?,
        ))
    }

    pub(super) async fn update_line_item_call(
        &self,
        request: Request<pb::UpdateLineItemRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        let caller = provider(&request)?;
        let request = request.into_inner();
        let [provider_id, cart_id] = names::require(&request.cart, &CART, "cart")?;
        let line_item = request.line_item.unwrap_or_default();
        validate::line(&line_item.line_item_id, 1, names::MAX_ID_CHARS)
            .map_err(|d| Error::invalid_field("INVALID_LINE_ITEM", "line_item.line_item_id", d))?;
        let line = line_input(&line_item)?;
        caller.require_own_provider(provider_id)?;
        Ok(Response::new(
            self.domain
                .update_line(provider_id, cart_id, &line_item.line_item_id, line)
                .await?,
        ))
    }

    pub(super) async fn remove_line_item_call(
        &self,
        request: Request<pb::RemoveLineItemRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        let caller = provider(&request)?;
        let request = request.into_inner();
        let [provider_id, cart_id] = names::require(&request.cart, &CART, "cart")?;
        validate::line(&request.line_item_id, 1, names::MAX_ID_CHARS)
            .map_err(|d| Error::invalid_field("INVALID_LINE_ITEM", "line_item_id", d))?;
        caller.require_own_provider(provider_id)?;
        Ok(Response::new(
            self.domain
                .remove_line(provider_id, cart_id, &request.line_item_id)
                .await?,
        ))
    }

    pub(super) async fn attest_call(
        &self,
        request: Request<pb::AttestIndirectProviderRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        let caller = provider(&request)?;
        let request = request.into_inner();
        let [provider_id, cart_id] = names::require(&request.cart, &CART, "cart")?;
        if !request.acts_as_indirect_provider {
            return Err(Error::invalid_field(
                "INDIRECT_PROVIDER_NOT_CONFIRMED",
                "acts_as_indirect_provider",
                "must be true: confirm that you act as indirect provider",
            )
            .into());
        }
        caller.require_own_provider(provider_id)?;
        Ok(Response::new(
            self.domain
                .attest_indirect_provider(&caller, provider_id, cart_id)
                .await?,
        ))
    }

    pub(super) async fn review_cart_call(
        &self,
        request: Request<pb::ReviewCartRequest>,
    ) -> Result<Response<pb::CartReview>, Status> {
        let caller = provider(&request)?;
        let [provider_id, cart_id] = names::require(&request.get_ref().cart, &CART, "cart")?;
        caller.require_own_provider(provider_id)?;
        Ok(Response::new(
            self.domain
                .review_cart(&caller, provider_id, cart_id)
                .await?,
        ))
    }

    pub(super) async fn checkout_call(
        &self,
        request: Request<pb::CheckoutCartRequest>,
    ) -> Result<Response<pb::Order>, Status> {
        let caller = provider(&request)?;
        let request = request.into_inner();
        let [provider_id, cart_id] = names::require(&request.cart, &CART, "cart")?;
        validate::request_id(&request.request_id)
            .map_err(|d| Error::invalid_field("INVALID_REQUEST_ID", "request_id", d))?;
        caller.require_own_provider(provider_id)?;
        let key = IdempotencyKey::new(
            "subscription.CheckoutCart",
            &caller.tenant_id,
            &request.request_id,
            &request,
        );
        Ok(Response::new(
            self.domain
                .checkout(&caller, provider_id, cart_id, &request.etag, key)
                .await?,
        ))
    }

    pub(super) async fn cancel_cart_call(
        &self,
        request: Request<pb::CancelCartRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        let caller = provider(&request)?;
        let [provider_id, cart_id] = names::require(&request.get_ref().cart, &CART, "cart")?;
        caller.require_own_provider(provider_id)?;
        Ok(Response::new(
            self.domain.cancel_cart(provider_id, cart_id).await?,
        ))
    }

    pub(super) async fn get_order_call(
        &self,
        request: Request<pb::GetOrderRequest>,
    ) -> Result<Response<pb::Order>, Status> {
        let caller = provider(&request)?;
        let [provider_id, order_id] = names::require(&request.get_ref().name, &ORDER, "name")?;
        caller.require_own_provider(provider_id)?;
        Ok(Response::new(
            self.domain.get_order(provider_id, order_id).await?,
        ))
    }

    pub(super) async fn list_orders_call(
        &self,
        request: Request<pb::ListOrdersRequest>,
    ) -> Result<Response<pb::ListOrdersResponse>, Status> {
        let caller = provider(&request)?;
        let request = request.into_inner();
        let [provider_id] = names::require(&request.parent, &PROVIDER, "parent")?;
        let page_size = paging::page_size(request.page_size)?;
        if !request.customer.is_empty() {
            names::require::<2>(&request.customer, &CUSTOMER, "customer")?;
        }
        caller.require_own_provider(provider_id)?;
        let (orders, next_page_token) = self
            .pages
            .list::<pb::ListOrdersRequest>(&caller.tenant_id)
            .serve(&request.page_token, async |token| {
                self.domain
                    .list_orders(provider_id, &request.customer, page_size, token)
                    .await
            })
            .await?;
        Ok(Response::new(pb::ListOrdersResponse {
            orders,
            next_page_token,
        }))
    }
}
