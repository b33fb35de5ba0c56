//! Queries of onboarded resellers (R2, R3).

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QuerySelect,
};
use twotier_platform::by_position::ReadFrom;
use twotier_platform::guarded::{at_version, update_guarded};

use super::entities::reseller::{ActiveModel, Column, Entity, Model};
use super::{by_position, created};
use crate::domain::{AccountKind, Reseller};

const LOCATION: &str = "location";
const GLOBAL: &str = "global";

/// The reseller with `partner_id`.
pub async fn get(db: &impl ReadFrom, partner_id: &str) -> Result<Option<Reseller>, DbErr> {
    let row = by_position::one(db, Entity::find_by_id(partner_id.to_owned())).await?;
    Ok(row.map(reseller))
}

/// The reseller with `partner_id`, locked exclusively until the transaction
/// ends: an acceptance in flight (which holds a shared lock, see
/// [`of_tenant_for_share`]) commits its partnership first, so a rename
/// reaches it.
pub async fn get_for_update(
    db: &impl ConnectionTrait,
    partner_id: &str,
) -> Result<Option<Reseller>, DbErr> {
    let row = Entity::find_by_id(partner_id.to_owned())
        .lock_exclusive()
        .one(db)
        .await?;
    Ok(row.map(reseller))
}

/// The reseller whose tenant is `tenant_id`.
pub async fn of_tenant(db: &impl ReadFrom, tenant_id: &str) -> Result<Option<Reseller>, DbErr> {
    let row = by_position::one(db, Entity::find().filter(Column::TenantId.eq(tenant_id))).await?;
    Ok(row.map(reseller))
}

/// The reseller whose tenant is `tenant_id`, share-locked until the
/// transaction ends: a concurrent rename waits for the partnership this
/// transaction creates, then renames it too (see [`get_for_update`]).
pub async fn of_tenant_for_share(
    db: &impl ConnectionTrait,
    tenant_id: &str,
) -> Result<Option<Reseller>, DbErr> {
    let row = Entity::find()
        .filter(Column::TenantId.eq(tenant_id))
        .lock_shared()
        .one(db)
        .await?;
    Ok(row.map(reseller))
}

/// Saves a newly onboarded reseller; `None` when its PartnerID or tenant is
/// onboarded already (a concurrent onboarding too).
pub async fn insert(db: &impl ConnectionTrait, new: &Reseller) -> Result<Option<Reseller>, DbErr> {
    let row = ActiveModel {
        partner_id: Set(new.partner_id.clone()),
        tenant_id: Set(new.tenant_id.clone()),
        created_at: Set(new.created_at),
        version: Set(new.version),
        ..changes(new)
    };
    Ok(created(row.insert(db).await)?.map(reseller))
}

/// Saves `changed` if the stored reseller is still at its version; the
/// reseller as written, or `None` when someone changed it first.
pub async fn update(
    db: &impl ConnectionTrait,
    changed: &Reseller,
) -> Result<Option<Reseller>, DbErr> {
    let guard = at_version(
        Column::PartnerId,
        &changed.partner_id,
        Column::Version,
        changed.version,
    );
    let written = update_guarded(db, changes(changed), Column::Version, guard).await?;
    Ok(written.map(reseller))
}

/// Every column a change of `reseller` writes.
fn changes(reseller: &Reseller) -> ActiveModel {
    ActiveModel {
        company_name: Set(reseller.company_name.clone()),
        contact_email: Set(reseller.contact_email.clone()),
        country_code: Set(reseller.country_code.clone()),
        preferred_language: Set(reseller.preferred_language.clone()),
        account_kind: Set(match reseller.account_kind {
            AccountKind::Location => LOCATION,
            AccountKind::Global => GLOBAL,
        }
        .to_owned()),
        mpa_active: Set(reseller.mpa_active),
        updated_at: Set(reseller.updated_at),
        ..Default::default()
    }
}

fn reseller(row: Model) -> Reseller {
    Reseller {
        // Only ever written from an `AccountKind`; anything else is not a
        // location account, so R3 fails closed.
        account_kind: match row.account_kind.as_str() {
            LOCATION => AccountKind::Location,
            _ => AccountKind::Global,
        },
        partner_id: row.partner_id,
        tenant_id: row.tenant_id,
        company_name: row.company_name,
        contact_email: row.contact_email,
        country_code: row.country_code,
        preferred_language: row.preferred_language,
        mpa_active: row.mpa_active,
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version,
    }
}
