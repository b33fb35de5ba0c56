//! Queries of partnerships and of a provider's indirect resellers (R5-R8).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Select,
};
use twotier_platform::by_position::ReadFrom;
use twotier_platform::guarded::{at_version, update_guarded};
use twotier_platform::{Error, like, paging};

use super::by_position::{self, ByPosition, Columns, Row};
use super::entities::partnership::{ActiveModel, Column, Entity, Model};
use super::entities::reseller as reseller_table;
use super::{created, reseller};
use crate::domain::{Attestation, IndirectReseller, Partnership, PartnershipState, Removal};

/// Partnership states as stored.
const ACTIVE: &str = "active";
const REMOVED: &str = "removed";

/// `state = 'active'` with the state written into the statement, not
/// bound: the unique index of active partnerships is partial on exactly
/// this condition, and a planner that does not look at bound values
/// (SQLite as built here, `.cargo/config.toml`; PostgreSQL's generic
/// plans) can use that index only for a condition it can read.
fn is_active() -> Expr {
    Expr::col((Entity, Column::State)).eq(Expr::cust(format!("'{ACTIVE}'")))
}

/// The active partnership of `provider_id` with `partner_id`.
pub async fn active(
    db: &impl ReadFrom,
    provider_id: &str,
    partner_id: &str,
) -> Result<Option<Partnership>, DbErr> {
    let row = by_position::one(db, between(provider_id, partner_id).filter(is_active())).await?;
    Ok(row.map(partnership))
}

/// The latest partnership, active or removed, of `provider_id` with
/// `partner_id`.
pub async fn latest(
    db: &impl ReadFrom,
    provider_id: &str,
    partner_id: &str,
) -> Result<Option<Partnership>, DbErr> {
    let latest_first = between(provider_id, partner_id).order_by_desc(Column::Id);
    let row = by_position::one(db, latest_first).await?;
    Ok(row.map(partnership))
}

fn between(provider_id: &str, partner_id: &str) -> Select<Entity> {
    Entity::find()
        .filter(Column::ProviderId.eq(provider_id))
        .filter(Column::PartnerId.eq(partner_id))
}

/// The provider's partnership `id`.
pub async fn get(
    db: &impl ReadFrom,
    provider_id: &str,
    id: &str,
) -> Result<Option<Partnership>, DbErr> {
    let by_key = Entity::find_by_id(id.to_owned());
    let row = by_position::one_owned(db, by_key, |row| row.provider_id == provider_id).await?;
    Ok(row.map(partnership))
}

/// Saves a new, active partnership; `None` when the provider already has
/// an active one with the reseller (the unique index on active
/// partnerships decides between concurrent acceptances).
pub async fn insert(
    db: &impl ConnectionTrait,
    new: &Partnership,
) -> Result<Option<Partnership>, DbErr> {
    let row = ActiveModel {
        id: Set(new.id.clone()),
        provider_id: Set(new.provider_id.clone()),
        partner_id: Set(new.partner_id.clone()),
        company_name: Set(new.company_name.clone()),
        company_name_key: Set(twotier_platform::name_key::name_key(&new.company_name)),
        invitation_id: Set(new.invitation_id.clone()),
        accepted_at: Set(new.accepted_at),
        accepted_by: Set(new.accepted_by.clone()),
        version: Set(new.version),
        ..state_change(new)
    };
    Ok(created(row.insert(db).await)?.map(partnership))
}

/// Saves the removal of `removed` if the stored partnership is still at its
/// version; the partnership as written, or `None` when someone changed it
/// first.
pub async fn save_removal(
    db: &impl ConnectionTrait,
    removed: &Partnership,
) -> Result<Option<Partnership>, DbErr> {
    let guard = at_version(Column::Id, &removed.id, Column::Version, removed.version);
    let written = update_guarded(db, state_change(removed), Column::Version, guard).await?;
    Ok(written.map(partnership))
}

/// Carries a reseller's new company name into all its partnerships, which
/// keep it for listing and filtering without a join.
pub async fn rename_reseller(
    db: &impl ConnectionTrait,
    partner_id: &str,
    company_name: &str,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::CompanyName, Expr::value(company_name))
        .col_expr(
            Column::CompanyNameKey,
            Expr::value(twotier_platform::name_key::name_key(company_name)),
        )
        .filter(Column::PartnerId.eq(partner_id))
        .exec(db)
        .await?;
    Ok(())
}

