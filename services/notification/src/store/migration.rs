//! Schema of the notification database, the same on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Every migration of the notification database, in order.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(twotier_outbox::migration::CreateConsumerTables),
            Box::new(CreateNotificationTables),
            Box::new(AddNotificationTraceContext),
            Box::new(AddNotificationSealedLink),
            Box::new(twotier_outbox::migration::CreateAuditTable),
            Box::new(twotier_outbox::migration::CreateOutbox),
            Box::new(twotier_outbox::migration::IndexOutboxTenant),
            Box::new(AddNotificationAbout),
            Box::new(AddProviderProfilePosition),
        ]
    }
}

#[derive(DeriveIden)]
enum Notification {
    Table,
    Id,
    TenantId,
    Recipient,
    Template,
    Language,
    Subject,
    Body,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    LastError,
    SourceUpstream,
    SourceEventId,
    SourceEventType,
    SourcePosition,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum DeliveryAttempt {
    Table,
    NotificationId,
    Attempt,
    AttemptedAt,
    Outcome,
    Error,
}

#[derive(DeriveIden)]
enum ProviderProfile {
    Table,
    ProviderId,
    DisplayName,
    ContactEmail,
    Language,
}

/// Creates notifications, delivery attempts and provider profiles.
pub struct CreateNotificationTables;

impl MigrationName for CreateNotificationTables {
    fn name(&self) -> &str {
        "m20261125_000400_notification_tables"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateNotificationTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Notification::Table)
                    .if_not_exists()
                    .col(string_len(Notification::Id, 36).primary_key())
                    .col(string_len(Notification::TenantId, 63))
                    .col(string_len(Notification::Recipient, 254))
                    .col(string_len(Notification::Template, 64))
                    .col(string_len(Notification::Language, 8))
                    .col(text(Notification::Subject))
                    .col(text(Notification::Body))
                    .col(string_len(Notification::Status, 16))
                    .col(integer(Notification::Attempts))
                    .col(timestamp_with_time_zone(Notification::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Notification::LeaseUntil))
                    .col(text(Notification::LastError))
                    .col(string_len(Notification::SourceUpstream, 64))
                    .col(string_len(Notification::SourceEventId, 36))
                    .col(string_len(Notification::SourceEventType, 200))
                    .col(big_integer(Notification::SourcePosition))
                    .col(timestamp_with_time_zone(Notification::CreatedAt))
                    .col(timestamp_with_time_zone_null(Notification::SentAt))
                    .to_owned(),
            )
            .await?;
        let indexes: [(&str, Vec<Notification>, bool); 3] = [
            (
                "uq_notification_source",
                vec![
                    Notification::SourceEventId,
                    Notification::Recipient,
                    Notification::Template,
                ],
                true,
            ),
            (
                "idx_notification_due",
                vec![Notification::Status, Notification::NextAttemptAt],
                false,
            ),
            (
                "idx_notification_tenant",
                vec![Notification::TenantId, Notification::Id],
                false,
            ),
        ];
        for (name, columns, unique) in indexes {
            let mut index = Index::create();
            index.if_not_exists().name(name).table(Notification::Table);
            for column in columns {
                index.col(column);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(DeliveryAttempt::Table)
                    .if_not_exists()
                    .col(string_len(DeliveryAttempt::NotificationId, 36))
                    .col(integer(DeliveryAttempt::Attempt))
                    .col(timestamp_with_time_zone(DeliveryAttempt::AttemptedAt))
                    .col(string_len(DeliveryAttempt::Outcome, 32))
                    .col(text(DeliveryAttempt::Error))
                    .primary_key(
                        Index::create()
                            .col(DeliveryAttempt::NotificationId)
                            .col(DeliveryAttempt::Attempt),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProviderProfile::Table)
                    .if_not_exists()
                    .col(string_len(ProviderProfile::ProviderId, 63).primary_key())
                    .col(string_len(ProviderProfile::DisplayName, 200))
                    .col(string_len(ProviderProfile::ContactEmail, 254))
                    .col(string_len(ProviderProfile::Language, 8))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum NotificationTrace {
    #[sea_orm(iden = "notification")]
    Table,
    Traceparent,
    Tracestate,
}

/// Adds the trace context of the recording event to notifications.
pub struct AddNotificationTraceContext;

impl MigrationName for AddNotificationTraceContext {
    fn name(&self) -> &str {
        "m20261125_000401_notification_trace_context"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddNotificationTraceContext {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            NotificationTrace::Traceparent,
            NotificationTrace::Tracestate,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(NotificationTrace::Table)
                        .add_column(string_len(column, 512).default(""))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum NotificationSealedLink {
    #[sea_orm(iden = "notification")]
    Table,
    SealedLink,
}

/// The personal link an email carries, by reference: the body holds a
/// marker and the dispatcher puts the link's token in only when it sends.
pub struct AddNotificationSealedLink;

impl MigrationName for AddNotificationSealedLink {
    fn name(&self) -> &str {
        "m20261125_000402_notification_sealed_link"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddNotificationSealedLink {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(NotificationSealedLink::Table)
                    .add_column(string_len_null(NotificationSealedLink::SealedLink, 200))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum NotificationAbout {
    #[sea_orm(iden = "notification")]
    Table,
    SourceEventId,
    Recipient,
    Template,
    About,
}

/// Whom an email is about, in its unique key: one event may send the same
/// email to one address for several resellers (an order's resellers of
/// record sharing a contact address), and each must be recorded.
pub struct AddNotificationAbout;

impl MigrationName for AddNotificationAbout {
    fn name(&self) -> &str {
        "m20261207_000403_notification_about"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddNotificationAbout {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite runs a migration's statements without a transaction: a
        // start cut short after the first must be able to run it again.
        if !manager.has_column("notification", "about").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(NotificationAbout::Table)
                        .add_column(string_len(NotificationAbout::About, 200).default(""))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("uq_notification_source_about")
                    .table(NotificationAbout::Table)
                    .col(NotificationAbout::SourceEventId)
                    .col(NotificationAbout::Recipient)
                    .col(NotificationAbout::Template)
                    .col(NotificationAbout::About)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .if_exists()
                    .name("uq_notification_source")
                    .table(NotificationAbout::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ProviderProfilePosition {
    #[sea_orm(iden = "provider_profile")]
    Table,
    Position,
}

/// The log position of the listing a provider profile was taken from, so
/// that a listing event applied out of order (a dead letter replayed after
/// later ones) never brings back a former name, address or language.
/// Profiles stored before it count as position 0: any listing replaces them.
pub struct AddProviderProfilePosition;

impl MigrationName for AddProviderProfilePosition {
    fn name(&self) -> &str {
        "m20261208_000404_provider_profile_position"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddProviderProfilePosition {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("provider_profile", "position").await? {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(ProviderProfilePosition::Table)
                    .add_column(big_integer(ProviderProfilePosition::Position).default(0))
                    .to_owned(),
            )
            .await
    }
}
