//! Provider profiles: what listings say about how to address a provider.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use twotier_outbox::projection::taken_from_older;

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

/// Stores `profile`, taken from the listing event at `position`, as the
/// profile of `provider_id` unless a later listing is already stored.
pub async fn save(
    db: &impl ConnectionTrait,
    provider_id: &str,
    profile: ProviderProfile,
    position: i64,
) -> Result<(), DbErr> {
    let row = provider_profile::ActiveModel {
        provider_id: Set(provider_id.to_owned()),
        display_name: Set(profile.display_name),
        contact_email: Set(profile.contact_email),
        language: Set(profile.language),
        position: Set(position),
    };
    provider_profile::Entity::insert(row)
        .on_conflict(
            OnConflict::column(provider_profile::Column::ProviderId)
                .update_columns([
                    provider_profile::Column::DisplayName,
                    provider_profile::Column::ContactEmail,
                    provider_profile::Column::Language,
                    provider_profile::Column::Position,
                ])
                .action_and_where(taken_from_older(provider_profile::Entity, position))
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectOptions, Database, DatabaseConnection};
    use sea_orm_migration::MigratorTrait;

    use super::*;
    use crate::store::migration::Migrator;

    async fn migrated() -> DatabaseConnection {
        let mut options = ConnectOptions::new("sqlite::memory:");
        options.max_connections(1).min_connections(1);
        let db = Database::connect(options).await.expect("in-memory SQLite");
        Migrator::up(&db, None).await.expect("migrated");
        db
    }

    fn profile(display_name: &str) -> ProviderProfile {
        ProviderProfile {
            display_name: display_name.into(),
            contact_email: format!("{}@provider.example", display_name.to_lowercase()),
            language: "de".into(),
        }
    }

    /// A listing event replayed from the dead letters after a later one
    /// was applied leaves the later profile in place; a still later one
    /// replaces it.
    #[tokio::test]
    async fn an_older_listing_applied_after_a_newer_one_changes_nothing() {
        let db = migrated().await;
        save(&db, "provider-1", profile("Newer"), 5)
            .await
            .expect("saved");
        save(&db, "provider-1", profile("Older"), 3)
            .await
            .expect("saved");
        assert_eq!(
            load(&db, "provider-1").await.expect("loaded").display_name,
            "Newer"
        );
        save(&db, "provider-1", profile("Latest"), 7)
            .await
            .expect("saved");
        let latest = load(&db, "provider-1").await.expect("loaded");
        assert_eq!(latest.display_name, "Latest");
        assert_eq!(latest.contact_email, "latest@provider.example");
    }
}
