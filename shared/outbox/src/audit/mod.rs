//! The audit trail (R29): every command records who ran it (subject,
//! tenant, roles, the service it came through), what (RPC, resource,
//! request id), when, its outcome and its trace id. A command that commits
//! writes its record in its own transaction ([`crate::Outbox::command`]);
//! one that is refused leaves a record of the refusal in a transaction of
//! its own, since its own was rolled back.

pub mod entity;
mod service;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use twotier_platform::Error;
use twotier_platform::auth::CallContext;

pub use service::AuditLog;

/// How a refused command is recorded: its reason and status code, or
/// `None` when the refusal is not a refusal to the caller (a lost race the
/// command answers from the winner's result).
pub trait AuditedError {
    /// `(reason, code)` of the refusal, or `None` to record nothing.
    fn audit_outcome(&self) -> Option<(String, String)>;
}

impl AuditedError for Error {
    fn audit_outcome(&self) -> Option<(String, String)> {
        Some((self.reason().to_owned(), code_name(self.code()).to_owned()))
    }
}

/// The canonical name of a gRPC status code, as `grpc-status` documents
/// name them (`FAILED_PRECONDITION`).
fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

/// What one command is about, for its audit record.
#[derive(Debug, Clone)]
pub(crate) struct Subject<'a> {
    pub resource: &'a str,
    pub request_id: &'a str,
    /// Whether the service found `resource` itself (an invitation opened by
    /// its token) rather than the caller naming it.
    pub opened: bool,
}

/// Writes the record of the current call's command with `outcome` and
/// `code`. Outside a call (a background task) nothing is written: there is
/// no caller to account for.
pub(crate) async fn record(
    db: &impl ConnectionTrait,
    subject: &Subject<'_>,
    outcome: &str,
    code: &str,
) -> Result<(), DbErr> {
    let Some(CallContext { caller, rpc }) = twotier_platform::auth::current_call() else {
        return Ok(());
    };
    // The resource the command turned out to act on, once it knows it (an
    // invitation opened by its token), else the one it was asked about.
    let (resource, opened) = match named() {
        Some(named) => (named, true),
        None => (subject.resource.to_owned(), subject.opened),
    };
    let roles: Vec<&str> = caller.roles.iter().map(|role| role.as_str()).collect();
    let row = entity::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        occurred_at: Set(Utc::now()),
        actor_subject: Set(caller.subject.clone()),
        actor_tenant_id: Set(caller.tenant_id.clone()),
        actor_roles: Set(roles.join(",")),
        via_service: Set(caller.via_service.clone().unwrap_or_default()),
        rpc: Set(rpc),
        resource: Set(bounded(&resource)),
        resource_tenant_id: Set(trail_of(&caller, &resource, opened).to_owned()),
        request_id: Set(subject.request_id.to_owned()),
        outcome: Set(outcome.to_owned()),
        code: Set(code.to_owned()),
        trace_id: Set(twotier_platform::telemetry::current_trace_id()),
    };
    entity::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    // Outside a scope (a background task) there is nobody to tell.
    let _ = SCOPE.try_with(|scope| scope.recorded.set(true));
    Ok(())
}

/// What the audit trail knows of the command call running in this task.
#[derive(Default)]
struct Scope {
    /// Whether the call has written its record.
    recorded: std::cell::Cell<bool>,
    /// The resource it turned out to act on (see [`audit_as`]).
    resource: std::cell::RefCell<Option<String>>,
}

tokio::task_local! {
    static SCOPE: Scope;
}

/// What a call run by [`watching`] left for the audit trail.
pub(crate) struct Watched<T> {
    pub outcome: T,
    /// Whether it wrote its record.
    pub recorded: bool,
    /// The resource it turned out to act on (see [`audit_as`]), if named.
    pub named: Option<String>,
}

/// Runs `call` in a scope of its own, which starts with the resource the
/// scope around it named, and answers what it recorded and named. Both
/// are also left to the scope around it, if any, so that an outer
/// [`crate::Outbox::audited`] neither records a refusal twice nor under
/// another resource.
pub(crate) async fn watching<T>(call: impl Future<Output = T>) -> Watched<T> {
    let scope = Scope {
        recorded: std::cell::Cell::new(false),
        resource: std::cell::RefCell::new(named()),
    };
    let watched = SCOPE
        .scope(scope, async {
            let outcome = call.await;
            SCOPE.with(|scope| Watched {
                outcome,
                recorded: scope.recorded.get(),
                named: scope.resource.take(),
            })
        })
        .await;
    let _ = SCOPE.try_with(|outer| {
        if watched.recorded {
            outer.recorded.set(true);
        }
        if let Some(named) = &watched.named {
            *outer.resource.borrow_mut() = Some(named.clone());
        }
    });
    watched
}

/// Names the resource the current command call turned out to act on (an
/// invitation or request opened by its token, or what it created), for
/// its record, whether it commits or is refused. Outside [`crate::Outbox::command`] or
/// [`crate::Outbox::audited`] there is no record to name.
pub fn audit_as(resource: &str) {
    let _ = SCOPE.try_with(|scope| *scope.resource.borrow_mut() = Some(resource.to_owned()));
}

