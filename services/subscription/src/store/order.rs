//! R15: placed orders. An order is stored with its snapshot, the order as
//! it was answered, which is what reading it answers ever after.

use sea_orm::sea_query::Cond;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use twotier_platform::{Error, paging};

use super::entities::purchase_order;
use crate::domain::{CartError, Order};

/// Stores the subscriptions of `order` and puts them back as written, so
/// that the order answered, its snapshot and its events carry the instants
/// every later read gives (the database keeps them at its own precision).
pub async fn insert_subscriptions(
    db: &impl ConnectionTrait,
    order: &mut Order,
) -> Result<(), DbErr> {
    for line in &mut order.lines {
        line.subscription = super::subscription::insert(db, &line.subscription).await?;
    }
    Ok(())
}

/// Stores `order` with its encoded `snapshot`. A second order of the same
/// cart is refused by the table (one per cart).
pub async fn insert(
    db: &impl ConnectionTrait,
    order: &Order,
    snapshot: Vec<u8>,
) -> Result<(), Error> {
    purchase_order::ActiveModel {
        id: Set(order.id.clone()),
        provider_id: Set(order.provider_id.clone()),
        customer: Set(order.customer.clone()),
        cart_id: Set(order.cart_id.clone()),
        placed_by: Set(order.placed_by.clone()),
        created_at: Set(order.created_at),
        snapshot: Set(snapshot),
    }
    .insert(db)
    .await
    .map_err(|error| {
        if twotier_platform::db::is_unique_violation(&error) {
            return CartError::AlreadyOrdered.into();
        }
        Error::from(error)
    })?;
    Ok(())
}

/// The snapshot of one of the provider's orders.
pub async fn snapshot(
    db: &impl ConnectionTrait,
    provider_id: &str,
    order_id: &str,
) -> Result<Option<Vec<u8>>, DbErr> {
    Ok(purchase_order::Entity::find_by_id(order_id.to_owned())
        .filter(purchase_order::Column::ProviderId.eq(provider_id))
        .one(db)
        .await?
        .map(|row| row.snapshot))
}

/// Snapshots of the provider's orders, newest first, optionally of one
/// customer, a page after the domain token `page_token`.
pub async fn list(
    db: &impl ConnectionTrait,
    provider_id: &str,
    customer: &str,
    page_size: u64,
    page_token: &str,
) -> Result<(Vec<Vec<u8>>, String), Error> {
    let fingerprint = paging::fingerprint(&[provider_id, customer]);
    let after: Option<String> = paging::decode_token(page_token, &fingerprint)?;
    let mut query = purchase_order::Entity::find()
        .filter(purchase_order::Column::ProviderId.eq(provider_id))
        .order_by_desc(purchase_order::Column::Id)
        .limit(page_size + 1);
    if !customer.is_empty() {
        query = query.filter(purchase_order::Column::Customer.eq(customer));
    }
    if let Some(after) = after {
        query = query.filter(Cond::all().add(purchase_order::Column::Id.lt(after)));
    }
    let rows = twotier_platform::db::all(db, query).await?;
    let (rows, token) = paging::finish_page(rows, page_size, &fingerprint, |row| row.id.clone());
    Ok((rows.into_iter().map(|row| row.snapshot).collect(), token))
}
