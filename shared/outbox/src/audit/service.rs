//! `twotier.audit.v1.AuditLogService`: a service's audit trail, read by
//! providers (their own tenant's records) and the platform operator (all).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Cond;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tonic::{Request, Response, Status};
use twotier_platform::auth::{Access, Caller, Role, Rule};
use twotier_platform::paging::{self, PageTokens};
use twotier_platform::{Error, Violations, validate};
use twotier_proto::audit::audit_log_service_server::{AuditLogService, AuditLogServiceServer};
use twotier_proto::audit::{Actor, AuditRecord, ListAuditRecordsRequest, ListAuditRecordsResponse};

use super::entity;

const SERVICE: &str = "twotier.audit.v1.AuditLogService";
const READERS: &[Role] = &[Role::GlobalAdmin, Role::SalesAgent, Role::PlatformOperator];

/// Serves one service's audit trail.
#[derive(Clone)]
pub struct AuditLog {
    db: DatabaseConnection,
    pages: PageTokens,
    /// How long records are kept: older ones are pruned hourly and never
    /// listed, so none outlives it by the hour between two prunings.
    retention: std::time::Duration,
}

/// Which records a list asks for.
struct Filter {
    /// `None` for the platform operator: every tenant.
    tenant: Option<String>,
    resource: String,
    actor: String,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
}

impl AuditLog {
    /// The audit trail in `db`, listed with page tokens sealed by `pages`,
    /// records older than `retention` left out.
    pub fn new(db: DatabaseConnection, pages: PageTokens, retention: std::time::Duration) -> Self {
        Self {
            db,
            pages,
            retention,
        }
    }

    /// The audit trail of `ctx`'s service in `db`, pruned in the
    /// background after `ctx.settings.audit_retention`.
    pub fn start(
        ctx: &twotier_platform::startup::ServiceContext,
        db: DatabaseConnection,
        pages: PageTokens,
    ) -> Self {
        ctx.spawn(super::prune_periodically(
            db.clone(),
            ctx.settings.audit_retention,
            ctx.shutdown.clone(),
        ));
        Self::new(db, pages, ctx.settings.audit_retention)
    }

    /// What records the commands this service's door refuses in this
    /// trail (`GrpcServer::record_door_refusals`).
    pub fn door_refusals(&self) -> std::sync::Arc<dyn twotier_platform::auth::DoorRefusals> {
        std::sync::Arc::new(super::DoorTrail::new(self.db.clone()))
    }

    /// Providers read their tenant's records, the operator everyone's.
    pub const RULES: &'static [Rule] = &[Rule::new(
        SERVICE,
        "ListAuditRecords",
        Access::AnyOf(READERS),
    )];

    /// The tonic service.
    pub fn into_service(self) -> AuditLogServiceServer<Self> {
        AuditLogServiceServer::new(self)
    }

    async fn list(
        &self,
        filter: &Filter,
        page_size: u64,
        after: &str,
    ) -> Result<(Vec<AuditRecord>, String), Error> {
        let fingerprint = paging::fingerprint(&[
            filter.tenant.as_deref().unwrap_or("*"),
            &filter.resource,
            &filter.actor,
            &filter.start.map(|t| t.to_rfc3339()).unwrap_or_default(),
            &filter.end.map(|t| t.to_rfc3339()).unwrap_or_default(),
        ]);
        let after: Option<String> = paging::decode_token(after, &fingerprint)?;
        // Ids are UUIDv7, so descending ids are newest first.
        let mut query = entity::Entity::find()
            .filter(entity::Column::OccurredAt.gte(super::retained_since(self.retention)))
            .order_by_desc(entity::Column::Id)
            .limit(page_size + 1);
        if let Some(tenant) = &filter.tenant {
            // A provider sees what its users did, and what anyone did to
            // its resources (a reseller accepting its invitation).
            query = query.filter(
                Cond::any()
                    .add(entity::Column::ActorTenantId.eq(tenant))
                    .add(entity::Column::ResourceTenantId.eq(tenant)),
            );
        }
        if !filter.resource.is_empty() {
            query = query.filter(entity::Column::Resource.eq(&filter.resource));
        }
        if !filter.actor.is_empty() {
            query = query.filter(entity::Column::ActorSubject.eq(&filter.actor));
        }
        if let Some(start) = filter.start {
            query = query.filter(entity::Column::OccurredAt.gte(start));
        }
        if let Some(end) = filter.end {
            query = query.filter(entity::Column::OccurredAt.lt(end));
        }
        if let Some(after) = after {
            query = query.filter(entity::Column::Id.lt(after));
        }
        let rows = twotier_platform::db::all(&self.db, query).await?;
        let (rows, token) =
            paging::finish_page(rows, page_size, &fingerprint, |row| row.id.clone());
        Ok((rows.into_iter().map(to_proto).collect(), token))
    }
}

