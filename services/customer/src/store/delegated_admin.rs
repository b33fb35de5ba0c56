//! Queries of delegated admin relationships.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder,
};

use super::entities::delegated_admin;
use crate::domain::DelegatedAdmin;

/// Records `grant` and returns it as written.
pub async fn insert(
    db: &impl ConnectionTrait,
    grant: &DelegatedAdmin,
) -> Result<DelegatedAdmin, DbErr> {
    let row = delegated_admin::Model {
        customer_id: grant.customer_id.clone(),
        partner_id: grant.partner_id.clone(),
        provider_id: grant.provider_id.clone(),
        reseller_company_name: grant.reseller_company_name.clone(),
        created_at: grant.created_at,
    };
    let row = row.into_active_model().insert(db).await?;
    Ok(from_row(row))
}

/// Every delegation of the customer `customer_id`, by PartnerID.
pub async fn list(
    db: &impl ConnectionTrait,
    customer_id: &str,
) -> Result<Vec<DelegatedAdmin>, DbErr> {
    let rows = delegated_admin::Entity::find()
        .filter(delegated_admin::Column::CustomerId.eq(customer_id))
        .order_by_asc(delegated_admin::Column::PartnerId)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// The delegation of the customer `customer_id` to `partner_id`, if any.
pub async fn find(
    db: &impl ConnectionTrait,
    customer_id: &str,
    partner_id: &str,
) -> Result<Option<DelegatedAdmin>, DbErr> {
    let row = delegated_admin::Entity::find_by_id((customer_id.to_owned(), partner_id.to_owned()))
        .one(db)
        .await?;
    Ok(row.map(from_row))
}

/// Ends the delegation of the customer `customer_id` to `partner_id` (R23);
/// false when there was none.
pub async fn delete(
    db: &impl ConnectionTrait,
    customer_id: &str,
    partner_id: &str,
) -> Result<bool, DbErr> {
    let deleted =
        delegated_admin::Entity::delete_by_id((customer_id.to_owned(), partner_id.to_owned()))
            .exec(db)
            .await?;
    Ok(deleted.rows_affected > 0)
}

fn from_row(row: delegated_admin::Model) -> DelegatedAdmin {
    DelegatedAdmin {
        customer_id: row.customer_id,
        provider_id: row.provider_id,
        partner_id: row.partner_id,
        reseller_company_name: row.reseller_company_name,
        created_at: row.created_at,
    }
}
