//! R15/R16: carts, their line items, the indirect-provider attestation,
//! review and cancel.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use twotier_platform::auth::Caller;
use twotier_platform::idempotency::{self, Claim, IdempotencyKey};
use twotier_platform::names;
use twotier_proto::subscription as pb;

use super::catalog::{check_quantity, check_terms, offer_for};
use super::convert::{self, billing_cycle_key, cart_state, term_key};
use super::{Result, SubscriptionError, Subscriptions};
use crate::store::entities::{cart, cart_line};

/// Most line items a cart holds: review verifies every reseller of record
/// and checkout creates a subscription per line, so an unbounded cart would
/// be an unbounded amount of work for one call.
pub const MAX_LINE_ITEMS: usize = 100;

/// A line item to add or change, validated for form.
#[derive(Debug, Clone)]
pub struct LineInput {
    /// The offer id.
    pub offer_id: String,
    /// Licences.
    pub quantity: i32,
    /// Term.
    pub term: pb::Term,
    /// Billing cycle.
    pub billing_cycle: pb::BillingCycle,
    /// Reseller of record, if any.
    pub reseller_partner_id: Option<String>,
}

/// A cart as reviewed: the cart, its lines and what review found.
pub(super) struct Reviewed {
    pub cart: cart::Model,
    pub review: pb::CartReview,
    pub customer_company_name: String,
}

impl Subscriptions {
    /// Starts a cart for `customer`, which must be one of the provider's.
    pub async fn create_cart(
        &self,
        caller: &Caller,
        provider_id: &str,
        customer: &str,
        key: Option<IdempotencyKey>,
    ) -> Result<pb::Cart> {
        let db = self.outbox.db();
        if let Some(replay) = idempotency::peek(db, key.as_ref()).await? {
            return Ok(replay);
        }
        let customer_provider = names::parse::<2>(customer, &["providers", "*", "customers", "*"])
            .map(|[provider, _]| provider);
        if customer_provider != Some(provider_id) {
            return Err(SubscriptionError::CustomerNotFound);
        }
        self.dependencies.customer(caller, customer).await?;
        let tx = self.outbox.begin().await?;
        if let Claim::Replay(replay) = idempotency::claim(&tx, key.as_ref()).await? {
            return Ok(replay);
        }
        let now = Utc::now();
        let row = cart::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            provider_id: Set(provider_id.to_owned()),
            customer: Set(customer.to_owned()),
            state: Set(cart_state::OPEN.to_owned()),
            attested_by: Set(None),
            attested_at: Set(None),
            order_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
        }
        .insert(&*tx)
        .await?;
        let created = convert::cart(row, &[]);
        idempotency::complete(&tx, key.as_ref(), &created).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Reads one of the provider's carts.
    pub async fn get_cart(&self, provider_id: &str, cart_id: &str) -> Result<pb::Cart> {
        let db = self.outbox.db();
        let row = find_cart(db, provider_id, cart_id).await?;
        let lines = cart_lines(db, &row.id).await?;
        Ok(convert::cart(row, &lines))
    }

