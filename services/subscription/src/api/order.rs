//! R15: "Purchase" (checkout) and the orders it places: one order and one
//! subscription per line, exactly once per cart and per request id.

use chrono::Utc;
use prost::Message;
use tonic::Request;
use twotier_outbox::{Event, Reply};
use twotier_platform::idempotency::{self, IdempotencyKey};
use twotier_platform::{Error, names, paging, validate};
use twotier_proto::subscription as pb;

use super::cart::{CART, CUSTOMER, PROVIDER};
use super::{Api, caller, convert};
use crate::domain::{CartError, OrderError};
use crate::store;

const ORDER: [&str; 4] = ["providers", "*", "orders", "*"];

impl Api {
    /// Checks the cart out. A retry with the same request id answers with
    /// the same order; a second checkout of the cart is refused.
    pub(super) async fn checkout_call(
        &self,
        request: Request<pb::CheckoutCartRequest>,
    ) -> Result<pb::Order, Error> {
        let caller = caller(&request)?;
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
        let resource = format!("providers/{provider_id}/carts/{cart_id}");
        // Refusals of the review, made before the transaction, are
        // recorded as the command's own.
        self.outbox
            .audited(&resource, &request.request_id, async {
                let reviewed = self.cart(provider_id, cart_id).await?;
                if reviewed.ensure_open() == Err(CartError::AlreadyOrdered) {
                    // A retry with this request id (or a concurrent one) ordered
                    // the cart: answer with its order. A retry that finds the cart
                    // still open is answered by the command's claim of the request
                    // id, so a first attempt does not pay for a lookup here.
                    return idempotency::peek(self.db(), key.as_ref())
                        .await?
                        .ok_or_else(|| CartError::AlreadyOrdered.into());
                }
                let review = self.review(&caller, &reviewed).await?;
                // Contacts are looked up before the transaction: the lookup may wait
                // for the partner projection to catch up.
                let mut resellers = Vec::new();
                for partner_id in reviewed.resellers_of_record() {
                    resellers.push(self.reseller_contact(partner_id).await?);
                }
                reviewed.ensure_version(convert::expected_version(&request.etag))?;

                let order = self
                    .outbox
                    .command::<_, Error>(
                        &resource,
                        key.as_ref(),
                        async |tx| {
                            let db = &**tx;
                            // The cart as reviewed, not read again: saving it
                            // ordered is guarded by the reviewed version, so if it
                            // changed, was ordered or cancelled since, this command
                            // loses and nothing it wrote is kept.
                            let mut cart = reviewed.clone();
                            let now = Utc::now();
                            let mut order = cart.checkout(
                                now,
                                &caller.subject,
                                reviewed.version,
                                &review.offers,
                                self.window,
                            )?;
                            store::order::insert_subscriptions(db, &mut order).await?;
                            let placed = convert::order(&order);
                            store::order::insert(db, &order, placed.encode_to_vec()).await?;
                            // Guarded by the reviewed version (which checkout held the cart
                            // to): a change or cancel since then makes this one lose.
                            store::cart::save_ordered(db, &cart, now).await?;
                            for line in &order.lines {
                                let created = convert::created_subscription(line);
                                tx.append(Event::new(
                                    "subscription",
                                    &created.name,
                                    provider_id,
                                    &pb::SubscriptionCreated {
                                        subscription: Some(created.clone()),
                                    },
                                ))
                                .await?;
                            }
                            tx.append(Event::new(
                                "order",
                                &order.id,
                                provider_id,
                                &pb::OrderPlaced {
                                    order: Some(placed.clone()),
                                    placed_by_email: caller.email.clone().unwrap_or_default(),
                                    resellers_of_record: resellers,
                                    customer_company_name: review.customer_company_name,
                                },
                            ))
                            .await?;
                            Ok(Reply::new(placed))
                        },
                    )
                    .await?;
                tracing::info!(order = %order.name, subscriptions = order.lines.len(), "order placed");
                Ok::<_, Error>(order)
            })
            .await
    }

    pub(super) async fn get_order_call(
        &self,
        request: Request<pb::GetOrderRequest>,
    ) -> Result<pb::Order, Error> {
        let caller = caller(&request)?;
        let [provider_id, order_id] = names::require(&request.get_ref().name, &ORDER, "name")?;
        caller.require_own_provider(provider_id)?;
        let snapshot = store::order::snapshot(self.db(), provider_id, order_id)
            .await?
            .ok_or(OrderError::NotFound)?;
        convert::stored_order(&snapshot)
    }

    pub(super) async fn list_orders_call(
        &self,
        request: Request<pb::ListOrdersRequest>,
    ) -> Result<pb::ListOrdersResponse, Error> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let [provider_id] = names::require(&request.parent, &PROVIDER, "parent")?;
        let page_size = paging::page_size(request.page_size)?;
        if !request.customer.is_empty() {
            names::require::<2>(&request.customer, &CUSTOMER, "customer")?;
        }
        caller.require_own_provider(provider_id)?;
        let (snapshots, next_page_token) = self
            .pages
            .list::<pb::ListOrdersRequest>(&caller.tenant_id)
            .serve(&request.page_token, async |token| {
                store::order::list(self.db(), provider_id, &request.customer, page_size, token)
                    .await
            })
            .await?;
        let orders = snapshots
            .iter()
            .map(|snapshot| convert::stored_order(snapshot))
            .collect::<Result<_, _>>()?;
        Ok(pb::ListOrdersResponse {
            orders,
            next_page_token,
        })
    }
}
