//! Queries of the official list of indirect providers (R1).

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use twotier_platform::guarded::{at_version, update_guarded};
use twotier_platform::{Error, like, paging};

use super::created;
use super::entities::provider_listing::{ActiveModel, Column, Entity, Model};
use crate::domain::Listing;

/// One page of listings by name, only those serving `market` unless it is
/// empty, after the domain page token `token`.
pub async fn page(
    db: &impl ConnectionTrait,
    market: &str,
    page_size: u64,
    token: &str,
) -> Result<(Vec<Listing>, String), Error> {
    let filter = paging::fingerprint(&[market]);
    let after: Option<(String, String)> = paging::decode_token(token, &filter)?;
    let mut query = Entity::find()
        .order_by_asc(Column::DisplayNameKey)
        .order_by_asc(Column::ProviderId)
        .limit(page_size + 1);
    if !market.is_empty() {
        // Markets are stored as a JSON array of quoted codes.
        query = query.filter(Column::Markets.like(like::containing(&format!("\"{market}\""))));
    }
    if let Some(key) = after {
        query = query.filter(paging::after(
            (Column::DisplayNameKey, Column::ProviderId),
            key,
        ));
    }
    let rows = twotier_platform::db::all(db, query).await?;
    let (rows, next) = paging::finish_page(rows, page_size, &filter, |row| {
        (row.display_name_key.clone(), row.provider_id.clone())
    });
    Ok((rows.into_iter().map(listing).collect(), next))
}

/// The listing of `provider_id`.
pub async fn get(db: &impl ConnectionTrait, provider_id: &str) -> Result<Option<Listing>, DbErr> {
    let row = Entity::find_by_id(provider_id.to_owned()).one(db).await?;
    Ok(row.map(listing))
}

/// Saves a new listing; `None` when the provider is listed already (the
/// primary key decides between concurrent creates too).
pub async fn insert(db: &impl ConnectionTrait, new: &Listing) -> Result<Option<Listing>, DbErr> {
    let row = ActiveModel {
        provider_id: Set(new.provider_id.clone()),
        created_at: Set(new.created_at),
        version: Set(new.version),
        ..changes(new)
    };
    Ok(created(row.insert(db).await)?.map(listing))
}

/// Saves `changed` if the stored listing is still at its version; the
/// listing as written, or `None` when someone changed it first.
pub async fn update(
    db: &impl ConnectionTrait,
    changed: &Listing,
) -> Result<Option<Listing>, DbErr> {
    let guard = at_version(
        Column::ProviderId,
        &changed.provider_id,
        Column::Version,
        changed.version,
    );
    let written = update_guarded(db, changes(changed), Column::Version, guard).await?;
    Ok(written.map(listing))
}

/// Every column a change of `listing` writes.
fn changes(listing: &Listing) -> ActiveModel {
    ActiveModel {
        display_name: Set(listing.display_name.clone()),
        display_name_key: Set(twotier_platform::name_key::name_key(&listing.display_name)),
        markets: Set(json(&listing.markets)),
        regions: Set(json(&listing.regions)),
        contact_email: Set(listing.contact_email.clone()),
        contact_phone: Set(listing.contact_phone.clone()),
        website_uri: Set(listing.website_uri.clone()),
        preferred_language: Set(listing.preferred_language.clone()),
        updated_at: Set(listing.updated_at),
        ..Default::default()
    }
}

fn json(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

fn string_list(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

fn listing(row: Model) -> Listing {
    Listing {
        markets: string_list(&row.markets),
        regions: string_list(&row.regions),
        provider_id: row.provider_id,
        display_name: row.display_name,
        contact_email: row.contact_email,
        contact_phone: row.contact_phone,
        website_uri: row.website_uri,
        preferred_language: row.preferred_language,
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version,
    }
}
