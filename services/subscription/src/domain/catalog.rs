//! R14: the offer catalog, and checking a line against its offer.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use twotier_platform::{Error, paging};
use twotier_proto::subscription as pb;

use super::convert::{self, billing_cycle_key, term_key};
use super::{Result, SubscriptionError, Subscriptions};
use crate::store::entities::offer;

impl Subscriptions {
    /// Lists offers by id.
    pub async fn list_offers(
        &self,
        page_size: u64,
        page_token: &str,
    ) -> Result<(Vec<pb::Offer>, String)> {
        let fingerprint = paging::fingerprint(&["offers"]);
        let after: Option<String> = paging::decode_token(page_token, &fingerprint)?;
        let mut query = offer::Entity::find()
            .order_by_asc(offer::Column::Id)
            .limit(page_size + 1);
        if let Some(after) = after {
            query = query.filter(offer::Column::Id.gt(after));
        }
        let rows = query.all(self.outbox.db()).await?;
        let (rows, token) =
            paging::finish_page(rows, page_size, &fingerprint, |row| row.id.clone());
        Ok((rows.into_iter().map(convert::offer).collect(), token))
    }

    /// Reads one offer.
    pub async fn get_offer(&self, offer_id: &str) -> Result<pb::Offer> {
        let row = offer::Entity::find_by_id(offer_id.to_owned())
            .one(self.outbox.db())
            .await?
            .ok_or_else(|| SubscriptionError::OfferNotFound(offer_id.to_owned()))?;
        Ok(convert::offer(row))
    }
}

/// The offer a line names, or an invalid-argument error on `field`.
pub(super) async fn offer_for(
    db: &impl ConnectionTrait,
    offer_id: &str,
    field: &str,
) -> Result<offer::Model> {
    offer::Entity::find_by_id(offer_id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::invalid_field("UNKNOWN_OFFER", field, "is not an offer of the catalog").into()
        })
}

/// Checks a quantity against the offer's limits.
pub(super) fn check_quantity(
    offer: &offer::Model,
    quantity: i32,
    field: &'static str,
) -> Result<()> {
    if (offer.min_licenses..=offer.max_licenses).contains(&quantity) {
        return Ok(());
    }
    Err(SubscriptionError::QuantityOutOfRange {
        field,
        min: offer.min_licenses,
        max: offer.max_licenses,
    })
}

/// Checks that the offer has the term and billing cycle, and that they fit
/// together (a monthly term is billed monthly).
pub(super) fn check_terms(
    offer: &offer::Model,
    term: pb::Term,
    cycle: pb::BillingCycle,
) -> Result<()> {
    if !convert::keys(&offer.terms)
        .iter()
        .any(|t| t == term_key(term))
    {
        return Err(Error::invalid_field(
            "TERM_NOT_OFFERED",
            "line_item.term",
            "is not offered for this offer",
        )
        .into());
    }
    let cycle_offered = convert::keys(&offer.billing_cycles)
        .iter()
        .any(|c| c == billing_cycle_key(cycle));
    if !cycle_offered || (term == pb::Term::Monthly && cycle == pb::BillingCycle::Annual) {
        return Err(Error::invalid_field(
            "BILLING_CYCLE_NOT_OFFERED",
            "line_item.billing_cycle",
            "is not offered for this offer and term",
        )
        .into());
    }
    Ok(())
}