    /// Adds a line item to an open cart.
    pub async fn add_line(
        &self,
        provider_id: &str,
        cart_id: &str,
        line: LineInput,
    ) -> Result<pb::Cart> {
        let tx = self.outbox.begin().await?;
        let row = open_cart(&*tx, provider_id, cart_id).await?;
        check_line(&*tx, &line).await?;
        cart_line::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            cart_id: Set(row.id.clone()),
            offer_id: Set(line.offer_id),
            quantity: Set(line.quantity),
            term: Set(term_key(line.term).to_owned()),
            billing_cycle: Set(billing_cycle_key(line.billing_cycle).to_owned()),
            reseller_partner_id: Set(line.reseller_partner_id),
        }
        .insert(&*tx)
        .await?;
        let changed = touch(&*tx, &row).await?;
        // Counted under the cart's row lock, so concurrent adds cannot
        // overshoot; returning drops the transaction and the new line.
        let lines = cart_lines(&*tx, &row.id).await?;
        if lines.len() > MAX_LINE_ITEMS {
            return Err(SubscriptionError::TooManyLineItems {
                max: MAX_LINE_ITEMS,
            });
        }
        tx.commit().await?;
        Ok(convert::cart(changed, &lines))
    }

    /// Replaces a line item of an open cart.
    pub async fn update_line(
        &self,
        provider_id: &str,
        cart_id: &str,
        line_id: &str,
        line: LineInput,
    ) -> Result<pb::Cart> {
        let tx = self.outbox.begin().await?;
        let row = open_cart(&*tx, provider_id, cart_id).await?;
        check_line(&*tx, &line).await?;
        let updated = cart_line::Entity::update_many()
            .col_expr(cart_line::Column::OfferId, Expr::value(line.offer_id))
            .col_expr(cart_line::Column::Quantity, Expr::value(line.quantity))
            .col_expr(cart_line::Column::Term, Expr::value(term_key(line.term)))
            .col_expr(
                cart_line::Column::BillingCycle,
                Expr::value(billing_cycle_key(line.billing_cycle)),
            )
            .col_expr(
                cart_line::Column::ResellerPartnerId,
                Expr::value(line.reseller_partner_id),
            )
            .filter(cart_line::Column::Id.eq(line_id))
            .filter(cart_line::Column::CartId.eq(&row.id))
            .exec(&*tx)
            .await?;
        if updated.rows_affected == 0 {
            return Err(SubscriptionError::LineItemNotFound(line_id.to_owned()));
        }
        let changed = touch(&*tx, &row).await?;
        let lines = cart_lines(&*tx, &row.id).await?;
        tx.commit().await?;
        Ok(convert::cart(changed, &lines))
    }

    /// Removes a line item of an open cart.
    pub async fn remove_line(
        &self,
        provider_id: &str,
        cart_id: &str,
        line_id: &str,
    ) -> Result<pb::Cart> {
        let tx = self.outbox.begin().await?;
        let row = open_cart(&*tx, provider_id, cart_id).await?;
        let removed = cart_line::Entity::delete_many()
            .filter(cart_line::Column::Id.eq(line_id))
            .filter(cart_line::Column::CartId.eq(&row.id))
            .exec(&*tx)
            .await?;
        if removed.rows_affected == 0 {
            return Err(SubscriptionError::LineItemNotFound(line_id.to_owned()));
        }
        let changed = touch(&*tx, &row).await?;
        let lines = cart_lines(&*tx, &row.id).await?;
        tx.commit().await?;
        Ok(convert::cart(changed, &lines))
    }

    /// Records that the provider acts as indirect provider for this cart.
    pub async fn attest_indirect_provider(
        &self,
        caller: &Caller,
        provider_id: &str,
        cart_id: &str,
    ) -> Result<pb::Cart> {
        let tx = self.outbox.begin().await?;
        let row = open_cart(&*tx, provider_id, cart_id).await?;
        let attested = cart::ActiveModel {
            attested_by: Set(Some(caller.subject.clone())),
            attested_at: Set(Some(Utc::now())),
            ..Default::default()
        };
        let changed = guarded_update(&*tx, &row, attested).await?;
        let lines = cart_lines(&*tx, &row.id).await?;
        tx.commit().await?;
        Ok(convert::cart(changed, &lines))
    }

    /// "Cancel": drops the whole cart. Cancelling twice is harmless.
    pub async fn cancel_cart(&self, provider_id: &str, cart_id: &str) -> Result<pb::Cart> {
        let tx = self.outbox.begin().await?;
        let row = find_cart(&*tx, provider_id, cart_id).await?;
        let changed = match row.state.as_str() {
            cart_state::ORDERED => return Err(SubscriptionError::CartAlreadyOrdered),
            cart_state::CANCELLED => row,
            _ => {
                let cancelled = cart::ActiveModel {
                    state: Set(cart_state::CANCELLED.to_owned()),
                    ..Default::default()
                };
                match guarded_update(&*tx, &row, cancelled).await {
                    // Another cancel won the race: the cart is cancelled.
                    Err(SubscriptionError::CartCancelled) => {
                        find_cart(&*tx, provider_id, cart_id).await?
                    }
                    outcome => outcome?,
                }
            }
        };
        let lines = cart_lines(&*tx, &changed.id).await?;
        tx.commit().await?;
        Ok(convert::cart(changed, &lines))
    }

    /// "Review": everything checkout checks, nothing changed.
    pub async fn review_cart(
        &self,
        caller: &Caller,
        provider_id: &str,
        cart_id: &str,
    ) -> Result<pb::CartReview> {
        Ok(self.review(caller, provider_id, cart_id).await?.review)
    }

    /// Checks a cart as checkout would: open, not empty, attested, the
    /// customer's agreement recorded (fresh from the customer service), each
    /// line valid and each reseller of record verified (fresh from the
    /// partnership service).
    pub(super) async fn review(
        &self,
        caller: &Caller,
        provider_id: &str,
        cart_id: &str,
    ) -> Result<Reviewed> {
        let db = self.outbox.db();
        let row = open_cart(db, provider_id, cart_id).await?;
        let lines = cart_lines(db, &row.id).await?;
        if lines.is_empty() {
            return Err(SubscriptionError::CartEmpty);
        }
        if row.attested_at.is_none() {
            return Err(SubscriptionError::IndirectProviderNotAttested);
        }
        let customer = self.dependencies.customer(caller, &row.customer).await?;
        if !customer.customer_agreement_accepted {
            return Err(SubscriptionError::CustomerAgreementMissing);
        }
        let mut reviewed = Vec::with_capacity(lines.len());
        for line in &lines {
            let offer = offer_for(db, &line.offer_id, "line_item.offer").await?;
            check_quantity(&offer, line.quantity, "line_item.quantity")?;
            let company = match &line.reseller_partner_id {
                Some(partner_id) => {
                    self.dependencies
                        .verify_reseller(caller, partner_id)
                        .await?
                        .company_name
                }
                None => String::new(),
            };
            reviewed.push(pb::ReviewedLine {
                line_item: Some(convert::line_item(line)),
                offer_display_name: offer.display_name,
                reseller_partner_id: line.reseller_partner_id.clone().unwrap_or_default(),
                reseller_company_name: company,
            });
        }
        let review = pb::CartReview {
            cart: Some(convert::cart(row.clone(), &lines)),
            lines: reviewed,
        };
        Ok(Reviewed {
            cart: row,
            review,
            customer_company_name: customer.company_name,
        })
    }
}

