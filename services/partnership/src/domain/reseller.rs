//! R2 and R3: onboarded indirect resellers and PartnerID verification.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect,
};
use twotier_outbox::Event;
use twotier_platform::idempotency::{self, Claim, IdempotencyKey};
use twotier_platform::names;
use twotier_proto::partnership as pb;

use super::convert::{self, partnership_state};
use super::{PartnershipError, Partnerships, Result};
use crate::store::entities::{partnership, reseller};

/// The kind of partner account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    /// May transact as indirect reseller.
    Location,
    /// May not transact.
    Global,
}

impl AccountKind {
    fn as_str(self) -> &'static str {
        match self {
            AccountKind::Location => "location",
            AccountKind::Global => "global",
        }
    }
}

/// A reseller to onboard, validated.
#[derive(Debug, Clone)]
pub struct ResellerFields {
    /// PartnerID of the onboarded account.
    pub partner_id: String,
    /// The reseller's tenant id.
    pub tenant_id: String,
    /// Company name.
    pub company_name: String,
    /// Contact email.
    pub contact_email: String,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    /// `en` or `de`.
    pub preferred_language: String,
    /// Location or global account.
    pub account_kind: AccountKind,
    /// Whether the MPA is active.
    pub mpa_active: bool,
}

/// Changes to an onboarded reseller (`None` keeps the stored value).
#[derive(Debug, Clone, Default)]
pub struct ResellerPatch {
    /// New company name.
    pub company_name: Option<String>,
    /// New contact email.
    pub contact_email: Option<String>,
    /// New country.
    pub country_code: Option<String>,
    /// New language.
    pub preferred_language: Option<String>,
    /// New account kind.
    pub account_kind: Option<AccountKind>,
    /// New MPA status.
    pub mpa_active: Option<bool>,
}

const AGGREGATE: &str = "reseller";

impl Partnerships {
    /// Onboards a reseller (platform operator only).
    pub async fn onboard_reseller(
        &self,
        fields: ResellerFields,
        key: Option<IdempotencyKey>,
    ) -> Result<pb::Reseller> {
        let tx = self.outbox.begin().await?;
        if let Claim::Replay(reseller) = idempotency::claim(&tx, key.as_ref()).await? {
            return Ok(reseller);
        }
        if reseller::Entity::find_by_id(fields.partner_id.clone())
            .one(&*tx)
            .await?
            .is_some()
        {
            return Err(PartnershipError::ResellerAlreadyOnboarded(
                fields.partner_id,
            ));
        }
        let tenant_taken = reseller::Entity::find()
            .filter(reseller::Column::TenantId.eq(&fields.tenant_id))
            .one(&*tx)
            .await?
            .is_some();
        if tenant_taken {
            return Err(PartnershipError::ResellerTenantTaken(fields.tenant_id));
        }
        let now = Utc::now();
        let row = reseller::ActiveModel {
            partner_id: Set(fields.partner_id),
            tenant_id: Set(fields.tenant_id),
            company_name: Set(fields.company_name),
            contact_email: Set(fields.contact_email),
            country_code: Set(fields.country_code),
            preferred_language: Set(fields.preferred_language),
            account_kind: Set(fields.account_kind.as_str().to_owned()),
            mpa_active: Set(fields.mpa_active),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
        }
        .insert(&*tx)
        .await
        .map_err(|error| {
            if twotier_platform::db::is_unique_violation(&error) {
                return PartnershipError::ResellerAlreadyOnboarded(
                    "this PartnerID or tenant".into(),
                );
            }
            error.into()
        })?;
        let onboarded = convert::reseller(row.clone());
        tx.append(Event::new(
            AGGREGATE,
            &row.partner_id,
            &row.tenant_id,
            &pb::ResellerOnboarded {
                reseller: Some(onboarded.clone()),
            },
        ))
        .await?;
        idempotency::complete(&tx, key.as_ref(), &onboarded).await?;
        tx.commit().await?;
        tracing::info!(partner_id = %row.partner_id, "reseller onboarded");
        Ok(onboarded)
    }

    /// Reads an onboarded reseller.
    pub async fn get_reseller(&self, partner_id: &str) -> Result<pb::Reseller> {
        reseller::Entity::find_by_id(partner_id.to_owned())
            .one(self.outbox.db())
            .await?
            .map(convert::reseller)
            .ok_or_else(|| PartnershipError::ResellerNotFound(partner_id.to_owned()))
    }