fn named() -> Option<String> {
    SCOPE
        .try_with(|scope| scope.resource.borrow().clone())
        .ok()
        .flatten()
}

/// A name as the record's column holds it: a name the caller made up is
/// refused, but its attempt is still recorded, cut to 300 characters and
/// with control characters (PostgreSQL stores no NUL) and direction
/// overrides (which would show it reversed) replaced.
fn bounded(resource: &str) -> String {
    resource
        .chars()
        .take(300)
        .map(|c| {
            if c.is_control() || twotier_platform::validate::overrides_direction(c) {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .collect()
}

/// Records a refused command in a transaction of its own (its own was
/// rolled back), best effort: the database may be what failed.
pub(crate) async fn record_refusal(
    db: &impl ConnectionTrait,
    subject: &Subject<'_>,
    error: &impl AuditedError,
) {
    let Some((reason, code)) = error.audit_outcome() else {
        return;
    };
    if let Err(failed) = record(db, subject, &reason, &code).await {
        tracing::warn!(error = %failed, "cannot record a refused command in the audit trail");
    }
}

/// Most commands refused at the door recorded at once, and per tenant and
/// minute: a flood of refused calls (which no admission share limits, as
/// the door comes first) must neither take the connections admitted calls
/// need nor fill the trail. Past either, a refusal is only counted
/// (`audit.door_refusals.unrecorded`).
const DOOR_RECORDS_AT_ONCE: usize = 4;
const DOOR_RECORDS_PER_TENANT_MINUTE: u32 = 60;

static UNRECORDED: std::sync::LazyLock<opentelemetry::metrics::Counter<u64>> =
    std::sync::LazyLock::new(|| {
        twotier_platform::metrics::meter()
            .u64_counter("audit.door_refusals.unrecorded")
            .with_description(
                "commands refused at the door past the recording budget, not in the audit trail",
            )
            .build()
    });

/// Records the commands the authorization layer refuses for the caller's
/// roles (R29) in the audit trail of its database: under the caller's own
/// tenant, as the door reads no request and so knows no resource.
pub(crate) struct DoorTrail {
    db: sea_orm::DatabaseConnection,
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    per_tenant: twotier_platform::rate_limit::RateLimit,
}

impl DoorTrail {
    pub(crate) fn new(db: sea_orm::DatabaseConnection) -> Self {
        Self {
            db,
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(DOOR_RECORDS_AT_ONCE)),
            per_tenant: twotier_platform::rate_limit::RateLimit::per_minute(
                DOOR_RECORDS_PER_TENANT_MINUTE,
                "DOOR_REFUSALS",
                "refused commands recorded",
            ),
        }
    }

    /// Room for one more record of `tenant`'s, if the budget has it.
    fn admit(&self, tenant: &str) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let permit = self.permits.clone().try_acquire_owned().ok()?;
        self.per_tenant.check(tenant).ok()?;
        Some(permit)
    }
}

impl twotier_platform::auth::DoorRefusals for DoorTrail {
    fn record(&self, call: CallContext, error: &Error) -> BoxFuture<'static, ()> {
        let permit = self.admit(&call.caller.tenant_id);
        let (Some(permit), Some((reason, code))) = (permit, error.audit_outcome()) else {
            UNRECORDED.add(1, &[]);
            return Box::pin(std::future::ready(()));
        };
        let db = self.db.clone();
        Box::pin(twotier_platform::auth::serve_as(call, async move {
            let _permit = permit;
            let subject = Subject {
                resource: "",
                request_id: "",
                opened: false,
            };
            if let Err(failed) = record(&db, &subject, &reason, &code).await {
                tracing::warn!(error = %failed, "cannot record a command refused at the door in the audit trail");
            }
        }))
    }
}

/// The provider a resource name belongs to: `providers/{p}/...`, and its
/// listing `providerListings/{p}`, which the platform operator curates.
fn resource_tenant(resource: &str) -> &str {
    ["providers/", "providerListings/"]
        .into_iter()
        .find_map(|collection| resource.strip_prefix(collection))
        .map(|rest| rest.split('/').next().unwrap_or(rest))
        .unwrap_or("")
}

/// Whose trail, besides the caller's own tenant's, a command on `resource`
/// belongs to: the provider owning it. Not when a provider's user, in any
/// of its roles, names another provider's resource: tenants are isolated,
/// so that attempt is refused and stays in the caller's own trail, whichever
/// check of the handler refused it, and another provider cannot write into
/// this one's (a `HelpdeskAgent` changing a listing is refused after the
/// door, by R1, before the name it gives is read).
/// A resource the service `opened` itself (an invitation by its token) is
/// the owner's whoever the caller is (a provider's user may also be a
/// reseller's admin), and so is what the platform operator does to it,
/// whatever other roles its token carries.
fn trail_of<'r>(
    caller: &twotier_platform::auth::Caller,
    resource: &'r str,
    opened: bool,
) -> &'r str {
    let owner = resource_tenant(resource);
    let acts_across_tenants = caller.has(twotier_platform::auth::Role::PlatformOperator);
    if !opened
        && !acts_across_tenants
        && caller.belongs_to_a_provider()
        && owner != caller.tenant_id
    {
        return "";
    }
    owner
}