/// One page of the provider's active indirect resellers by company name,
/// only those whose name contains `name_filter` unless it is empty, after
/// the domain page token `token`.
pub async fn page_indirect_resellers(
    db: &impl ReadFrom,
    provider_id: &str,
    name_filter: &str,
    page_size: u64,
    token: &str,
) -> Result<(Vec<IndirectReseller>, String), Error> {
    let filter_key = name_filter.to_lowercase();
    let fingerprint = paging::fingerprint(&[provider_id, &filter_key]);
    let after: Option<(String, String)> = paging::decode_token(token, &fingerprint)?;
    // One query for the page and its resellers (a second one would cost
    // another round trip and connection checkout), reading only the
    // columns the list shows and the page key. Every row is one of
    // `provider_id`'s active partnerships, so neither the provider nor
    // the state is read.
    let mut query = Entity::find()
        .select_only()
        .columns([Column::CompanyNameKey, Column::Id, Column::StateChangedAt])
        .columns([
            reseller_table::Column::PartnerId,
            reseller_table::Column::CompanyName,
            reseller_table::Column::ContactEmail,
            reseller_table::Column::CountryCode,
            reseller_table::Column::PreferredLanguage,
        ])
        .inner_join(reseller_table::Entity)
        .filter(Column::ProviderId.eq(provider_id))
        .filter(is_active())
        .order_by_asc(Column::CompanyNameKey)
        .order_by_asc(Column::PartnerId)
        .limit(page_size + 1);
    if !filter_key.is_empty() {
        query = query.filter(Column::CompanyNameKey.like(like::containing(&filter_key)));
    }
    if let Some(key) = after {
        query = query.filter(paging::after(
            (Column::CompanyNameKey, Column::PartnerId),
            key,
        ));
    }
    let rows: Vec<Listed> = by_position::all(db, query).await?;
    let (rows, next) = paging::finish_page(rows, page_size, &fingerprint, |listed| {
        (listed.company_name_key.clone(), listed.partner_id.clone())
    });
    let page = rows
        .into_iter()
        .map(|listed| listed.of_provider(provider_id))
        .collect();
    Ok((page, next))
}

/// A row of [`page_indirect_resellers`]: its sort key and what it lists,
/// in the order selected there.
struct Listed {
    company_name_key: String,
    partnership_id: String,
    state_changed_at: DateTime<Utc>,
    partner_id: String,
    company_name: String,
    contact_email: String,
    country_code: String,
    preferred_language: String,
}

impl ByPosition for Listed {
    fn from_row<R: Row + ?Sized>(row: &R) -> Result<Self, DbErr> {
        let mut c = Columns::of(row);
        Ok(Self {
            company_name_key: c.take()?,
            partnership_id: c.take()?,
            state_changed_at: c.take()?,
            partner_id: c.take()?,
            company_name: c.take()?,
            contact_email: c.take()?,
            country_code: c.take()?,
            preferred_language: c.take()?,
        })
    }
}

impl Listed {
    /// The listed reseller; every row is one of `provider_id`'s active
    /// partnerships.
    fn of_provider(self, provider_id: &str) -> IndirectReseller {
        IndirectReseller {
            provider_id: provider_id.to_owned(),
            partnership_id: self.partnership_id,
            state: PartnershipState::Active,
            state_changed_at: self.state_changed_at,
            partner_id: self.partner_id,
            company_name: self.company_name,
            contact_email: self.contact_email,
            country_code: self.country_code,
            preferred_language: self.preferred_language,
        }
    }
}

/// One of the provider's indirect resellers with its latest partnership.
pub async fn indirect_reseller(
    db: &impl ReadFrom,
    provider_id: &str,
    partner_id: &str,
) -> Result<Option<IndirectReseller>, DbErr> {
    let Some(partnership) = latest(db, provider_id, partner_id).await? else {
        return Ok(None);
    };
    let reseller = reseller::get(db, partner_id).await?;
    Ok(reseller.map(|reseller| IndirectReseller::of(&partnership, reseller)))
}

/// The columns that record `partnership`'s state and its removal.
fn state_change(partnership: &Partnership) -> ActiveModel {
    let removal = partnership.removal.as_ref();
    let attestation = removal.map(|r| r.attestation).unwrap_or_default();
    ActiveModel {
        state: Set(removal.map_or(ACTIVE, |_| REMOVED).to_owned()),
        state_changed_at: Set(partnership.state_changed_at),
        removed_at: Set(removal.map(|r| r.at)),
        removed_by: Set(removal.map(|r| r.by.clone())),
        attested_good_faith: Set(attestation.good_faith),
        attested_legitimate_purpose: Set(attestation.legitimate_business_purpose),
        attested_per_agreements: Set(attestation.per_agreements),
        attested_indemnifies_platform: Set(attestation.indemnifies_platform),
        ..Default::default()
    }
}

fn partnership(row: Model) -> Partnership {
    let removal = row.removed_at.map(|at| Removal {
        at,
        by: row.removed_by.clone().unwrap_or_default(),
        attestation: Attestation {
            good_faith: row.attested_good_faith,
            legitimate_business_purpose: row.attested_legitimate_purpose,
            per_agreements: row.attested_per_agreements,
            indemnifies_platform: row.attested_indemnifies_platform,
        },
    });
    Partnership {
        id: row.id,
        provider_id: row.provider_id,
        partner_id: row.partner_id,
        company_name: row.company_name,
        invitation_id: row.invitation_id,
        accepted_at: row.accepted_at,
        accepted_by: row.accepted_by,
        state_changed_at: row.state_changed_at,
        removal,
        version: row.version,
    }
}
