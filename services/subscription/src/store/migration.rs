//! Schema of the subscription database, the same on SQLite and PostgreSQL,
//! and the seeded catalog.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::catalog::OFFERS;
use super::entities::offer;
use crate::domain::CancellationWindow;

/// Every migration of the subscription database, in order.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(twotier_outbox::migration::CreateOutbox),
            Box::new(twotier_outbox::migration::IndexOutboxTenant),
            Box::new(twotier_outbox::migration::CreateConsumerTables),
            Box::new(twotier_platform::idempotency::migration::Migration),
            Box::new(twotier_partners::migration::CreatePartnerDirectory),
            Box::new(CreateSubscriptionTables),
            Box::new(SeedCatalog),
            Box::new(twotier_outbox::migration::CreateAuditTable),
            Box::new(twotier_partners::migration::AddResellerEligibility),
            Box::new(AddSubscriptionLifecycle),
            Box::new(twotier_partners::migration::CreatePartnerProviders),
        ]
    }
}

#[derive(DeriveIden)]
enum Offer {
    Table,
    Id,
    DisplayName,
    Description,
    MinLicenses,
    MaxLicenses,
    Terms,
    BillingCycles,
}

#[derive(DeriveIden)]
enum Cart {
    Table,
    Id,
    ProviderId,
    Customer,
    State,
    AttestedBy,
    AttestedAt,
    OrderId,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum CartLine {
    Table,
    Id,
    CartId,
    OfferId,
    Quantity,
    Term,
    BillingCycle,
    ResellerPartnerId,
}

#[derive(DeriveIden)]
enum PurchaseOrder {
    Table,
    Id,
    ProviderId,
    Customer,
    CartId,
    PlacedBy,
    CreatedAt,
    Snapshot,
}

#[derive(DeriveIden)]
enum Subscription {
    Table,
    Id,
    ProviderId,
    Customer,
    OrderId,
    OfferId,
    Quantity,
    Term,
    BillingCycle,
    ResellerPartnerId,
    SupportContactPartnerId,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum SubscriptionLifecycle {
    #[sea_orm(iden = "subscription")]
    Table,
    Id,
    CreatedAt,
    State,
    AutoRenew,
    CancellationDeadline,
}

/// Creates offers, carts, orders and subscriptions.
pub struct CreateSubscriptionTables;

impl MigrationName for CreateSubscriptionTables {
    fn name(&self) -> &str {
        "m20261125_000300_subscription_tables"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateSubscriptionTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Offer::Table)
                    .if_not_exists()
                    .col(string_len(Offer::Id, 64).primary_key())
                    .col(string_len(Offer::DisplayName, 200))
                    .col(string_len(Offer::Description, 1000))
                    .col(integer(Offer::MinLicenses))
                    .col(integer(Offer::MaxLicenses))
                    .col(string_len(Offer::Terms, 100))
                    .col(string_len(Offer::BillingCycles, 100))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Cart::Table)
                    .if_not_exists()
                    .col(string_len(Cart::Id, 36).primary_key())
                    .col(string_len(Cart::ProviderId, 63))
                    .col(string_len(Cart::Customer, 200))
                    .col(string_len(Cart::State, 16))
                    .col(string_len_null(Cart::AttestedBy, 200))
                    .col(timestamp_with_time_zone_null(Cart::AttestedAt))
                    .col(string_len_null(Cart::OrderId, 36))
                    .col(timestamp_with_time_zone(Cart::CreatedAt))
                    .col(timestamp_with_time_zone(Cart::UpdatedAt))
                    .col(big_integer(Cart::Version))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CartLine::Table)
                    .if_not_exists()
                    .col(string_len(CartLine::Id, 36).primary_key())
                    .col(string_len(CartLine::CartId, 36))
                    .col(string_len(CartLine::OfferId, 64))
                    .col(integer(CartLine::Quantity))
                    .col(string_len(CartLine::Term, 16))
                    .col(string_len(CartLine::BillingCycle, 16))
                    .col(string_len_null(CartLine::ResellerPartnerId, 10))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_cart_line_cart")
                    .table(CartLine::Table)
                    .col(CartLine::CartId)
                    .col(CartLine::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PurchaseOrder::Table)
                    .if_not_exists()
                    .col(string_len(PurchaseOrder::Id, 36).primary_key())
                    .col(string_len(PurchaseOrder::ProviderId, 63))
                    .col(string_len(PurchaseOrder::Customer, 200))
                    .col(string_len_uniq(PurchaseOrder::CartId, 36))
                    .col(string_len(PurchaseOrder::PlacedBy, 200))
                    .col(timestamp_with_time_zone(PurchaseOrder::CreatedAt))
                    .col(blob(PurchaseOrder::Snapshot))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_order_provider")
                    .table(PurchaseOrder::Table)
                    .col(PurchaseOrder::ProviderId)
                    .col(PurchaseOrder::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Subscription::Table)
                    .if_not_exists()
                    .col(string_len(Subscription::Id, 36).primary_key())
                    .col(string_len(Subscription::ProviderId, 63))
                    .col(string_len(Subscription::Customer, 200))
                    .col(string_len(Subscription::OrderId, 36))
                    .col(string_len(Subscription::OfferId, 64))
                    .col(integer(Subscription::Quantity))
                    .col(string_len(Subscription::Term, 16))
                    .col(string_len(Subscription::BillingCycle, 16))
                    .col(string_len_null(Subscription::ResellerPartnerId, 10))
                    .col(string_len_null(Subscription::SupportContactPartnerId, 10))
                    .col(timestamp_with_time_zone(Subscription::CreatedAt))
                    .col(timestamp_with_time_zone(Subscription::UpdatedAt))
                    .col(big_integer(Subscription::Version))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_subscription_customer",
                [Subscription::Customer, Subscription::Id],
            ),
            (
                "idx_subscription_order",
                [Subscription::OrderId, Subscription::Id],
            ),
        ] {
            let mut index = Index::create();
            index.if_not_exists().name(name).table(Subscription::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }
}