/// The oldest time a record kept for `retention` may have now.
fn retained_since(retention: std::time::Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(retention)
        .ok()
        .and_then(|retention| Utc::now().checked_sub_signed(retention))
        .map_or(DateTime::UNIX_EPOCH, |since| {
            since.max(DateTime::UNIX_EPOCH)
        })
}

/// Deletes records older than `retention` every hour until `shutdown`.
pub async fn prune_periodically(
    db: sea_orm::DatabaseConnection,
    retention: std::time::Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    use sea_orm::ColumnTrait;
    loop {
        let cutoff = retained_since(retention);
        match entity::Entity::delete_many()
            .filter(entity::Column::OccurredAt.lt(cutoff))
            .exec(&db)
            .await
        {
            Ok(deleted) if deleted.rows_affected > 0 => {
                tracing::info!(
                    pruned = deleted.rows_affected,
                    "pruned expired audit records"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "pruning audit records failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {},
        }
    }
}

#[cfg(test)]
mod tests {
    use twotier_platform::auth::{Caller, Role};

    use super::*;

    #[test]
    fn resources_of_providers_belong_to_the_provider() {
        assert_eq!(
            resource_tenant("providers/contoso/invitations/1"),
            "contoso"
        );
        assert_eq!(resource_tenant("providerListings/contoso"), "contoso");
        assert_eq!(resource_tenant("providers/contoso"), "contoso");
        assert_eq!(resource_tenant("resellers/4567890"), "");
        assert_eq!(resource_tenant(""), "");
    }

    fn caller(tenant_id: &str, role: Role) -> Caller {
        Caller {
            subject: "someone".into(),
            tenant_id: tenant_id.into(),
            roles: vec![role],
            email: None,
            bearer: String::new(),
            via_service: None,
        }
    }

    #[test]
    fn a_providers_attempt_on_another_providers_resource_stays_in_its_own_trail() {
        let invitation = "providers/contoso/invitations/1";
        for role in [
            Role::GlobalAdmin,
            Role::SalesAgent,
            Role::BillingAdmin,
            Role::HelpdeskAgent,
        ] {
            assert_eq!(
                trail_of(&caller("contoso", role), invitation, false),
                "contoso"
            );
            assert_eq!(trail_of(&caller("northwind", role), invitation, false), "");
        }
        // Opened by its token, by a provider's user who is also a reseller's
        // admin: the inviting provider's.
        let both = Caller {
            roles: vec![Role::GlobalAdmin, Role::ResellerAdmin],
            ..caller("fabrikam", Role::GlobalAdmin)
        };
        assert_eq!(trail_of(&both, invitation, true), "contoso");
        // Others act on a provider's resources by design: a reseller
        // accepting its invitation, a customer's admin consenting (R22),
        // the operator.
        assert_eq!(
            trail_of(&caller("fabrikam", Role::ResellerAdmin), invitation, false),
            "contoso"
        );
        assert_eq!(
            trail_of(
                &caller("adatum.onmicrosoft.com", Role::CustomerAdmin),
                "providers/contoso/customers/c1",
                false
            ),
            "contoso"
        );
        assert_eq!(
            trail_of(
                &caller("twotier", Role::PlatformOperator),
                invitation,
                false
            ),
            "contoso"
        );
        let operator_and_admin = Caller {
            roles: vec![Role::PlatformOperator, Role::GlobalAdmin],
            ..caller("twotier", Role::PlatformOperator)
        };
        assert_eq!(
            trail_of(&operator_and_admin, "providerListings/contoso", false),
            "contoso"
        );
    }

    #[tokio::test]
    async fn door_refusals_are_recorded_four_at_once_and_sixty_a_minute_per_tenant() {
        let trail = DoorTrail::new(sea_orm::DatabaseConnection::default());
        let held: Vec<_> = (0..DOOR_RECORDS_AT_ONCE)
            .map(|_| trail.admit("contoso").expect("within the budget"))
            .collect();
        assert!(
            trail.admit("northwind").is_none(),
            "four at once per process"
        );
        drop(held);
        for _ in DOOR_RECORDS_AT_ONCE..DOOR_RECORDS_PER_TENANT_MINUTE as usize {
            assert!(trail.admit("contoso").is_some());
        }
        assert!(trail.admit("contoso").is_none(), "60 a minute per tenant");
        assert!(
            trail.admit("northwind").is_some(),
            "another tenant's budget"
        );
    }

    #[test]
    fn a_made_up_name_is_recorded_cut_to_its_column_without_control_characters() {
        assert_eq!(bounded("providers/contoso"), "providers/contoso");
        assert_eq!(bounded(&"x".repeat(1000)).chars().count(), 300);
        assert_eq!(bounded("bad\u{0}name\n"), "bad\u{fffd}name\u{fffd}");
        assert_eq!(bounded("x\u{202E}fdp"), "x\u{fffd}fdp");
    }
}
