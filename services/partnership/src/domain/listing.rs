//! R1: the official list of indirect providers.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use twotier_outbox::Event;
use twotier_platform::idempotency::{self, Claim, IdempotencyKey};
use twotier_platform::{like, names, paging};
use twotier_proto::partnership as pb;

use super::convert;
use super::{PartnershipError, Partnerships, Result};
use crate::store::entities::provider_listing;

/// The editable fields of a listing, validated.
#[derive(Debug, Clone)]
pub struct ListingFields {
    /// Company name shown in the list.
    pub display_name: String,
    /// ISO 3166-1 alpha-2 codes.
    pub markets: Vec<String>,
    /// Region names.
    pub regions: Vec<String>,
    /// Contact email address.
    pub contact_email: String,
    /// Contact phone, may be empty.
    pub contact_phone: String,
    /// Website, may be empty.
    pub website_uri: String,
    /// `en` or `de`.
    pub preferred_language: String,
}

/// The fields an update changes (`None` keeps the stored value).
#[derive(Debug, Clone, Default)]
pub struct ListingPatch {
    /// New display name.
    pub display_name: Option<String>,
    /// New markets.
    pub markets: Option<Vec<String>>,
    /// New regions.
    pub regions: Option<Vec<String>>,
    /// New contact email.
    pub contact_email: Option<String>,
    /// New contact phone.
    pub contact_phone: Option<String>,
    /// New website.
    pub website_uri: Option<String>,
    /// New language.
    pub preferred_language: Option<String>,
}

/// The event announcing a listing's new state.
fn listing_changed(provider_id: &str, listing: &pb::ProviderListing) -> Event {
    Event::new(
        "provider_listing",
        provider_id,
        provider_id,
        &pb::ProviderListingChanged {
            provider_listing: Some(listing.clone()),
        },
    )
}

fn json(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

impl Partnerships {
    /// Lists providers, optionally only those serving `market`.
    pub async fn list_listings(
        &self,
        market: &str,
        page_size: u64,
        page_token: &str,
    ) -> Result<(Vec<pb::ProviderListing>, String)> {
        let filter = paging::fingerprint(&[market]);
        let after: Option<(String, String)> = paging::decode_token(page_token, &filter)?;
        let mut query = provider_listing::Entity::find()
            .order_by_asc(provider_listing::Column::DisplayNameKey)
            .order_by_asc(provider_listing::Column::ProviderId)
            .limit(page_size + 1);
        if !market.is_empty() {
            // Markets are stored as a JSON array of quoted codes.
            query = query.filter(
                provider_listing::Column::Markets.like(like::containing(&format!("\"{market}\""))),
            );
        }
        if let Some((name_key, provider_id)) = after {
            query = query.filter(paging::after(
                (
                    provider_listing::Column::DisplayNameKey,
                    provider_listing::Column::ProviderId,
                ),
                (name_key, provider_id),
            ));
        }
        let rows = query.all(self.outbox.db()).await?;
        let (rows, token) = paging::finish_page(rows, page_size, &filter, |row| {
            (row.display_name_key.clone(), row.provider_id.clone())
        });
        Ok((rows.into_iter().map(convert::listing).collect(), token))
    }

    /// Reads the listing of `provider_id`.
    pub async fn get_listing(&self, provider_id: &str) -> Result<pb::ProviderListing> {
        let row = provider_listing::Entity::find_by_id(provider_id.to_owned())
            .one(self.outbox.db())
            .await?
            .ok_or_else(|| PartnershipError::ListingNotFound(provider_id.to_owned()))?;
        Ok(convert::listing(row))
    }

    /// Lists a provider (platform operator only; checked by the caller).
    pub async fn create_listing(
        &self,
        provider_id: &str,
        fields: ListingFields,
        key: Option<IdempotencyKey>,
    ) -> Result<pb::ProviderListing> {
        let tx = self.outbox.begin().await?;
        if let Claim::Replay(listing) = idempotency::claim(&tx, key.as_ref()).await? {
            return Ok(listing);
        }
        let now = Utc::now();
        let row = provider_listing::ActiveModel {
            provider_id: Set(provider_id.to_owned()),
            display_name_key: Set(fields.display_name.to_lowercase()),
            display_name: Set(fields.display_name),
            markets: Set(json(&fields.markets)),
            regions: Set(json(&fields.regions)),
            contact_email: Set(fields.contact_email),
            contact_phone: Set(fields.contact_phone),
            website_uri: Set(fields.website_uri),
            preferred_language: Set(fields.preferred_language),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
        }
        .insert(&*tx)
        .await
        .map_err(|error| {
            // The primary key decides between concurrent creates too.
            if twotier_platform::db::is_unique_violation(&error) {
                return PartnershipError::ListingAlreadyExists(provider_id.to_owned());
            }
            error.into()
        })?;
        let listing = convert::listing(row);
        tx.append(listing_changed(provider_id, &listing)).await?;
        idempotency::complete(&tx, key.as_ref(), &listing).await?;
        tx.commit().await?;
        Ok(listing)
    }

    /// Changes a listing if `etag` is current (platform operator only).
    pub async fn update_listing(
        &self,
        provider_id: &str,
        etag: &str,
        patch: ListingPatch,
    ) -> Result<pb::ProviderListing> {
        let tx = self.outbox.begin().await?;
        let current = provider_listing::Entity::find_by_id(provider_id.to_owned())
            .one(&*tx)
            .await?
            .ok_or_else(|| PartnershipError::ListingNotFound(provider_id.to_owned()))?;
        names::check_etag(etag, current.version, "the provider listing")
            .map_err(|_| PartnershipError::StaleEtag("the provider listing"))?;
        let version = current.version;
        let mut row: provider_listing::ActiveModel = current.into();
        if let Some(display_name) = patch.display_name {
            row.display_name_key = Set(display_name.to_lowercase());
            row.display_name = Set(display_name);
        }
        if let Some(markets) = patch.markets {
            row.markets = Set(json(&markets));
        }
        if let Some(regions) = patch.regions {
            row.regions = Set(json(&regions));
        }
        if let Some(value) = patch.contact_email {
            row.contact_email = Set(value);
        }
        if let Some(value) = patch.contact_phone {
            row.contact_phone = Set(value);
        }
        if let Some(value) = patch.website_uri {
            row.website_uri = Set(value);
        }
        if let Some(value) = patch.preferred_language {
            row.preferred_language = Set(value);
        }
        row.updated_at = Set(Utc::now());
        row.version = Set(version + 1);
        // The version guard makes a concurrent update lose cleanly.
        let updated = provider_listing::Entity::update_many()
            .set(row)
            .filter(provider_listing::Column::ProviderId.eq(provider_id))
            .filter(provider_listing::Column::Version.eq(version))
            .exec_with_returning(&*tx)
            .await?;
        let row = updated
            .into_iter()
            .next()
            .ok_or(PartnershipError::StaleEtag("the provider listing"))?;
        let listing = convert::listing(row);
        tx.append(listing_changed(provider_id, &listing)).await?;
        tx.commit().await?;
        Ok(listing)
    }
}
