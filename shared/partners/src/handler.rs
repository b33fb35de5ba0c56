//! Applies partnership events to the projection. [`handlers`] is the one
//! list of the event types the projection follows: the consumer subscribes
//! to exactly the types registered there.

use std::sync::Arc;

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, EntityTrait};
use twotier_outbox::projection::{position, taken_from_older};
use twotier_outbox::{EventHandler, HandleError, Handlers, Handles};
use twotier_platform::names;
use twotier_proto::events::EventEnvelope;
use twotier_proto::partnership as pb;

use crate::entity::{partner_partnership, partner_provider, partner_reseller};

/// The projection's handler of partnership events.
pub struct PartnerEvents;

/// The handler a consuming service gives its consumer of the partnership
/// log (and its dead letters, for replays).
pub fn handlers() -> Arc<dyn EventHandler> {
    Arc::new(
        Handlers::new(PartnerEvents)
            .on::<pb::ResellerOnboarded>()
            .on::<pb::ResellerUpdated>()
            .on::<pb::PartnershipAccepted>()
            .on::<pb::PartnershipRemoved>()
            .on::<pb::ProviderListingChanged>(),
    )
}

#[async_trait::async_trait]
impl Handles<pb::ResellerOnboarded> for PartnerEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        payload: pb::ResellerOnboarded,
    ) -> Result<(), HandleError> {
        upsert_reseller(txn, payload.reseller, position(event)).await
    }
}

#[async_trait::async_trait]
impl Handles<pb::ResellerUpdated> for PartnerEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        payload: pb::ResellerUpdated,
    ) -> Result<(), HandleError> {
        upsert_reseller(txn, payload.reseller, position(event)).await
    }
}

#[async_trait::async_trait]
impl Handles<pb::PartnershipAccepted> for PartnerEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        payload: pb::PartnershipAccepted,
    ) -> Result<(), HandleError> {
        let position = position(event);
        upsert_reseller(txn, payload.reseller, position).await?;
        upsert_partnership(txn, payload.partnership, true, position).await
    }
}

#[async_trait::async_trait]
impl Handles<pb::PartnershipRemoved> for PartnerEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        payload: pb::PartnershipRemoved,
    ) -> Result<(), HandleError> {
        upsert_partnership(txn, payload.partnership, false, position(event)).await
    }
}

#[async_trait::async_trait]
impl Handles<pb::ProviderListingChanged> for PartnerEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        payload: pb::ProviderListingChanged,
    ) -> Result<(), HandleError> {
        let listing = payload
            .provider_listing
            .ok_or_else(|| HandleError::Rejected("event carries no listing".into()))?;
        let [provider_id] = names::parse(&listing.name, &names::PROVIDER_LISTING)
            .ok_or_else(|| HandleError::Rejected(format!("not a listing: {}", listing.name)))?;
        let position = position(event);
        let row = partner_provider::ActiveModel {
            provider_id: Set(provider_id.to_owned()),
            display_name: Set(listing.display_name),
            position: Set(position),
        };
        partner_provider::Entity::insert(row)
            .on_conflict(
                OnConflict::column(partner_provider::Column::ProviderId)
                    .update_columns([
                        partner_provider::Column::DisplayName,
                        partner_provider::Column::Position,
                    ])
                    .action_and_where(taken_from_older(partner_provider::Entity, position))
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
        Ok(())
    }
}

async fn upsert_reseller(
    txn: &DatabaseTransaction,
    reseller: Option<pb::Reseller>,
    position: i64,
) -> Result<(), HandleError> {
    let reseller =
        reseller.ok_or_else(|| HandleError::Rejected("event carries no reseller".into()))?;
    let location_account = reseller.account_kind == pb::AccountKind::Location as i32;
    let row = partner_reseller::ActiveModel {
        partner_id: Set(reseller.partner_id),
        tenant_id: Set(reseller.tenant_id),
        company_name: Set(reseller.company_name),
        contact_email: Set(reseller.contact_email),
        preferred_language: Set(reseller.preferred_language),
        position: Set(position),
        location_account: Set(location_account),
        mpa_active: Set(reseller.mpa_active),
    };
    partner_reseller::Entity::insert(row)
        .on_conflict(
            OnConflict::column(partner_reseller::Column::PartnerId)
                .update_columns([
                    partner_reseller::Column::TenantId,
                    partner_reseller::Column::CompanyName,
                    partner_reseller::Column::ContactEmail,
                    partner_reseller::Column::PreferredLanguage,
                    partner_reseller::Column::Position,
                    partner_reseller::Column::LocationAccount,
                    partner_reseller::Column::MpaActive,
                ])
                .action_and_where(taken_from_older(partner_reseller::Entity, position))
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

async fn upsert_partnership(
    txn: &DatabaseTransaction,
    partnership: Option<pb::Partnership>,
    active: bool,
    position: i64,
) -> Result<(), HandleError> {
    let partnership =
        partnership.ok_or_else(|| HandleError::Rejected("event carries no partnership".into()))?;
    let row = partner_partnership::ActiveModel {
        provider_id: Set(partnership.provider_id),
        partner_id: Set(partnership.partner_id),
        partnership: Set(partnership.name),
        active: Set(active),
        state_changed_at: Set(Utc::now()),
        position: Set(position),
    };
    partner_partnership::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                partner_partnership::Column::ProviderId,
                partner_partnership::Column::PartnerId,
            ])
            .update_columns([
                partner_partnership::Column::Partnership,
                partner_partnership::Column::Active,
                partner_partnership::Column::StateChangedAt,
                partner_partnership::Column::Position,
            ])
            .action_and_where(taken_from_older(partner_partnership::Entity, position))
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use prost::Name;

    use super::*;

    #[test]
    fn the_projection_follows_reseller_and_partnership_events() {
        let mut followed = handlers().event_types();
        followed.sort();
        let mut expected = vec![
            pb::PartnershipAccepted::full_name(),
            pb::PartnershipRemoved::full_name(),
            pb::ProviderListingChanged::full_name(),
            pb::ResellerOnboarded::full_name(),
            pb::ResellerUpdated::full_name(),
        ];
        expected.sort();
        assert_eq!(followed, expected);
    }
}