async fn check_line(db: &impl ConnectionTrait, line: &LineInput) -> Result<()> {
    let offer = offer_for(db, &line.offer_id, "line_item.offer").await?;
    check_quantity(&offer, line.quantity, "line_item.quantity")?;
    check_terms(&offer, line.term, line.billing_cycle)
}

pub(super) async fn find_cart(
    db: &impl ConnectionTrait,
    provider_id: &str,
    cart_id: &str,
) -> Result<cart::Model> {
    cart::Entity::find_by_id(cart_id.to_owned())
        .filter(cart::Column::ProviderId.eq(provider_id))
        .one(db)
        .await?
        .ok_or(SubscriptionError::CartNotFound)
}

/// The cart if it can still change.
pub(super) async fn open_cart(
    db: &impl ConnectionTrait,
    provider_id: &str,
    cart_id: &str,
) -> Result<cart::Model> {
    let row = find_cart(db, provider_id, cart_id).await?;
    match row.state.as_str() {
        cart_state::ORDERED => Err(SubscriptionError::CartAlreadyOrdered),
        cart_state::CANCELLED => Err(SubscriptionError::CartCancelled),
        _ => Ok(row),
    }
}

pub(super) async fn cart_lines(
    db: &impl ConnectionTrait,
    cart_id: &str,
) -> Result<Vec<cart_line::Model>> {
    Ok(cart_line::Entity::find()
        .filter(cart_line::Column::CartId.eq(cart_id))
        .order_by_asc(cart_line::Column::Id)
        .all(db)
        .await?)
}

/// Bumps the cart's version after a change to its lines.
async fn touch(db: &impl ConnectionTrait, row: &cart::Model) -> Result<cart::Model> {
    guarded_update(db, row, Default::default()).await
}

/// Applies `changes` (and a new version) to the cart if it is still open.
/// A concurrent checkout or cancel wins; this change then fails and the
/// caller's transaction changes nothing. Concurrent edits of an open cart
/// both apply (the row lock orders them); checkout, which is guarded by
/// the version it reviewed, is what must not miss one.
async fn guarded_update(
    db: &impl ConnectionTrait,
    row: &cart::Model,
    mut changes: cart::ActiveModel,
) -> Result<cart::Model> {
    changes.updated_at = Set(Utc::now());
    let updated = cart::Entity::update_many()
        .set(changes)
        .col_expr(
            cart::Column::Version,
            Expr::col(cart::Column::Version).add(1),
        )
        .filter(cart::Column::Id.eq(&row.id))
        .filter(cart::Column::State.eq(cart_state::OPEN))
        .exec_with_returning(db)
        .await?
        .into_iter()
        .next();
    match updated {
        Some(updated) => Ok(updated),
        None => Err(conflict(db, row).await),
    }
}

/// Why a guarded change to the cart lost: it was ordered, cancelled, or
/// merely changed by someone else meanwhile.
pub(super) async fn conflict(db: &impl ConnectionTrait, row: &cart::Model) -> SubscriptionError {
    let current = cart::Entity::find_by_id(row.id.clone()).one(db).await;
    match current {
        Ok(Some(current)) if current.state == cart_state::ORDERED => {
            SubscriptionError::CartAlreadyOrdered
        }
        Ok(Some(current)) if current.state == cart_state::CANCELLED => {
            SubscriptionError::CartCancelled
        }
        Ok(_) => SubscriptionError::StaleEtag("the cart"),
        Err(error) => error.into(),
    }
}