    /// Changes an onboarded reseller if `etag` is current (platform operator
    /// only). A new company name is carried into its partnerships.
    pub async fn update_reseller(
        &self,
        partner_id: &str,
        etag: &str,
        patch: ResellerPatch,
    ) -> Result<pb::Reseller> {
        let tx = self.outbox.begin().await?;
        // Exclusive lock before renaming its partnerships: an acceptance in
        // flight (which holds a shared lock) commits its partnership first,
        // so the rename below reaches it.
        let current = reseller::Entity::find_by_id(partner_id.to_owned())
            .lock_exclusive()
            .one(&*tx)
            .await?
            .ok_or_else(|| PartnershipError::ResellerNotFound(partner_id.to_owned()))?;
        names::check_etag(etag, current.version, "the reseller")
            .map_err(|_| PartnershipError::StaleEtag("the reseller"))?;
        let version = current.version;
        let mut row: reseller::ActiveModel = current.into();
        if let Some(name) = &patch.company_name {
            row.company_name = Set(name.clone());
            partnership::Entity::update_many()
                .col_expr(partnership::Column::CompanyName, Expr::value(name.clone()))
                .col_expr(
                    partnership::Column::CompanyNameKey,
                    Expr::value(name.to_lowercase()),
                )
                .filter(partnership::Column::PartnerId.eq(partner_id))
                .exec(&*tx)
                .await?;
        }
        if let Some(value) = patch.contact_email {
            row.contact_email = Set(value);
        }
        if let Some(value) = patch.country_code {
            row.country_code = Set(value);
        }
        if let Some(value) = patch.preferred_language {
            row.preferred_language = Set(value);
        }
        if let Some(value) = patch.account_kind {
            row.account_kind = Set(value.as_str().to_owned());
        }
        if let Some(value) = patch.mpa_active {
            row.mpa_active = Set(value);
        }
        row.updated_at = Set(Utc::now());
        row.version = Set(version + 1);
        let row = reseller::Entity::update_many()
            .set(row)
            .filter(reseller::Column::PartnerId.eq(partner_id))
            .filter(reseller::Column::Version.eq(version))
            .exec_with_returning(&*tx)
            .await?
            .into_iter()
            .next()
            .ok_or(PartnershipError::StaleEtag("the reseller"))?;
        let updated = convert::reseller(row.clone());
        tx.append(Event::new(
            AGGREGATE,
            &row.partner_id,
            &row.tenant_id,
            &pb::ResellerUpdated {
                reseller: Some(updated.clone()),
            },
        ))
        .await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// R3: checks that `partner_id` may be named as reseller of record. For
    /// a provider caller (`provider_id`), also tells whether it is partnered.
    pub async fn verify_partner_id(
        &self,
        partner_id: &str,
        provider_id: Option<&str>,
    ) -> Result<pb::VerifyPartnerIdResponse> {
        let db = self.outbox.db();
        let row = reseller::Entity::find_by_id(partner_id.to_owned())
            .one(db)
            .await?
            .ok_or_else(|| PartnershipError::PartnerIdNotFound(partner_id.to_owned()))?;
        require_eligible(&row)?;
        let partnered_with_caller = match provider_id {
            Some(provider_id) => partnership::Entity::find()
                .filter(partnership::Column::ProviderId.eq(provider_id))
                .filter(partnership::Column::PartnerId.eq(partner_id))
                .filter(partnership::Column::State.eq(partnership_state::ACTIVE))
                .one(db)
                .await?
                .is_some(),
            None => false,
        };
        Ok(pb::VerifyPartnerIdResponse {
            reseller: convert::reseller_name(&row.partner_id),
            partner_id: row.partner_id,
            company_name: row.company_name,
            country_code: row.country_code,
            status: pb::ResellerStatus::Active.into(),
            partnered_with_caller,
        })
    }
}

/// R3: a reseller may be chosen only with a location account and an active
/// Microsoft Partner Agreement.
pub(super) fn require_eligible(row: &reseller::Model) -> Result<()> {
    match convert::reseller_status(row) {
        pb::ResellerStatus::GlobalAccount => Err(PartnershipError::PartnerIdNotLocationAccount(
            row.partner_id.clone(),
        )),
        pb::ResellerStatus::MpaInactive => Err(PartnershipError::PartnerMpaNotActive(
            row.partner_id.clone(),
        )),
        _ => Ok(()),
    }
}
