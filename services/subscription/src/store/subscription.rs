//! R16-R19, R26-R28: customers' subscriptions, loaded as [`Subscription`]s
//! and saved under the version they were read at.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Select,
};
use twotier_platform::guarded::{at_version, update_guarded};
use twotier_platform::{Error, paging};

use super::catalog::{billing_cycle, billing_cycle_key, term, term_key};
use super::entities::subscription;
use crate::domain::{CancellationWindow, Subscription, SubscriptionError, SubscriptionState};

/// Subscription states as stored.
const ACTIVE: &str = "active";
const SUSPENDED: &str = "suspended";
const CANCELLED: &str = "cancelled";

fn state_key(state: SubscriptionState) -> &'static str {
    match state {
        SubscriptionState::Active => ACTIVE,
        SubscriptionState::Suspended => SUSPENDED,
        SubscriptionState::Cancelled => CANCELLED,
    }
}

fn state(key: &str) -> Result<SubscriptionState, DbErr> {
    match key {
        ACTIVE => Ok(SubscriptionState::Active),
        SUSPENDED => Ok(SubscriptionState::Suspended),
        CANCELLED => Ok(SubscriptionState::Cancelled),
        other => Err(DbErr::Custom(format!(
            "unknown subscription state {other:?}"
        ))),
    }
}

/// One subscription of `customer`.
pub async fn find(
    db: &impl ConnectionTrait,
    customer: &str,
    subscription_id: &str,
) -> Result<Option<Subscription>, DbErr> {
    one(db, of(customer, subscription_id)).await
}

/// The subscription `subscription_id` of `customer`, its row locked until
/// the transaction ends (PostgreSQL; SQLite has one writer anyway): a
/// command decides on it as no concurrent command can change it, so two
/// calls without an etag apply one after the other instead of the later
/// failing its version guard.
pub async fn find_for_update(
    db: &impl ConnectionTrait,
    customer: &str,
    subscription_id: &str,
) -> Result<Option<Subscription>, DbErr> {
    one(db, of(customer, subscription_id).lock_exclusive()).await
}

fn of(customer: &str, subscription_id: &str) -> Select<subscription::Entity> {
    subscription::Entity::find_by_id(subscription_id.to_owned())
        .filter(subscription::Column::Customer.eq(customer))
}

async fn one(
    db: &impl ConnectionTrait,
    select: Select<subscription::Entity>,
) -> Result<Option<Subscription>, DbErr> {
    select.one(db).await?.map(from_row).transpose()
}

/// A customer's subscriptions, oldest first, a page after the domain token
/// `page_token`.
pub async fn list(
    db: &impl ConnectionTrait,
    customer: &str,
    page_size: u64,
    page_token: &str,
) -> Result<(Vec<Subscription>, String), Error> {
    let fingerprint = paging::fingerprint(&[customer]);
    let after: Option<String> = paging::decode_token(page_token, &fingerprint)?;
    let mut query = subscription::Entity::find()
        .filter(subscription::Column::Customer.eq(customer))
        .order_by_asc(subscription::Column::Id)
        .limit(page_size + 1);
    if let Some(after) = after {
        query = query.filter(subscription::Column::Id.gt(after));
    }
    let rows = twotier_platform::db::all(db, query).await?;
    let (rows, token) = paging::finish_page(rows, page_size, &fingerprint, |row| row.id.clone());
    let subscriptions = rows.into_iter().map(from_row).collect::<Result<_, _>>()?;
    Ok((subscriptions, token))
}

/// Stores a subscription a checkout created; the subscription as written.
pub(super) async fn insert(
    db: &impl ConnectionTrait,
    subscription: &Subscription,
) -> Result<Subscription, DbErr> {
    subscription::ActiveModel {
        id: Set(subscription.id.clone()),
        provider_id: Set(subscription.provider_id.clone()),
        customer: Set(subscription.customer.clone()),
        order_id: Set(subscription.order_id.clone()),
        offer_id: Set(subscription.offer_id.clone()),
        quantity: Set(subscription.quantity),
        term: Set(term_key(subscription.term).to_owned()),
        billing_cycle: Set(billing_cycle_key(subscription.billing_cycle).to_owned()),
        reseller_partner_id: Set(subscription.reseller_of_record.clone()),
        support_contact_partner_id: Set(subscription.support_contact.clone()),
        state: Set(state_key(subscription.state).to_owned()),
        auto_renew: Set(subscription.auto_renew),
        cancellation_deadline: Set(Some(subscription.cancellation_deadline)),
        created_at: Set(subscription.created_at),
        updated_at: Set(subscription.updated_at),
        version: Set(subscription.version),
    }
    .insert(db)
    .await
    .and_then(from_row)
}

/// Writes what `subscription` decided, if the stored one is still at the
/// version it was read at (its `version`); the subscription as written. A
/// concurrent change makes this one fail as stale.
pub async fn save(
    db: &impl ConnectionTrait,
    subscription: &Subscription,
    now: DateTime<Utc>,
) -> Result<Subscription, Error> {
    let changes = subscription::ActiveModel {
        quantity: Set(subscription.quantity),
        reseller_partner_id: Set(subscription.reseller_of_record.clone()),
        support_contact_partner_id: Set(subscription.support_contact.clone()),
        state: Set(state_key(subscription.state).to_owned()),
        auto_renew: Set(subscription.auto_renew),
        updated_at: Set(now),
        ..Default::default()
    };
    let guard = at_version(
        subscription::Column::Id,
        &subscription.id,
        subscription::Column::Version,
        subscription.version,
    );
    let written = update_guarded(db, changes, subscription::Column::Version, guard)
        .await?
        .ok_or(SubscriptionError::Stale)?;
    Ok(from_row(written)?)
}

fn from_row(row: subscription::Model) -> Result<Subscription, DbErr> {
    // A row written by a replica that predates the window: the default
    // window, as the migration gave the rows before it.
    let cancellation_deadline = row
        .cancellation_deadline
        .unwrap_or_else(|| CancellationWindow::DEFAULT.deadline(row.created_at));
    Ok(Subscription {
        term: term(&row.term)?,
        billing_cycle: billing_cycle(&row.billing_cycle)?,
        state: state(&row.state)?,
        auto_renew: row.auto_renew,
        cancellation_deadline,
        id: row.id,
        provider_id: row.provider_id,
        customer: row.customer,
        order_id: row.order_id,
        offer_id: row.offer_id,
        quantity: row.quantity,
        reseller_of_record: row.reseller_partner_id,
        support_contact: row.support_contact_partner_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version,
    })
}