fn time(
    field: &str,
    at: Option<prost_types::Timestamp>,
    violations: &mut Violations,
) -> Option<DateTime<Utc>> {
    let at = at?;
    // `google.protobuf.Timestamp` holds nanos in 0..=999_999_999; chrono
    // would read more as a leap second.
    let parsed = u32::try_from(at.nanos)
        .ok()
        .filter(|nanos| *nanos < 1_000_000_000)
        .and_then(|nanos| DateTime::from_timestamp(at.seconds, nanos));
    if parsed.is_none() {
        violations.add(field, "is not a valid time");
    }
    parsed
}

fn to_proto(row: entity::Model) -> AuditRecord {
    AuditRecord {
        name: format!("auditRecords/{}", row.id),
        occur_time: Some(twotier_platform::time::timestamp(row.occurred_at)),
        actor: Some(Actor {
            subject: row.actor_subject,
            tenant_id: row.actor_tenant_id,
            roles: row
                .actor_roles
                .split(',')
                .filter(|role| !role.is_empty())
                .map(str::to_owned)
                .collect(),
            via_service: row.via_service,
        }),
        rpc: row.rpc,
        resource: row.resource,
        resource_tenant_id: row.resource_tenant_id,
        request_id: row.request_id,
        outcome: row.outcome,
        code: row.code,
        trace_id: row.trace_id,
    }
}

#[tonic::async_trait]
impl AuditLogService for AuditLog {
    async fn list_audit_records(
        &self,
        request: Request<ListAuditRecordsRequest>,
    ) -> Result<Response<ListAuditRecordsResponse>, Status> {
        let caller = Caller::of(&request)?.clone();
        let request = request.into_inner();
        let page_size = paging::page_size(request.page_size)?;
        let mut violations = Violations::new();
        if !request.resource.is_empty() {
            violations.check("resource", validate::line(&request.resource, 1, 300));
        }
        if !request.actor_subject.is_empty() {
            violations.check(
                "actor_subject",
                validate::line(&request.actor_subject, 1, 300),
            );
        }
        let start = time("start_time", request.start_time, &mut violations);
        let end = time("end_time", request.end_time, &mut violations);
        if let (Some(start), Some(end)) = (start, end)
            && end <= start
        {
            violations.add("end_time", "must be after start_time");
        }
        violations.into_result("INVALID_AUDIT_FILTER")?;
        let filter = Filter {
            tenant: (!caller.has(Role::PlatformOperator)).then(|| caller.tenant_id.clone()),
            resource: request.resource,
            actor: request.actor_subject,
            start,
            end,
        };
        let (audit_records, next_page_token) = self
            .pages
            .list::<ListAuditRecordsRequest>(&caller.tenant_id)
            .serve(&request.page_token, async |after| {
                self.list(&filter, page_size, after).await
            })
            .await?;
        Ok(Response::new(ListAuditRecordsResponse {
            audit_records,
            next_page_token,
        }))
    }
}
