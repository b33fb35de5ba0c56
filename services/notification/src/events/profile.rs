//! How to address a provider: its display name, contact address and
//! language, projected from listing and acceptance events.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

use crate::store::entities::provider_profile;

/// A provider as emails address it.
pub struct ProviderProfile {
    /// Display name (the tenant id when unknown).
    pub display_name: String,
    /// Contact address from its listing, may be empty.
    pub contact_email: String,
    /// `en` or `de`.
    pub language: String,
}

/// The profile of `provider_id`, with defaults for an unknown provider.
pub async fn provider_profile(
    db: &impl ConnectionTrait,
    provider_id: &str,
) -> Result<ProviderProfile, DbErr> {
    let known = provider_profile::Entity::find_by_id(provider_id.to_owned())
        .one(db)
        .await?;
    Ok(match known {
        Some(row) => ProviderProfile {
            display_name: row.display_name,
            contact_email: row.contact_email,
            language: row.language,
        },
        None => ProviderProfile {
            display_name: provider_id.to_owned(),
            contact_email: String::new(),
            language: "en".to_owned(),
        },
    })
}

/// Stores what a listing says about a provider.
pub async fn upsert_from_listing(
    db: &impl ConnectionTrait,
    provider_id: &str,
    display_name: &str,
    contact_email: &str,
    language: &str,
) -> Result<(), DbErr> {
    let row = provider_profile::ActiveModel {
        provider_id: Set(provider_id.to_owned()),
        display_name: Set(display_name.to_owned()),
        contact_email: Set(contact_email.to_owned()),
        language: Set(language.to_owned()),
    };
    provider_profile::Entity::insert(row)
        .on_conflict(
            OnConflict::column(provider_profile::Column::ProviderId)
                .update_columns([
                    provider_profile::Column::DisplayName,
                    provider_profile::Column::ContactEmail,
                    provider_profile::Column::Language,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}