/// Seeds the offer catalog.
pub struct SeedCatalog;

impl MigrationName for SeedCatalog {
    fn name(&self) -> &str {
        "m20261125_000301_seed_catalog"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for SeedCatalog {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let to_json =
            |values: &[&str]| serde_json::to_string(values).unwrap_or_else(|_| "[]".into());
        for seed in OFFERS {
            let row = offer::ActiveModel {
                id: Set(seed.id.to_owned()),
                display_name: Set(seed.display_name.to_owned()),
                description: Set(seed.description.to_owned()),
                min_licenses: Set(seed.min_licenses),
                max_licenses: Set(seed.max_licenses),
                terms: Set(to_json(seed.terms)),
                billing_cycles: Set(to_json(seed.billing_cycles)),
            };
            offer::Entity::insert(row)
                .exec_without_returning(db)
                .await?;
        }
        Ok(())
    }
}

/// R26-R28: each subscription's state, auto-renew setting and
/// cancellation deadline. Existing subscriptions are active, renew, and
/// were cancellable for the default window after their purchase.
pub struct AddSubscriptionLifecycle;

impl MigrationName for AddSubscriptionLifecycle {
    fn name(&self) -> &str {
        "m20261125_000303_subscription_lifecycle"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddSubscriptionLifecycle {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in [
            string_len(SubscriptionLifecycle::State, 16)
                .default("active")
                .to_owned(),
            boolean(SubscriptionLifecycle::AutoRenew)
                .default(true)
                .to_owned(),
            timestamp_with_time_zone_null(SubscriptionLifecycle::CancellationDeadline),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SubscriptionLifecycle::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        let bought = db
            .query_all(
                Query::select()
                    .columns([SubscriptionLifecycle::Id, SubscriptionLifecycle::CreatedAt])
                    .from(SubscriptionLifecycle::Table)
                    .and_where(Expr::col(SubscriptionLifecycle::CancellationDeadline).is_null()),
            )
            .await?;
        for row in bought {
            let id: String = row.try_get("", "id")?;
            let created_at: DateTime<Utc> = row.try_get("", "created_at")?;
            let deadline = CancellationWindow::DEFAULT.deadline(created_at);
            db.execute(
                Query::update()
                    .table(SubscriptionLifecycle::Table)
                    .value(SubscriptionLifecycle::CancellationDeadline, deadline)
                    .and_where(Expr::col(SubscriptionLifecycle::Id).eq(id)),
            )
            .await?;
        }
        Ok(())
    }
}
