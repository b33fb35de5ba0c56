//! Queries of reseller relationship requests (R22). Only a token's hash is
//! stored.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use twotier_platform::capability::CapabilityTokens;
use twotier_platform::guarded::update_guarded;
use twotier_platform::personal_link::stored::{self, PENDING};
use twotier_platform::{Error, paging};

use super::entities::relationship_request::{ActiveModel, Column, Entity, Model};
use crate::domain::{PersonalLink, RelationshipRequest};

/// Saves a new request, findable by `token` from then on.
pub async fn insert(
    db: &impl ConnectionTrait,
    new: &RelationshipRequest,
    token: &str,
) -> Result<RelationshipRequest, DbErr> {
    let row = ActiveModel {
        id: Set(new.id.clone()),
        provider_id: Set(new.provider_id.clone()),
        customer_id: Set(new.customer_id.clone()),
        token_hash: Set(CapabilityTokens::hash(token)),
        partner_id: Set(new.partner_id.clone()),
        reseller_company_name: Set(new.reseller_company_name.clone()),
        admin_email: Set(new.admin_email.clone()),
        language_code: Set(new.language_code.clone()),
        created_by: Set(new.created_by.clone()),
        created_by_email: Set(new.created_by_email.clone()),
        created_at: Set(new.created_at),
        expires_at: Set(new.expires_at),
        version: Set(new.version),
        ..closing(new)
    };
    Ok(request(row.insert(db).await?))
}

/// The request `id` of the customer `customer_id` of `provider_id`.
pub async fn get(
    db: &impl ConnectionTrait,
    provider_id: &str,
    customer_id: &str,
    id: &str,
) -> Result<Option<RelationshipRequest>, DbErr> {
    let row = Entity::find_by_id(id.to_owned())
        .filter(Column::ProviderId.eq(provider_id))
        .filter(Column::CustomerId.eq(customer_id))
        .one(db)
        .await?;
    Ok(row.map(request))
}

/// The request that `token` opens.
pub async fn of_token(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<RelationshipRequest>, DbErr> {
    let row = Entity::find()
        .filter(Column::TokenHash.eq(CapabilityTokens::hash(token)))
        .one(db)
        .await?;
    Ok(row.map(request))
}

/// One page of the customer's requests, newest first, after the domain
/// page token `token`.
pub async fn page(
    db: &impl ConnectionTrait,
    customer_id: &str,
    page_size: u64,
    token: &str,
) -> Result<(Vec<RelationshipRequest>, String), Error> {
    let filter = paging::fingerprint(&["relationship", customer_id]);
    let after: Option<String> = paging::decode_token(token, &filter)?;
    let mut query = Entity::find()
        .filter(Column::CustomerId.eq(customer_id))
        .order_by_desc(Column::Id)
        .limit(page_size + 1);
    if let Some(after) = after {
        query = query.filter(Column::Id.lt(after));
    }
    let rows = twotier_platform::db::all(db, query).await?;
    let (rows, next) = paging::finish_page(rows, page_size, &filter, |row| row.id.clone());
    Ok((rows.into_iter().map(request).collect(), next))
}

/// Locks request `id` while it is still pending, with a write that changes
/// nothing: a revoke or acceptance committing meanwhile makes the caller's
/// command fail instead of mailing a dead link. False when it is no longer
/// pending.
pub async fn lock_pending(db: &impl ConnectionTrait, id: &str) -> Result<bool, DbErr> {
    let locked = Entity::update_many()
        .col_expr(Column::State, Expr::col(Column::State))
        .filter(Column::Id.eq(id))
        .filter(Column::State.eq(PENDING))
        .exec(db)
        .await?;
    Ok(locked.rows_affected > 0)
}

/// Saves how `closed` was closed if the stored request is still pending:
/// only the first of concurrent acceptances and revokes wins, which makes a
/// request single-use. The request as written, or `None` when it was no
/// longer pending.
pub async fn close(
    db: &impl ConnectionTrait,
    closed: &RelationshipRequest,
) -> Result<Option<RelationshipRequest>, DbErr> {
    let still_pending = Condition::all()
        .add(Column::Id.eq(&closed.id))
        .add(Column::State.eq(PENDING));
    let written = update_guarded(db, closing(closed), Column::Version, still_pending).await?;
    Ok(written.map(request))
}

/// The columns that record how `request` was closed.
fn closing(request: &RelationshipRequest) -> ActiveModel {
    let accepted = request.acceptance();
    ActiveModel {
        state: Set(stored::state(request.closed.as_ref()).to_owned()),
        accepted_at: Set(accepted.map(|(at, _)| at)),
        accepted_by: Set(accepted.map(|(_, by)| by.to_owned())),
        revoked_at: Set(request.revoked_at()),
        ..Default::default()
    }
}

fn request(row: Model) -> RelationshipRequest {
    let closed = stored::closed(stored::Columns {
        state: row.state,
        accepted_at: row.accepted_at,
        acceptance: row.accepted_by,
        revoked_at: row.revoked_at,
        created_at: row.created_at,
    });
    RelationshipRequest {
        id: row.id,
        provider_id: row.provider_id,
        customer_id: row.customer_id,
        partner_id: row.partner_id,
        reseller_company_name: row.reseller_company_name,
        admin_email: row.admin_email,
        language_code: row.language_code,
        created_by: row.created_by,
        created_by_email: row.created_by_email,
        created_at: row.created_at,
        expires_at: row.expires_at,
        closed,
        version: row.version,
    }
}
