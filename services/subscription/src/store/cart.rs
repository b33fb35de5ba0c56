//! R15: carts and their lines, loaded as [`Cart`]s and saved as the cart
//! decided. Every write of a cart row bumps its version.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};
use twotier_platform::Error;
use twotier_platform::by_position::ReadFrom;
use twotier_platform::guarded::{at_version, update_guarded};

use super::by_position;
use super::catalog::{billing_cycle, billing_cycle_key, term, term_key};
use super::entities::{cart, cart_line};
use crate::domain::{Attestation, Cart, CartError, CartState, LineItem};

/// Cart states as stored.
const OPEN: &str = "open";
const ORDERED: &str = "ordered";
const CANCELLED: &str = "cancelled";

/// One of the provider's carts with its lines.
pub async fn find(
    db: &impl ReadFrom,
    provider_id: &str,
    cart_id: &str,
) -> Result<Option<Cart>, DbErr> {
    let by_key = cart::Entity::find_by_id(cart_id.to_owned());
    match by_position::one_owned(db, by_key, |row| row.provider_id == provider_id).await? {
        Some(row) => with_lines(db, row).await.map(Some),
        None => Ok(None),
    }
}

/// Stores a new cart (without lines); the cart as written.
pub async fn create(db: &impl ConnectionTrait, cart: &Cart) -> Result<Cart, DbErr> {
    let row = cart::ActiveModel {
        id: Set(cart.id.clone()),
        provider_id: Set(cart.provider_id.clone()),
        customer: Set(cart.customer.clone()),
        state: Set(OPEN.to_owned()),
        attested_by: Set(None),
        attested_at: Set(None),
        order_id: Set(None),
        created_at: Set(cart.created_at),
        updated_at: Set(cart.updated_at),
        version: Set(cart.version),
    }
    .insert(db)
    .await?;
    from_rows(row, Vec::new())
}

/// The open cart, held for an edit in this transaction. Its row is written
/// first (a new version, stamped `now`), guarded only by being open:
/// concurrent edits of an open cart queue behind each other on the row and
/// all apply, while a checkout guarded by the version it reviewed then
/// misses none of them. The lines are read after that write, so the edit
/// decides on every line committed before it (the line limit holds under
/// concurrent additions).
pub async fn open_for_edit(
    db: &(impl ConnectionTrait + ReadFrom),
    provider_id: &str,
    cart_id: &str,
    now: DateTime<Utc>,
) -> Result<Cart, Error> {
    let found = cart::Entity::find_by_id(cart_id.to_owned())
        .filter(cart::Column::ProviderId.eq(provider_id))
        .one(db)
        .await?
        .ok_or(CartError::NotFound)?;
    let touched = cart::ActiveModel {
        updated_at: Set(now),
        ..Default::default()
    };
    let Some(row) =
        update_guarded(db, touched, cart::Column::Version, still_open(&found.id)).await?
    else {
        return Err(conflict(db, &found.id).await);
    };
    Ok(with_lines(db, row).await?)
}

/// Adds `line` to the cart `cart_id`.
pub async fn insert_line(
    db: &impl ConnectionTrait,
    cart_id: &str,
    line: &LineItem,
) -> Result<(), DbErr> {
    line_row(cart_id, line).insert(db).await?;
    Ok(())
}

/// Writes `line` over the line with its id.
pub async fn update_line(
    db: &impl ConnectionTrait,
    cart_id: &str,
    line: &LineItem,
) -> Result<(), DbErr> {
    line_row(cart_id, line).update(db).await?;
    Ok(())
}

