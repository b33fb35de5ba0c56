//! Migrations for the outbox tables. A producing service lists
//! [`CreateOutbox`] and [`IndexOutboxTenant`] in its migrator; a consuming
//! one lists [`CreateConsumerTables`].

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveIden)]
enum OutboxEvent {
    Table,
    Id,
    EventId,
    Position,
    EventType,
    AggregateType,
    AggregateId,
    TenantId,
    OccurredAt,
    Traceparent,
    Tracestate,
    Payload,
}

/// Creates `outbox_event`.
pub struct CreateOutbox;

impl MigrationName for CreateOutbox {
    fn name(&self) -> &str {
        "m20261125_000001_outbox_event"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateOutbox {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OutboxEvent::Table)
                    .if_not_exists()
                    .col(big_pk_auto(OutboxEvent::Id))
                    .col(string_len_uniq(OutboxEvent::EventId, 36))
                    .col(big_integer_null(OutboxEvent::Position).unique_key())
                    .col(string_len(OutboxEvent::EventType, 200))
                    .col(string_len(OutboxEvent::AggregateType, 64))
                    .col(string_len(OutboxEvent::AggregateId, 200))
                    .col(string_len(OutboxEvent::TenantId, 63))
                    .col(timestamp_with_time_zone(OutboxEvent::OccurredAt))
                    .col(string_len(OutboxEvent::Traceparent, 64))
                    .col(string_len(OutboxEvent::Tracestate, 512))
                    .col(blob(OutboxEvent::Payload))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_outbox_event_occurred_at")
                    .table(OutboxEvent::Table)
                    .col(OutboxEvent::OccurredAt)
                    .to_owned(),
            )
            .await
    }
}

/// Indexes `outbox_event` by tenant and position, so a tenant's feed
/// (R30) reads its own events without scanning everyone else's. Listed
/// right after [`CreateOutbox`] by every producing service.
pub struct IndexOutboxTenant;

impl MigrationName for IndexOutboxTenant {
    fn name(&self) -> &str {
        "m20261125_000006_outbox_event_tenant_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for IndexOutboxTenant {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_outbox_event_tenant_position")
                    .table(OutboxEvent::Table)
                    .col(OutboxEvent::TenantId)
                    .col(OutboxEvent::Position)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ConsumerCursor {
    Table,
    Upstream,
    Position,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DeadLetter {
    Table,
    Id,
    Upstream,
    Position,
    EventType,
    Envelope,
    Error,
    Attempts,
    State,
    CreatedAt,
    ReplayedAt,
}

/// Creates `consumer_cursor` and `dead_letter`.
pub struct CreateConsumerTables;

impl MigrationName for CreateConsumerTables {
    fn name(&self) -> &str {
        "m20261125_000002_consumer_tables"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateConsumerTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConsumerCursor::Table)
                    .if_not_exists()
                    .col(string_len(ConsumerCursor::Upstream, 64).primary_key())
                    .col(big_integer(ConsumerCursor::Position))
                    .col(timestamp_with_time_zone(ConsumerCursor::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DeadLetter::Table)
                    .if_not_exists()
                    .col(string_len(DeadLetter::Id, 36).primary_key())
                    .col(string_len(DeadLetter::Upstream, 64))
                    .col(big_integer(DeadLetter::Position))
                    .col(string_len(DeadLetter::EventType, 200))
                    .col(blob(DeadLetter::Envelope))
                    .col(text(DeadLetter::Error))
                    .col(integer(DeadLetter::Attempts))
                    .col(string_len(DeadLetter::State, 16))
                    .col(timestamp_with_time_zone(DeadLetter::CreatedAt))
                    .col(timestamp_with_time_zone_null(DeadLetter::ReplayedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_dead_letter_upstream_position")
                    .table(DeadLetter::Table)
                    .col(DeadLetter::Upstream)
                    .col(DeadLetter::Position)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum AuditRecord {
    Table,
    Id,
    OccurredAt,
    ActorSubject,
    ActorTenantId,
    ActorRoles,
    ViaService,
    Rpc,
    Resource,
    ResourceTenantId,
    RequestId,
    Outcome,
    Code,
    TraceId,
}

/// Creates `audit_record`; every service that runs commands lists it.
pub struct CreateAuditTable;

impl MigrationName for CreateAuditTable {
    fn name(&self) -> &str {
        "m20261125_000005_audit_record"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateAuditTable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditRecord::Table)
                    .if_not_exists()
                    .col(string_len(AuditRecord::Id, 36).primary_key())
                    .col(timestamp_with_time_zone(AuditRecord::OccurredAt))
                    .col(string_len(AuditRecord::ActorSubject, 300))
                    .col(string_len(AuditRecord::ActorTenantId, 63))
                    .col(string_len(AuditRecord::ActorRoles, 200))
                    .col(string_len(AuditRecord::ViaService, 100))
                    .col(string_len(AuditRecord::Rpc, 200))
                    .col(string_len(AuditRecord::Resource, 300))
                    .col(string_len(AuditRecord::ResourceTenantId, 63))
                    .col(string_len(AuditRecord::RequestId, 64))
                    .col(string_len(AuditRecord::Outcome, 100))
                    .col(string_len(AuditRecord::Code, 32))
                    .col(string_len(AuditRecord::TraceId, 32))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_audit_record_occurred_at", AuditRecord::OccurredAt),
            ("idx_audit_record_actor_tenant", AuditRecord::ActorTenantId),
            (
                "idx_audit_record_resource_tenant",
                AuditRecord::ResourceTenantId,
            ),
            ("idx_audit_record_resource", AuditRecord::Resource),
        ] {
            manager
                .create_index(
                    Index::create()
                        .if_not_exists()
                        .name(name)
                        .table(AuditRecord::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
