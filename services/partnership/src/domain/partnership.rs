//! R7 and R8: the provider's indirect resellers and ending a partnership.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use twotier_outbox::Event;
use twotier_platform::auth::Caller;
use twotier_platform::{like, names, paging};
use twotier_proto::partnership as pb;

use super::convert::{self, partnership_state};
use super::invitation::active_partnership;
use super::{PartnershipError, Partnerships, Result};
use crate::store::entities::{partnership, reseller};

/// The provider's attestation on removing a partnership (R7).
#[derive(Debug, Clone, Copy)]
pub struct Attestation {
    /// Decided in good faith.
    pub good_faith: bool,
    /// For a legitimate business purpose.
    pub legitimate_business_purpose: bool,
    /// Per the provider's agreements.
    pub per_agreements: bool,
    /// The provider indemnifies the platform.
    pub indemnifies_platform: bool,
}

impl Partnerships {
    /// R8: the provider's active indirect resellers, by company name,
    /// optionally only those whose name contains `name_filter`.
    pub async fn list_indirect_resellers(
        &self,
        provider_id: &str,
        name_filter: &str,
        page_size: u64,
        page_token: &str,
    ) -> Result<(Vec<pb::IndirectReseller>, String)> {
        let filter_key = name_filter.to_lowercase();
        let fingerprint = paging::fingerprint(&[provider_id, &filter_key]);
        let after: Option<(String, String)> = paging::decode_token(page_token, &fingerprint)?;
        let mut query = partnership::Entity::find()
            .filter(partnership::Column::ProviderId.eq(provider_id))
            .filter(partnership::Column::State.eq(partnership_state::ACTIVE))
            .order_by_asc(partnership::Column::CompanyNameKey)
            .order_by_asc(partnership::Column::PartnerId)
            .limit(page_size + 1);
        if !filter_key.is_empty() {
            query = query
                .filter(partnership::Column::CompanyNameKey.like(like::containing(&filter_key)));
        }
        if let Some((name_key, partner_id)) = after {
            query = query.filter(paging::after(
                (
                    partnership::Column::CompanyNameKey,
                    partnership::Column::PartnerId,
                ),
                (name_key, partner_id),
            ));
        }
        let db = self.outbox.db();
        let rows = query.all(db).await?;
        let (rows, token) = paging::finish_page(rows, page_size, &fingerprint, |row| {
            (row.company_name_key.clone(), row.partner_id.clone())
        });
        let partner_ids: Vec<String> = rows.iter().map(|row| row.partner_id.clone()).collect();
        let resellers: HashMap<String, reseller::Model> = reseller::Entity::find()
            .filter(reseller::Column::PartnerId.is_in(partner_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.partner_id.clone(), r))
            .collect();
        let listed = rows
            .iter()
            .filter_map(|row| {
                resellers
                    .get(&row.partner_id)
                    .map(|r| convert::indirect_reseller(row, r))
            })
            .collect();
        Ok((listed, token))
    }

    /// R8: one indirect reseller with its latest partnership's state.
    pub async fn get_indirect_reseller(
        &self,
        provider_id: &str,
        partner_id: &str,
    ) -> Result<pb::IndirectReseller> {
        let db = self.outbox.db();
        let latest = partnership::Entity::find()
            .filter(partnership::Column::ProviderId.eq(provider_id))
            .filter(partnership::Column::PartnerId.eq(partner_id))
            .order_by_desc(partnership::Column::Id)
            .one(db)
            .await?
            .ok_or_else(|| PartnershipError::IndirectResellerNotFound(partner_id.to_owned()))?;
        let reseller = reseller::Entity::find_by_id(partner_id.to_owned())
            .one(db)
            .await?
            .ok_or_else(|| PartnershipError::IndirectResellerNotFound(partner_id.to_owned()))?;
        Ok(convert::indirect_reseller(&latest, &reseller))
    }

    /// Reads a partnership: the provider's own, or one of the calling
    /// reseller's. Anything else is not found.
    pub async fn get_partnership(
        &self,
        caller: &Caller,
        provider_id: &str,
        partnership_id: &str,
    ) -> Result<pb::Partnership> {
        let db = self.outbox.db();
        let row = partnership::Entity::find_by_id(partnership_id.to_owned())
            .filter(partnership::Column::ProviderId.eq(provider_id))
            .one(db)
            .await?
            .ok_or(PartnershipError::PartnershipNotFound)?;
        let visible = if caller.is_provider() {
            caller.tenant_id == row.provider_id
        } else {
            reseller::Entity::find_by_id(row.partner_id.clone())
                .one(db)
                .await?
                .is_some_and(|reseller| reseller.tenant_id == caller.tenant_id)
        };
        if !visible {
            return Err(PartnershipError::PartnershipNotFound);
        }
        Ok(convert::partnership(row))
    }

    /// R7: ends the provider's partnership with `partner_id`. Only the
    /// partnership changes; customers, delegated admin relationships and
    /// subscriptions belong to other services and are left alone, and the
    /// event is not one the notification service emails about.
    pub async fn remove_partnership(
        &self,
        caller: &Caller,
        provider_id: &str,
        partner_id: &str,
        attestation: Attestation,
        etag: &str,
    ) -> Result<pb::Partnership> {
        let tx = self.outbox.begin().await?;
        let Some(current) = active_partnership(&*tx, provider_id, partner_id).await? else {
            let ever = partnership::Entity::find()
                .filter(partnership::Column::ProviderId.eq(provider_id))
                .filter(partnership::Column::PartnerId.eq(partner_id))
                .one(&*tx)
                .await?;
            return Err(match ever {
                Some(_) => PartnershipError::PartnershipNotActive(partner_id.to_owned()),
                None => PartnershipError::IndirectResellerNotFound(partner_id.to_owned()),
            });
        };
        names::check_etag(etag, current.version, "the partnership")
            .map_err(|_| PartnershipError::StaleEtag("the partnership"))?;
        let now = Utc::now();
        let removed = partnership::Entity::update_many()
            .col_expr(
                partnership::Column::State,
                Expr::value(partnership_state::REMOVED),
            )
            .col_expr(partnership::Column::StateChangedAt, Expr::value(now))
            .col_expr(partnership::Column::RemovedAt, Expr::value(Some(now)))
            .col_expr(
                partnership::Column::RemovedBy,
                Expr::value(Some(caller.subject.clone())),
            )
            .col_expr(
                partnership::Column::AttestedGoodFaith,
                Expr::value(attestation.good_faith),
            )
            .col_expr(
                partnership::Column::AttestedLegitimatePurpose,
                Expr::value(attestation.legitimate_business_purpose),
            )
            .col_expr(
                partnership::Column::AttestedPerAgreements,
                Expr::value(attestation.per_agreements),
            )
            .col_expr(
                partnership::Column::AttestedIndemnifiesPlatform,
                Expr::value(attestation.indemnifies_platform),
            )
            .col_expr(
                partnership::Column::Version,
                Expr::value(current.version + 1),
            )
            .filter(partnership::Column::Id.eq(&current.id))
            .filter(partnership::Column::Version.eq(current.version))
            .exec_with_returning(&*tx)
            .await?
            .into_iter()
            .next()
            .ok_or(PartnershipError::StaleEtag("the partnership"))?;
        let removed = convert::partnership(removed);
        tx.append(Event::new(
            "partnership",
            &current.id,
            provider_id,
            &pb::PartnershipRemoved {
                partnership: Some(removed.clone()),
            },
        ))
        .await?;
        tx.commit().await?;
        tracing::info!(provider_id, partner_id, removed_by = %caller.subject, "partnership removed");
        Ok(removed)
    }
}
