//! `audit_record`: one command as it ran (R29).

use sea_orm::entity::prelude::*;

/// One command.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_record")]
pub struct Model {
    /// UUIDv7: ordered by time.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// When the command ran.
    pub occurred_at: DateTimeUtc,
    /// The caller's `sub`.
    pub actor_subject: String,
    /// The caller's `tid`.
    pub actor_tenant_id: String,
    /// The caller's roles, comma-separated.
    pub actor_roles: String,
    /// The service that called on the actor's behalf, or empty.
    pub via_service: String,
    /// The full gRPC method.
    pub rpc: String,
    /// The resource acted on, or empty.
    pub resource: String,
    /// The provider whose resource it is, or empty.
    pub resource_tenant_id: String,
    /// The caller's request id, or empty.
    pub request_id: String,
    /// `OK` or the reason of the refusal.
    pub outcome: String,
    /// The gRPC status code name.
    pub code: String,
    /// The W3C trace id, or empty.
    pub trace_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
