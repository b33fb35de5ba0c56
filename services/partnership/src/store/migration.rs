//! Schema of the partnership database. The same migrations run on SQLite and
//! PostgreSQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Every migration of the partnership database, in order.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(twotier_outbox::migration::CreateOutbox),
            Box::new(twotier_outbox::migration::IndexOutboxTenant),
            Box::new(twotier_platform::idempotency::migration::Migration),
            Box::new(CreatePartnershipTables),
            Box::new(twotier_outbox::migration::CreateAuditTable),
        ]
    }
}

#[derive(DeriveIden)]
enum ProviderListing {
    Table,
    ProviderId,
    DisplayName,
    DisplayNameKey,
    Markets,
    Regions,
    ContactEmail,
    ContactPhone,
    WebsiteUri,
    PreferredLanguage,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum Reseller {
    Table,
    PartnerId,
    TenantId,
    CompanyName,
    ContactEmail,
    CountryCode,
    PreferredLanguage,
    AccountKind,
    MpaActive,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum Invitation {
    Table,
    Id,
    ProviderId,
    TokenHash,
    ResellerEmail,
    LanguageCode,
    State,
    CreatedBy,
    CreatedByEmail,
    CreatedAt,
    ExpiresAt,
    AcceptedAt,
    PartnershipId,
    RevokedAt,
    Version,
}

#[derive(DeriveIden)]
enum Partnership {
    Table,
    Id,
    ProviderId,
    PartnerId,
    State,
    CompanyName,
    CompanyNameKey,
    InvitationId,
    AcceptedAt,
    AcceptedBy,
    StateChangedAt,
    RemovedAt,
    RemovedBy,
    AttestedGoodFaith,
    AttestedLegitimatePurpose,
    AttestedPerAgreements,
    AttestedIndemnifiesPlatform,
    Version,
}

/// Creates listings, resellers, invitations and partnerships.
pub struct CreatePartnershipTables;

impl MigrationName for CreatePartnershipTables {
    fn name(&self) -> &str {
        "m20261125_000100_partnership_tables"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreatePartnershipTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ProviderListing::Table)
                    .if_not_exists()
                    .col(string_len(ProviderListing::ProviderId, 63).primary_key())
                    .col(string_len(ProviderListing::DisplayName, 200))
                    .col(string_len(ProviderListing::DisplayNameKey, 200))
                    .col(text(ProviderListing::Markets))
                    .col(text(ProviderListing::Regions))
                    .col(string_len(ProviderListing::ContactEmail, 254))
                    .col(string_len(ProviderListing::ContactPhone, 64))
                    .col(string_len(ProviderListing::WebsiteUri, 2048))
                    .col(string_len(ProviderListing::PreferredLanguage, 8))
                    .col(timestamp_with_time_zone(ProviderListing::CreatedAt))
                    .col(timestamp_with_time_zone(ProviderListing::UpdatedAt))
                    .col(big_integer(ProviderListing::Version))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_provider_listing_order")
                    .table(ProviderListing::Table)
                    .col(ProviderListing::DisplayNameKey)
                    .col(ProviderListing::ProviderId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Reseller::Table)
                    .if_not_exists()
                    .col(string_len(Reseller::PartnerId, 10).primary_key())
                    .col(string_len_uniq(Reseller::TenantId, 63))
                    .col(string_len(Reseller::CompanyName, 200))
                    .col(string_len(Reseller::ContactEmail, 254))
                    .col(string_len(Reseller::CountryCode, 2))
                    .col(string_len(Reseller::PreferredLanguage, 8))
                    .col(string_len(Reseller::AccountKind, 16))
                    .col(boolean(Reseller::MpaActive))
                    .col(timestamp_with_time_zone(Reseller::CreatedAt))
                    .col(timestamp_with_time_zone(Reseller::UpdatedAt))
                    .col(big_integer(Reseller::Version))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Invitation::Table)
                    .if_not_exists()
                    .col(string_len(Invitation::Id, 36).primary_key())
                    .col(string_len(Invitation::ProviderId, 63))
                    .col(string_len_uniq(Invitation::TokenHash, 64))
                    .col(string_len(Invitation::ResellerEmail, 254))
                    .col(string_len(Invitation::LanguageCode, 8))
                    .col(string_len(Invitation::State, 16))
                    .col(string_len(Invitation::CreatedBy, 200))
                    .col(string_len(Invitation::CreatedByEmail, 254))
                    .col(timestamp_with_time_zone(Invitation::CreatedAt))
                    .col(timestamp_with_time_zone(Invitation::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Invitation::AcceptedAt))
                    .col(string_len_null(Invitation::PartnershipId, 36))
                    .col(timestamp_with_time_zone_null(Invitation::RevokedAt))
                    .col(big_integer(Invitation::Version))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_invitation_provider")
                    .table(Invitation::Table)
                    .col(Invitation::ProviderId)
                    .col(Invitation::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Partnership::Table)
                    .if_not_exists()
                    .col(string_len(Partnership::Id, 36).primary_key())
                    .col(string_len(Partnership::ProviderId, 63))
                    .col(string_len(Partnership::PartnerId, 10))
                    .col(string_len(Partnership::State, 16))
                    .col(string_len(Partnership::CompanyName, 200))
                    .col(string_len(Partnership::CompanyNameKey, 200))
                    .col(string_len(Partnership::InvitationId, 36))
                    .col(timestamp_with_time_zone(Partnership::AcceptedAt))
                    .col(string_len(Partnership::AcceptedBy, 200))
                    .col(timestamp_with_time_zone(Partnership::StateChangedAt))
                    .col(timestamp_with_time_zone_null(Partnership::RemovedAt))
                    .col(string_len_null(Partnership::RemovedBy, 200))
                    .col(boolean(Partnership::AttestedGoodFaith))
                    .col(boolean(Partnership::AttestedLegitimatePurpose))
                    .col(boolean(Partnership::AttestedPerAgreements))
                    .col(boolean(Partnership::AttestedIndemnifiesPlatform))
                    .col(big_integer(Partnership::Version))
                    .to_owned(),
            )
            .await?;
        // Keyset paging of a provider's indirect resellers by company name.
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_partnership_list")
                    .table(Partnership::Table)
                    .col(Partnership::ProviderId)
                    .col(Partnership::State)
                    .col(Partnership::CompanyNameKey)
                    .col(Partnership::PartnerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_partnership_partner")
                    .table(Partnership::Table)
                    .col(Partnership::PartnerId)
                    .to_owned(),
            )
            .await?;
        // At most one active partnership per provider and reseller, even
        // under concurrent acceptances. Partial indexes read the same on
        // SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS uq_partnership_active \
                 ON partnership (provider_id, partner_id) WHERE state = 'active'",
            )
            .await?;
        Ok(())
    }
}
