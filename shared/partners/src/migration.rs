//! The projection's tables; a consuming service lists [`CreatePartnerDirectory`]
//! in its migrator.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveIden)]
enum PartnerReseller {
    Table,
    PartnerId,
    TenantId,
    CompanyName,
    ContactEmail,
    PreferredLanguage,
    Position,
}

#[derive(DeriveIden)]
enum PartnerPartnership {
    Table,
    ProviderId,
    PartnerId,
    Partnership,
    Active,
    StateChangedAt,
    Position,
}

/// Creates `partner_reseller` and `partner_partnership`.
pub struct CreatePartnerDirectory;

impl MigrationName for CreatePartnerDirectory {
    fn name(&self) -> &str {
        "m20261125_000010_partner_directory"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreatePartnerDirectory {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PartnerReseller::Table)
                    .if_not_exists()
                    .col(string_len(PartnerReseller::PartnerId, 10).primary_key())
                    .col(string_len(PartnerReseller::TenantId, 63))
                    .col(string_len(PartnerReseller::CompanyName, 200))
                    .col(string_len(PartnerReseller::ContactEmail, 254))
                    .col(string_len(PartnerReseller::PreferredLanguage, 8))
                    .col(big_integer(PartnerReseller::Position))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_partner_reseller_tenant")
                    .table(PartnerReseller::Table)
                    .col(PartnerReseller::TenantId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PartnerPartnership::Table)
                    .if_not_exists()
                    .col(string_len(PartnerPartnership::ProviderId, 63))
                    .col(string_len(PartnerPartnership::PartnerId, 10))
                    .col(string_len(PartnerPartnership::Partnership, 200))
                    .col(boolean(PartnerPartnership::Active))
                    .col(timestamp_with_time_zone(PartnerPartnership::StateChangedAt))
                    .col(big_integer(PartnerPartnership::Position))
                    .primary_key(
                        Index::create()
                            .col(PartnerPartnership::ProviderId)
                            .col(PartnerPartnership::PartnerId),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum PartnerResellerEligibility {
    #[sea_orm(iden = "partner_reseller")]
    Table,
    LocationAccount,
    MpaActive,
}

/// Adds what R3 needs to `partner_reseller`: the account kind and the MPA
/// state. Rows projected before it count as eligible until their reseller's
/// next event, as the partnership service let them become partners.
pub struct AddResellerEligibility;

impl MigrationName for AddResellerEligibility {
    fn name(&self) -> &str {
        "m20261125_000302_partner_reseller_eligibility"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddResellerEligibility {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            PartnerResellerEligibility::LocationAccount,
            PartnerResellerEligibility::MpaActive,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(PartnerResellerEligibility::Table)
                        .add_column(boolean(column).default(true))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum PartnerProvider {
    Table,
    ProviderId,
    DisplayName,
    Position,
}

/// Creates `partner_provider`: each listed provider's display name, what
/// emails and drafts call the provider (R22 as R4). A provider listed
/// before this migration, whose listing event the consumer has passed
/// already, stays unknown until its listing changes: it is called by its
/// tenant id meanwhile, as an unlisted one is.
pub struct CreatePartnerProviders;

impl MigrationName for CreatePartnerProviders {
    fn name(&self) -> &str {
        "m20261208_000303_partner_provider"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreatePartnerProviders {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PartnerProvider::Table)
                    .if_not_exists()
                    .col(string_len(PartnerProvider::ProviderId, 63).primary_key())
                    .col(string_len(PartnerProvider::DisplayName, 200))
                    .col(big_integer(PartnerProvider::Position))
                    .to_owned(),
            )
            .await
    }
}
