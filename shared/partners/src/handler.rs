//! Applies partnership events to the projection.

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, EntityTrait};
use twotier_outbox::{EventHandler, HandleError, decode_payload};
use twotier_proto::events::EventEnvelope;
use twotier_proto::partnership as pb;

use crate::entity::{partner_partnership, partner_reseller};

/// The [`EventHandler`] of the partner directory.
pub struct PartnerEvents;

fn name_of<M: prost::Name>() -> String {
    M::full_name()
}

#[async_trait::async_trait]
impl EventHandler for PartnerEvents {
    fn event_types(&self) -> Vec<String> {
        vec![
            name_of::<pb::ResellerOnboarded>(),
            name_of::<pb::ResellerUpdated>(),
            name_of::<pb::PartnershipAccepted>(),
            name_of::<pb::PartnershipRemoved>(),
        ]
    }

    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
    ) -> Result<(), HandleError> {
        let position = i64::try_from(event.position).unwrap_or(i64::MAX);
        let event_type = event.event_type.as_str();
        if event_type == name_of::<pb::ResellerOnboarded>() {
            let payload: pb::ResellerOnboarded = decode_payload(event)?;
            return upsert_reseller(txn, payload.reseller, position).await;
        }
        if event_type == name_of::<pb::ResellerUpdated>() {
            let payload: pb::ResellerUpdated = decode_payload(event)?;
            return upsert_reseller(txn, payload.reseller, position).await;
        }
        if event_type == name_of::<pb::PartnershipAccepted>() {
            let payload: pb::PartnershipAccepted = decode_payload(event)?;
            upsert_reseller(txn, payload.reseller, position).await?;
            return upsert_partnership(txn, payload.partnership, true, position).await;
        }
        if event_type == name_of::<pb::PartnershipRemoved>() {
            let payload: pb::PartnershipRemoved = decode_payload(event)?;
            return upsert_partnership(txn, payload.partnership, false, position).await;
        }
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
    let row = partner_reseller::ActiveModel {
        partner_id: Set(reseller.partner_id),
        tenant_id: Set(reseller.tenant_id),
        company_name: Set(reseller.company_name),
        contact_email: Set(reseller.contact_email),
        preferred_language: Set(reseller.preferred_language),
        position: Set(position),
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
                ])
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
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}
