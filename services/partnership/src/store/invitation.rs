//! Queries of invitations (R4, R5). Only a token's hash is stored.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use twotier_platform::capability::CapabilityTokens;
use twotier_platform::guarded::update_guarded;
use twotier_platform::personal_link::stored::{self, PENDING};
use twotier_platform::{Error, paging};

use super::entities::invitation::{ActiveModel, Column, Entity, Model};
use crate::domain::{Invitation, PersonalLink};

/// Saves a new invitation, findable by `token` from then on.
pub async fn insert(
    db: &impl ConnectionTrait,
    new: &Invitation,
    token: &str,
) -> Result<Invitation, DbErr> {
    let row = ActiveModel {
        id: Set(new.id.clone()),
        provider_id: Set(new.provider_id.clone()),
        token_hash: Set(CapabilityTokens::hash(token)),
        reseller_email: Set(new.reseller_email.clone()),
        language_code: Set(new.language_code.clone()),
        created_by: Set(new.created_by.clone()),
        created_by_email: Set(new.created_by_email.clone()),
        created_at: Set(new.created_at),
        expires_at: Set(new.expires_at),
        version: Set(new.version),
        ..closing(new)
    };
    Ok(invitation(row.insert(db).await?))
}

/// The provider's invitation `id`.
pub async fn get(
    db: &impl ConnectionTrait,
    provider_id: &str,
    id: &str,
) -> Result<Option<Invitation>, DbErr> {
    let row = Entity::find()
        .filter(Column::Id.eq(id))
        .filter(Column::ProviderId.eq(provider_id))
        .one(db)
        .await?;
    Ok(row.map(invitation))
}

/// The invitation that `token` opens.
pub async fn of_token(db: &impl ConnectionTrait, token: &str) -> Result<Option<Invitation>, DbErr> {
    let row = Entity::find()
        .filter(Column::TokenHash.eq(CapabilityTokens::hash(token)))
        .one(db)
        .await?;
    Ok(row.map(invitation))
}

/// One page of the provider's invitations, newest first, after the domain
/// page token `token`.
pub async fn page(
    db: &impl ConnectionTrait,
    provider_id: &str,
    page_size: u64,
    token: &str,
) -> Result<(Vec<Invitation>, String), Error> {
    let filter = paging::fingerprint(&[provider_id]);
    let after: Option<String> = paging::decode_token(token, &filter)?;
    let mut query = Entity::find()
        .filter(Column::ProviderId.eq(provider_id))
        .order_by_desc(Column::Id)
        .limit(page_size + 1);
    if let Some(after) = after {
        query = query.filter(Column::Id.lt(after));
    }
    let rows = twotier_platform::db::all(db, query).await?;
    let (rows, next) = paging::finish_page(rows, page_size, &filter, |row| row.id.clone());
    Ok((rows.into_iter().map(invitation).collect(), next))
}

/// Locks invitation `id` while it is still pending, with a write that
/// changes nothing: a revoke or acceptance committing meanwhile makes the
/// caller's command fail instead of mailing a dead link. False when it is
/// no longer pending.
pub async fn lock_pending(db: &impl ConnectionTrait, id: &str) -> Result<bool, DbErr> {
    let locked = Entity::update_many()
        .col_expr(Column::State, Expr::col(Column::State))
        .filter(Column::Id.eq(id))
        .filter(Column::State.eq(PENDING))
        .exec(db)
        .await?;
    Ok(locked.rows_affected > 0)
}

/// Saves how `closed` was closed (accepted or revoked) if the stored
/// invitation is still pending: only the first of concurrent acceptances
/// and revokes wins, which makes an invitation single-use. The invitation
/// as written, or `None` when it was no longer pending.
pub async fn close(
    db: &impl ConnectionTrait,
    closed: &Invitation,
) -> Result<Option<Invitation>, DbErr> {
    let still_pending = Condition::all()
        .add(Column::Id.eq(&closed.id))
        .add(Column::State.eq(PENDING));
    let written = update_guarded(db, closing(closed), Column::Version, still_pending).await?;
    Ok(written.map(invitation))
}

/// The columns that record how `invitation` was closed.
fn closing(invitation: &Invitation) -> ActiveModel {
    ActiveModel {
        state: Set(stored::state(invitation.closed.as_ref()).to_owned()),
        accepted_at: Set(invitation.accepted_at()),
        partnership_id: Set(invitation.partnership_id().map(str::to_owned)),
        revoked_at: Set(invitation.revoked_at()),
        ..Default::default()
    }
}

fn invitation(row: Model) -> Invitation {
    let closed = stored::closed(stored::Columns {
        state: row.state,
        accepted_at: row.accepted_at,
        acceptance: row.partnership_id,
        revoked_at: row.revoked_at,
        created_at: row.created_at,
    });
    Invitation {
        id: row.id,
        provider_id: row.provider_id,
        reseller_email: row.reseller_email,
        language_code: row.language_code,
        created_by: row.created_by,
        created_by_email: row.created_by_email,
        created_at: row.created_at,
        expires_at: row.expires_at,
        closed,
        version: row.version,
    }
}
