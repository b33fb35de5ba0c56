//! Carts (R15, R16): creating, editing, attesting, reviewing and
//! cancelling them.

use std::collections::HashMap;

use chrono::Utc;
use tonic::Request;
use twotier_outbox::{Reply, audit_as};
use twotier_platform::auth::Caller;
use twotier_platform::idempotency::{self, IdempotencyKey};
use twotier_platform::{Error, Violations, names, validate};
use twotier_proto::subscription as pb;

use super::{Api, caller, convert};
use crate::domain::{Cancellation, Cart, CartError, Offer, PartyError, check_customer_agreement};
use crate::store;

pub(super) const PROVIDER: [&str; 2] = ["providers", "*"];
pub(super) const CART: [&str; 4] = ["providers", "*", "carts", "*"];
pub(super) const CUSTOMER: [&str; 4] = ["providers", "*", "customers", "*"];

/// A cart as reviewed: everything checkout checks, nothing changed.
pub(super) struct Review {
    /// The offers of its lines, by id.
    pub offers: HashMap<String, Offer>,
    /// Each line with its offer and its verified reseller of record.
    pub lines: Vec<pb::ReviewedLine>,
    /// The customer's company name, fresh from the customer service.
    pub customer_company_name: String,
}

impl Api {
    /// One of the provider's carts.
    pub(super) async fn cart(&self, provider_id: &str, cart_id: &str) -> Result<Cart, Error> {
        Ok(store::cart::find(self.reads(), provider_id, cart_id)
            .await?
            .ok_or(CartError::NotFound)?)
    }

    /// Reviews `cart` as checkout would: the cart ready, the customer's
    /// agreement recorded (fresh from the customer service), each line
    /// valid and each reseller of record verified (fresh from the
    /// partnership service).
    pub(super) async fn review(&self, caller: &Caller, cart: &Cart) -> Result<Review, Error> {
        cart.check_ready()?;
        let customer = self.upstream.customer(caller, &cart.customer).await?;
        check_customer_agreement(customer.customer_agreement_accepted)?;
        let offers =
            store::catalog::find_many(self.reads(), cart.lines.iter().map(|l| l.offer_id.as_str()))
                .await?;
        let mut lines = Vec::with_capacity(cart.lines.len());
        for line in &cart.lines {
            let offer = line.check(offers.get(&line.offer_id))?;
            let reseller_company_name = match &line.reseller_partner_id {
                Some(partner_id) => {
                    self.upstream
                        .verify_reseller(caller, partner_id, "line_item.reseller_partner_id")
                        .await?
                        .company_name
                }
                None => String::new(),
            };
            lines.push(pb::ReviewedLine {
                line_item: Some(convert::line_item(line)),
                offer_display_name: offer.display_name.clone(),
                reseller_partner_id: line.reseller_partner_id.clone().unwrap_or_default(),
                reseller_company_name,
            });
        }
        Ok(Review {
            offers,
            lines,
            customer_company_name: customer.company_name,
        })
    }

    pub(super) async fn create_cart_call(
        &self,
        request: Request<pb::CreateCartRequest>,
    ) -> Result<pb::Cart, Error> {
        let caller = caller(&request)?;
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
        if let Some(replay) = idempotency::peek(self.db(), key.as_ref()).await? {
            return Ok(replay);
        }
        self.outbox
            .audited(&request.parent, &request.request_id, async {
                let customer_provider =
                    names::parse::<2>(&customer, &CUSTOMER).map(|[provider, _]| provider);
                if customer_provider != Some(provider_id) {
                    return Err(PartyError::CustomerNotFound.into());
                }
                self.upstream.customer(&caller, &customer).await?;
                self.outbox
                    .command(&request.parent, key.as_ref(), async |tx| {
                        let cart = Cart::new(provider_id, &customer, Utc::now());
                        let created = convert::cart(&store::cart::create(&**tx, &cart).await?);
                        audit_as(&created.name);
                        Ok(Reply::new(created))
                    })
                    .await
            })
            .await
    }

    pub(super) async fn get_cart_call(
        &self,
        request: Request<pb::GetCartRequest>,
    ) -> Result<pb::Cart, Error> {
        let caller = caller(&request)?;
        let [provider_id, cart_id] = names::require(&request.get_ref().name, &CART, "name")?;
        caller.require_own_provider(provider_id)?;
        Ok(convert::cart(&self.cart(provider_id, cart_id).await?))
    }

