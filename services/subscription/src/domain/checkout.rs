//! R15: "Purchase" — one order and one subscription per line, exactly once
//! per cart and per request id.

use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::sea_query::Cond;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use twotier_outbox::Event;
use twotier_platform::auth::Caller;
use twotier_platform::idempotency::{self, Claim, IdempotencyKey};
use twotier_platform::{names, paging};
use twotier_proto::subscription as pb;

use super::cart::{cart_lines, open_cart};
use super::convert::{self, cart_state};
use super::{Result, SubscriptionError, Subscriptions};
use crate::store::entities::{cart, purchase_order, subscription};

impl Subscriptions {
    /// Checks the cart out. A retry with the same `key` returns the same
    /// order; a second checkout of the cart is refused.
    pub async fn checkout(
        &self,
        caller: &Caller,
        provider_id: &str,
        cart_id: &str,
        etag: &str,
        key: Option<IdempotencyKey>,
    ) -> Result<pb::Order> {
        let db = self.outbox.db();
        if let Some(order) = idempotency::peek(db, key.as_ref()).await? {
            return Ok(order);
        }
        let reviewed = match self.review(caller, provider_id, cart_id).await {
            Ok(reviewed) => reviewed,
            // A concurrent retry with this request id may have just ordered
            // the cart: answer with its order.
            Err(SubscriptionError::CartAlreadyOrdered) => {
                return idempotency::peek(db, key.as_ref())
                    .await?
                    .ok_or(SubscriptionError::CartAlreadyOrdered);
            }
            Err(error) => return Err(error),
        };
        // Contacts are looked up before the transaction: the lookup may wait
        // for the partner projection to catch up.
        let mut resellers = BTreeMap::new();
        for line in &reviewed.review.lines {
            let partner_id = &line.reseller_partner_id;
            if !partner_id.is_empty() && !resellers.contains_key(partner_id) {
                resellers.insert(partner_id.clone(), self.reseller_contact(partner_id).await?);
            }
        }
        names::check_etag(etag, reviewed.cart.version, "the cart")
            .map_err(|_| SubscriptionError::StaleEtag("the cart"))?;

        let tx = self.outbox.begin().await?;
        if let Claim::Replay(order) = idempotency::claim(&tx, key.as_ref()).await? {
            return Ok(order);
        }
        let cart = open_cart(&*tx, provider_id, cart_id).await?;
        if cart.version != reviewed.cart.version {
            // The cart changed between review and now: what was reviewed is
            // not what would be bought.
            return Err(SubscriptionError::StaleEtag("the cart"));
        }
        let lines = cart_lines(&*tx, &cart.id).await?;
        let now = Utc::now();
        let order_id = uuid::Uuid::now_v7().to_string();
        let mut subscriptions = Vec::with_capacity(lines.len());
        for (line, reviewed_line) in lines.iter().zip(&reviewed.review.lines) {
            let row = subscription::ActiveModel {
                id: Set(uuid::Uuid::now_v7().to_string()),
                provider_id: Set(provider_id.to_owned()),
                customer: Set(cart.customer.clone()),
                order_id: Set(order_id.clone()),
                offer_id: Set(line.offer_id.clone()),
                quantity: Set(line.quantity),
                term: Set(line.term.clone()),
                billing_cycle: Set(line.billing_cycle.clone()),
                reseller_partner_id: Set(line.reseller_partner_id.clone()),
                support_contact_partner_id: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                version: Set(1),
            }
            .insert(&*tx)
            .await?;
            subscriptions.push(convert::subscription(
                row,
                &reviewed_line.offer_display_name,
            ));
        }
        let record = purchase_order::Model {
            id: order_id.clone(),
            provider_id: provider_id.to_owned(),
            customer: cart.customer.clone(),
            cart_id: cart.id.clone(),
            placed_by: caller.subject.clone(),
            created_at: now,
            snapshot: Vec::new(),
        };
        let order = convert::order(
            record.clone(),
            subscriptions.iter().map(convert::order_line).collect(),
        );
        let mut stored: purchase_order::ActiveModel = record.into();
        stored.snapshot = Set(prost::Message::encode_to_vec(&order));
        stored.insert(&*tx).await.map_err(|error| {
            if twotier_platform::db::is_unique_violation(&error) {
                return SubscriptionError::CartAlreadyOrdered;
            }
            error.into()
        })?;
        let ordered = cart::Entity::update_many()
            .col_expr(cart::Column::State, Expr::value(cart_state::ORDERED))
            .col_expr(cart::Column::OrderId, Expr::value(Some(order_id.clone())))
            .col_expr(cart::Column::UpdatedAt, Expr::value(now))
            .col_expr(cart::Column::Version, Expr::value(cart.version + 1))
            .filter(cart::Column::Id.eq(&cart.id))
            .filter(cart::Column::Version.eq(cart.version))
            .exec(&*tx)
            .await?;
        if ordered.rows_affected != 1 {
            return Err(super::cart::conflict(&*tx, &cart).await);
        }
        for created in &subscriptions {
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
            &order_id,
            provider_id,
            &pb::OrderPlaced {
                order: Some(order.clone()),
                placed_by_email: caller.email.clone().unwrap_or_default(),
                resellers_of_record: resellers.into_values().collect(),
                customer_company_name: reviewed.customer_company_name.clone(),
            },
        ))
        .await?;
        idempotency::complete(&tx, key.as_ref(), &order).await?;
        tx.commit().await?;
        tracing::info!(order = %order.name, subscriptions = order.lines.len(), "order placed");
        Ok(order)
    }

    /// Where to reach a reseller, from the partner projection. Callers ask
    /// only for resellers the partnership service has just verified, so one
    /// the projection does not know even after catching up means it could
    /// not catch up: the command fails as UNAVAILABLE instead of writing an
    /// event that would leave the reseller without its email.
    pub(super) async fn reseller_contact(&self, partner_id: &str) -> Result<pb::ResellerContact> {
        let reseller = self
            .directory
            .known_reseller(partner_id)
            .await?
            .ok_or_else(|| twotier_platform::Error::Unavailable {
                reason: "PROJECTION_BEHIND",
                message: format!("reseller {partner_id} is not known here yet; retry shortly"),
            })?;
        Ok(pb::ResellerContact {
            partner_id: reseller.partner_id,
            company_name: reseller.company_name,
            contact_email: reseller.contact_email,
            language_code: reseller.preferred_language,
        })
    }

    /// Reads one of the provider's orders.
    pub async fn get_order(&self, provider_id: &str, order_id: &str) -> Result<pb::Order> {
        let row = purchase_order::Entity::find_by_id(order_id.to_owned())
            .filter(purchase_order::Column::ProviderId.eq(provider_id))
            .one(self.outbox.db())
            .await?
            .ok_or(SubscriptionError::OrderNotFound)?;
        decode_order(&row)
    }

    /// Lists the provider's orders, newest first, optionally of one customer.
    pub async fn list_orders(
        &self,
        provider_id: &str,
        customer: &str,
        page_size: u64,
        page_token: &str,
    ) -> Result<(Vec<pb::Order>, String)> {
        let fingerprint = paging::fingerprint(&[provider_id, customer]);
        let after: Option<String> = paging::decode_token(page_token, &fingerprint)?;
        let mut query = purchase_order::Entity::find()
            .filter(purchase_order::Column::ProviderId.eq(provider_id))
            .order_by_desc(purchase_order::Column::Id)
            .limit(page_size + 1);
        if !customer.is_empty() {
            query = query.filter(purchase_order::Column::Customer.eq(customer));
        }
        if let Some(after) = after {
            query = query.filter(Cond::all().add(purchase_order::Column::Id.lt(after)));
        }
        let rows = query.all(self.outbox.db()).await?;
        let (rows, token) =
            paging::finish_page(rows, page_size, &fingerprint, |row| row.id.clone());
        let orders = rows.iter().map(decode_order).collect::<Result<Vec<_>>>()?;
        Ok((orders, token))
    }
}

fn decode_order(row: &purchase_order::Model) -> Result<pb::Order> {
    prost::Message::decode(row.snapshot.as_slice()).map_err(|e| {
        twotier_platform::Error::Internal(format!("stored order does not decode: {e}")).into()
    })
}