/// Deletes the line `line_id` of the cart `cart_id`.
pub async fn delete_line(
    db: &impl ConnectionTrait,
    cart_id: &str,
    line_id: &str,
) -> Result<(), DbErr> {
    cart_line::Entity::delete_many()
        .filter(cart_line::Column::Id.eq(line_id))
        .filter(cart_line::Column::CartId.eq(cart_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Writes the cart's attestation (of a cart held by [`open_for_edit`]).
pub async fn save_attestation(db: &impl ConnectionTrait, cart: &Cart) -> Result<(), DbErr> {
    let attestation = cart.attestation.as_ref();
    cart::Entity::update_many()
        .set(cart::ActiveModel {
            attested_by: Set(attestation.map(|a| a.by.clone())),
            attested_at: Set(attestation.map(|a| a.at)),
            ..Default::default()
        })
        .filter(cart::Column::Id.eq(&cart.id))
        .exec(db)
        .await?;
    Ok(())
}

/// Writes the cancellation of the cart `cart_id` if it is still open; the
/// cart as written, or `None` when a concurrent cancel or checkout won.
pub async fn save_cancelled(
    db: &(impl ConnectionTrait + ReadFrom),
    cart_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Cart>, DbErr> {
    let cancelled = cart::ActiveModel {
        state: Set(CANCELLED.to_owned()),
        updated_at: Set(now),
        ..Default::default()
    };
    match update_guarded(db, cancelled, cart::Column::Version, still_open(cart_id)).await? {
        Some(row) => with_lines(db, row).await.map(Some),
        None => Ok(None),
    }
}

/// Writes that `cart` was ordered, if the stored cart is still at the
/// version it was read at (its `version`); otherwise why it lost.
pub async fn save_ordered(
    db: &impl ConnectionTrait,
    cart: &Cart,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let CartState::Ordered { order_id } = &cart.state else {
        return Err(Error::Internal(
            "saving an unordered cart as ordered".into(),
        ));
    };
    let ordered = cart::ActiveModel {
        state: Set(ORDERED.to_owned()),
        order_id: Set(Some(order_id.clone())),
        updated_at: Set(now),
        ..Default::default()
    };
    let guard = at_version(
        cart::Column::Id,
        &cart.id,
        cart::Column::Version,
        cart.version,
    );
    match update_guarded(db, ordered, cart::Column::Version, guard).await? {
        Some(_) => Ok(()),
        None => Err(conflict(db, &cart.id).await),
    }
}

fn still_open(cart_id: &str) -> Condition {
    Condition::all()
        .add(cart::Column::Id.eq(cart_id))
        .add(cart::Column::State.eq(OPEN))
}

/// Why a guarded write of the cart lost: it was ordered, cancelled, or
/// merely changed by someone else meanwhile.
async fn conflict(db: &impl ConnectionTrait, cart_id: &str) -> Error {
    match cart::Entity::find_by_id(cart_id.to_owned()).one(db).await {
        Ok(Some(current)) if current.state == ORDERED => CartError::AlreadyOrdered.into(),
        Ok(Some(current)) if current.state == CANCELLED => CartError::Cancelled.into(),
        Ok(_) => CartError::Stale.into(),
        Err(error) => error.into(),
    }
}

async fn with_lines(db: &impl ReadFrom, row: cart::Model) -> Result<Cart, DbErr> {
    let of_cart = cart_line::Entity::find()
        .filter(cart_line::Column::CartId.eq(&row.id))
        .order_by_asc(cart_line::Column::Id);
    let lines = by_position::all(db, of_cart).await?;
    from_rows(row, lines)
}

fn from_rows(row: cart::Model, lines: Vec<cart_line::Model>) -> Result<Cart, DbErr> {
    let state = match row.state.as_str() {
        OPEN => CartState::Open,
        ORDERED => CartState::Ordered {
            order_id: row.order_id.unwrap_or_default(),
        },
        CANCELLED => CartState::Cancelled,
        other => return Err(DbErr::Type(format!("unknown stored cart state {other:?}"))),
    };
    Ok(Cart {
        id: row.id,
        provider_id: row.provider_id,
        customer: row.customer,
        state,
        attestation: row.attested_at.map(|at| Attestation {
            by: row.attested_by.unwrap_or_default(),
            at,
        }),
        lines: lines.into_iter().map(line).collect::<Result<_, _>>()?,
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version,
    })
}

fn line(row: cart_line::Model) -> Result<LineItem, DbErr> {
    Ok(LineItem {
        term: term(&row.term)?,
        billing_cycle: billing_cycle(&row.billing_cycle)?,
        id: row.id,
        offer_id: row.offer_id,
        quantity: row.quantity,
        reseller_partner_id: row.reseller_partner_id,
    })
}

fn line_row(cart_id: &str, line: &LineItem) -> cart_line::ActiveModel {
    cart_line::ActiveModel {
        id: Set(line.id.clone()),
        cart_id: Set(cart_id.to_owned()),
        offer_id: Set(line.offer_id.clone()),
        quantity: Set(line.quantity),
        term: Set(term_key(line.term).to_owned()),
        billing_cycle: Set(billing_cycle_key(line.billing_cycle).to_owned()),
        reseller_partner_id: Set(line.reseller_partner_id.clone()),
    }
}
