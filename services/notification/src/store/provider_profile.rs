//! Provider profiles: what listings say about how to address a provider.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

use super::entities::provider_profile;
use crate::domain::ProviderProfile;

/// The profile of `provider_id`; [`ProviderProfile::unknown`] when no
/// listing of it has arrived.
pub async fn load(db: &impl ConnectionTrait, provider_id: &str) -> Result<ProviderProfile, DbErr> {
    let known = provider_profile::Entity::find_by_id(provider_id.to_owned())
        .one(db)
        .await?;
    Ok(match known {
        Some(row) => ProviderProfile {
            display_name: row.display_name,
            contact_email: row.contact_email,
            language: row.language,
        },
        None => ProviderProfile::unknown(provider_id),
    })
}

/// Stores `profile` as the latest of `provider_id`.
pub async fn save(
    db: &impl ConnectionTrait,
    provider_id: &str,
    profile: ProviderProfile,
) -> Result<(), DbErr> {
    let row = provider_profile::ActiveModel {
        provider_id: Set(provider_id.to_owned()),
        display_name: Set(profile.display_name),
        contact_email: Set(profile.contact_email),
        language: Set(profile.language),
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
