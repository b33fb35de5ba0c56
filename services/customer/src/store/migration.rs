//! Schema of the customer database, the same on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Every migration of the customer database, in order.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(twotier_outbox::migration::CreateOutbox),
            Box::new(twotier_outbox::migration::IndexOutboxTenant),
            Box::new(twotier_outbox::migration::CreateConsumerTables),
            Box::new(twotier_platform::idempotency::migration::Migration),
            Box::new(twotier_partners::migration::CreatePartnerDirectory),
            Box::new(CreateCustomerTables),
            Box::new(twotier_outbox::migration::CreateAuditTable),
            Box::new(twotier_partners::migration::AddResellerEligibility),
            Box::new(CreateRelationshipRequests),
            Box::new(twotier_partners::migration::CreatePartnerProviders),
        ]
    }
}

#[derive(DeriveIden)]
enum Customer {
    Table,
    Id,
    ProviderId,
    CompanyName,
    CompanyNameKey,
    DomainPrefix,
    AddressLine1,
    AddressLine2,
    City,
    Region,
    PostalCode,
    CountryCode,
    ContactFirstName,
    ContactLastName,
    ContactEmail,
    ContactPhone,
    LanguageCode,
    ResellerPartnerId,
    AgreementAccepted,
    CreatedBy,
    CreatedAt,
    Version,
}

#[derive(DeriveIden)]
enum DelegatedAdmin {
    Table,
    CustomerId,
    PartnerId,
    ProviderId,
    ResellerCompanyName,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CustomerAgreement {
    Table,
    CustomerId,
    ProviderId,
    SignatoryFirstName,
    SignatoryLastName,
    SignatoryEmail,
    SignatoryPhone,
    DateAgreed,
    RecordedBy,
    RecordedAt,
}

/// Creates customers, delegated admin relationships and agreements.
pub struct CreateCustomerTables;

impl MigrationName for CreateCustomerTables {
    fn name(&self) -> &str {
        "m20261125_000200_customer_tables"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateCustomerTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Customer::Table)
                    .if_not_exists()
                    .col(string_len(Customer::Id, 36).primary_key())
                    .col(string_len(Customer::ProviderId, 63))
                    .col(string_len(Customer::CompanyName, 200))
                    .col(string_len(Customer::CompanyNameKey, 200))
                    .col(string_len_uniq(Customer::DomainPrefix, 27))
                    .col(string_len(Customer::AddressLine1, 200))
                    .col(string_len(Customer::AddressLine2, 200))
                    .col(string_len(Customer::City, 100))
                    .col(string_len(Customer::Region, 100))
                    .col(string_len(Customer::PostalCode, 16))
                    .col(string_len(Customer::CountryCode, 2))
                    .col(string_len(Customer::ContactFirstName, 100))
                    .col(string_len(Customer::ContactLastName, 100))
                    .col(string_len(Customer::ContactEmail, 254))
                    .col(string_len(Customer::ContactPhone, 64))
                    .col(string_len(Customer::LanguageCode, 8))
                    .col(string_len_null(Customer::ResellerPartnerId, 10))
                    .col(boolean(Customer::AgreementAccepted))
                    .col(string_len(Customer::CreatedBy, 200))
                    .col(timestamp_with_time_zone(Customer::CreatedAt))
                    .col(big_integer(Customer::Version))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_customer_provider",
                [Customer::ProviderId, Customer::CompanyNameKey, Customer::Id],
            ),
            (
                "idx_customer_reseller",
                [
                    Customer::ResellerPartnerId,
                    Customer::CompanyNameKey,
                    Customer::Id,
                ],
            ),
        ] {
            let mut index = Index::create();
            index.if_not_exists().name(name).table(Customer::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(DelegatedAdmin::Table)
                    .if_not_exists()
                    .col(string_len(DelegatedAdmin::CustomerId, 36))
                    .col(string_len(DelegatedAdmin::PartnerId, 10))
                    .col(string_len(DelegatedAdmin::ProviderId, 63))
                    .col(string_len(DelegatedAdmin::ResellerCompanyName, 200))
                    .col(timestamp_with_time_zone(DelegatedAdmin::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(DelegatedAdmin::CustomerId)
                            .col(DelegatedAdmin::PartnerId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CustomerAgreement::Table)
                    .if_not_exists()
                    .col(string_len(CustomerAgreement::CustomerId, 36).primary_key())
                    .col(string_len(CustomerAgreement::ProviderId, 63))
                    .col(string_len(CustomerAgreement::SignatoryFirstName, 100))
                    .col(string_len(CustomerAgreement::SignatoryLastName, 100))
                    .col(string_len(CustomerAgreement::SignatoryEmail, 254))
                    .col(string_len(CustomerAgreement::SignatoryPhone, 64))
                    .col(string_len(CustomerAgreement::DateAgreed, 10))
                    .col(string_len(CustomerAgreement::RecordedBy, 200))
                    .col(timestamp_with_time_zone(CustomerAgreement::RecordedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum RelationshipRequest {
    Table,
    Id,
    ProviderId,
    CustomerId,
    TokenHash,
    PartnerId,
    ResellerCompanyName,
    AdminEmail,
    LanguageCode,
    CreatedBy,
    CreatedByEmail,
    CreatedAt,
    ExpiresAt,
    State,
    AcceptedAt,
    AcceptedBy,
    RevokedAt,
    Version,
}

/// Creates reseller relationship requests (R22).
pub struct CreateRelationshipRequests;

impl MigrationName for CreateRelationshipRequests {
    fn name(&self) -> &str {
        "m20261125_000300_relationship_requests"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateRelationshipRequests {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RelationshipRequest::Table)
                    .if_not_exists()
                    .col(string_len(RelationshipRequest::Id, 36).primary_key())
                    .col(string_len(RelationshipRequest::ProviderId, 63))
                    .col(string_len(RelationshipRequest::CustomerId, 36))
                    .col(string_len_uniq(RelationshipRequest::TokenHash, 64))
                    .col(string_len(RelationshipRequest::PartnerId, 10))
                    .col(string_len(RelationshipRequest::ResellerCompanyName, 200))
                    .col(string_len(RelationshipRequest::AdminEmail, 254))
                    .col(string_len(RelationshipRequest::LanguageCode, 8))
                    .col(string_len(RelationshipRequest::CreatedBy, 200))
                    .col(string_len(RelationshipRequest::CreatedByEmail, 254))
                    .col(timestamp_with_time_zone(RelationshipRequest::CreatedAt))
                    .col(timestamp_with_time_zone(RelationshipRequest::ExpiresAt))
                    .col(string_len(RelationshipRequest::State, 16))
                    .col(timestamp_with_time_zone_null(
                        RelationshipRequest::AcceptedAt,
                    ))
                    .col(string_len_null(RelationshipRequest::AcceptedBy, 200))
                    .col(timestamp_with_time_zone_null(
                        RelationshipRequest::RevokedAt,
                    ))
                    .col(big_integer(RelationshipRequest::Version))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_relationship_request_customer")
                    .table(RelationshipRequest::Table)
                    .col(RelationshipRequest::CustomerId)
                    .col(RelationshipRequest::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