    pub(super) async fn add_line_item_call(
        &self,
        request: Request<pb::AddLineItemRequest>,
    ) -> Result<pb::Cart, Error> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let [provider_id, cart_id] = names::require(&request.cart, &CART, "cart")?;
        let line = convert::line_input(&request.line_item.unwrap_or_default())?;
        caller.require_own_provider(provider_id)?;
        self.outbox
            .command(&request.cart, None, async |tx| {
                let db = &**tx;
                let mut cart =
                    store::cart::open_for_edit(db, provider_id, cart_id, Utc::now()).await?;
                let offer = store::catalog::find(db, &line.offer_id).await?;
                let line = line.resolve(offer.as_ref(), None);
                let added = cart.add_line(line, offer.as_ref())?;
                store::cart::insert_line(db, &cart.id, &added).await?;
                Ok(Reply::new(convert::cart(&cart)))
            })
            .await
    }

    pub(super) async fn update_line_item_call(
        &self,
        request: Request<pb::UpdateLineItemRequest>,
    ) -> Result<pb::Cart, Error> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let [provider_id, cart_id] = names::require(&request.cart, &CART, "cart")?;
        let line_item = request.line_item.unwrap_or_default();
        validate::line(&line_item.line_item_id, 1, names::MAX_ID_CHARS)
            .map_err(|d| Error::invalid_field("INVALID_LINE_ITEM", "line_item.line_item_id", d))?;
        let line = convert::line_input(&line_item)?;
        caller.require_own_provider(provider_id)?;
        self.outbox
            .command(&request.cart, None, async |tx| {
                let db = &**tx;
                let offer = store::catalog::find(db, &line.offer_id).await?;
                // What the request leaves open is the line's own, as the
                // cart at hand has it.
                let resolved = |cart: &Cart| {
                    let replaced = cart.lines.iter().find(|l| l.id == line.id);
                    line.clone().resolve(offer.as_ref(), replaced)
                };
                // R25: the line as it is already is no write, and the
                // cart keeps its etag.
                let mut current = store::cart::find(db, provider_id, cart_id)
                    .await?
                    .ok_or(CartError::NotFound)?;
                let asked = resolved(&current);
                if !current.update_line(asked, offer.as_ref())?.is_changed() {
                    return Ok(Reply::new(convert::cart(&current)));
                }
                let mut cart =
                    store::cart::open_for_edit(db, provider_id, cart_id, Utc::now()).await?;
                // Decided again on the cart as held for the edit.
                let asked = resolved(&cart);
                if cart
                    .update_line(asked.clone(), offer.as_ref())?
                    .is_changed()
                {
                    store::cart::update_line(db, &cart.id, &asked).await?;
                }
                Ok(Reply::new(convert::cart(&cart)))
            })
            .await
    }

    pub(super) async fn remove_line_item_call(
        &self,
        request: Request<pb::RemoveLineItemRequest>,
    ) -> Result<pb::Cart, Error> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let [provider_id, cart_id] = names::require(&request.cart, &CART, "cart")?;
        validate::line(&request.line_item_id, 1, names::MAX_ID_CHARS)
            .map_err(|d| Error::invalid_field("INVALID_LINE_ITEM", "line_item_id", d))?;
        caller.require_own_provider(provider_id)?;
        self.outbox
            .command(&request.cart, None, async |tx| {
                let db = &**tx;
                let mut cart =
                    store::cart::open_for_edit(db, provider_id, cart_id, Utc::now()).await?;
                let removed = cart.remove_line(&request.line_item_id)?;
                store::cart::delete_line(db, &cart.id, &removed.id).await?;
                Ok(Reply::new(convert::cart(&cart)))
            })
            .await
    }

    pub(super) async fn attest_call(
        &self,
        request: Request<pb::AttestIndirectProviderRequest>,
    ) -> Result<pb::Cart, Error> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let [provider_id, cart_id] = names::require(&request.cart, &CART, "cart")?;
        if !request.acts_as_indirect_provider {
            return Err(Error::invalid_field(
                "INDIRECT_PROVIDER_NOT_CONFIRMED",
                "acts_as_indirect_provider",
                "must be true: confirm that you act as indirect provider",
            ));
        }
        caller.require_own_provider(provider_id)?;
        self.outbox
            .command(&request.cart, None, async |tx| {
                let db = &**tx;
                let now = Utc::now();
                // R25: a cart attested already is no write, and keeps its
                // etag.
                let mut current = store::cart::find(db, provider_id, cart_id)
                    .await?
                    .ok_or(CartError::NotFound)?;
                if !current.attest(&caller.subject, now)?.is_changed() {
                    return Ok(Reply::new(convert::cart(&current)));
                }
                let mut cart = store::cart::open_for_edit(db, provider_id, cart_id, now).await?;
                // Decided again on the cart as held for the edit.
                if cart.attest(&caller.subject, now)?.is_changed() {
                    store::cart::save_attestation(db, &cart).await?;
                }
                Ok(Reply::new(convert::cart(&cart)))
            })
            .await
    }

    pub(super) async fn review_cart_call(
        &self,
        request: Request<pb::ReviewCartRequest>,
    ) -> Result<pb::CartReview, Error> {
        let caller = caller(&request)?;
        let [provider_id, cart_id] = names::require(&request.get_ref().cart, &CART, "cart")?;
        caller.require_own_provider(provider_id)?;
        let cart = self.cart(provider_id, cart_id).await?;
        let review = self.review(&caller, &cart).await?;
        Ok(pb::CartReview {
            cart: Some(convert::cart(&cart)),
            lines: review.lines,
        })
    }

    /// "Cancel": drops the whole cart. Cancelling twice is harmless, also
    /// when both cancels race.
    pub(super) async fn cancel_cart_call(
        &self,
        request: Request<pb::CancelCartRequest>,
    ) -> Result<pb::Cart, Error> {
        let caller = caller(&request)?;
        let [provider_id, cart_id] = names::require(&request.get_ref().cart, &CART, "cart")?;
        caller.require_own_provider(provider_id)?;
        self.outbox
            .command(&request.get_ref().cart, None, async |tx| {
                let db = &**tx;
                let mut cart = store::cart::find(db, provider_id, cart_id)
                    .await?
                    .ok_or(CartError::NotFound)?;
                if cart.cancel()? == Cancellation::AlreadyCancelled {
                    return Ok(Reply::new(convert::cart(&cart)));
                }
                if let Some(cancelled) =
                    store::cart::save_cancelled(db, &cart.id, Utc::now()).await?
                {
                    return Ok(Reply::new(convert::cart(&cancelled)));
                }
                // A concurrent cancel or checkout won: the cart as it is
                // now decides (cancelled twice is harmless, ordered is not).
                let mut current = store::cart::find(db, provider_id, cart_id)
                    .await?
                    .ok_or(CartError::NotFound)?;
                match current.cancel()? {
                    Cancellation::AlreadyCancelled => Ok(Reply::new(convert::cart(&current))),
                    Cancellation::Cancelled => Err(CartError::Stale.into()),
                }
            })
            .await
    }
}
