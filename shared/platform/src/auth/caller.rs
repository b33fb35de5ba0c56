use std::fmt;

use crate::error::Error;

/// A role a token can grant. Unknown role names in a token are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Provider administrator: may perform every provider task.
    GlobalAdmin,
    /// Provider sales agent: may perform every provider task.
    SalesAgent,
    /// Provider billing administrator: no provider tasks.
    BillingAdmin,
    /// Provider helpdesk agent: no provider tasks.
    HelpdeskAgent,
    /// Administrator of an indirect reseller.
    ResellerAdmin,
    /// The platform operator, curating listings and onboarding resellers.
    PlatformOperator,
    /// Administrator of a customer (tenant: its initial domain), who
    /// consents to reseller relationships.
    CustomerAdmin,
    /// A provider's own backend, following the provider's event feed.
    Integration,
    /// Another twotier service (event log subscriptions, calls between
    /// services). Only service tokens carry it.
    Service,
}

impl Role {
    /// Every role, in the order they are documented.
    pub const ALL: [Role; 9] = [
        Role::GlobalAdmin,
        Role::SalesAgent,
        Role::BillingAdmin,
        Role::HelpdeskAgent,
        Role::ResellerAdmin,
        Role::PlatformOperator,
        Role::CustomerAdmin,
        Role::Integration,
        Role::Service,
    ];

    /// The role's name as it appears in the `roles` claim.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::GlobalAdmin => "GlobalAdmin",
            Role::SalesAgent => "SalesAgent",
            Role::BillingAdmin => "BillingAdmin",
            Role::HelpdeskAgent => "HelpdeskAgent",
            Role::ResellerAdmin => "ResellerAdmin",
            Role::PlatformOperator => "PlatformOperator",
            Role::CustomerAdmin => "CustomerAdmin",
            Role::Integration => "Integration",
            Role::Service => "Service",
        }
    }

    /// Parses a role name from the `roles` claim.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verified identity behind a call.
#[derive(Clone)]
pub struct Caller {
    /// The `sub` claim: who is calling.
    pub subject: String,
    /// The `tid` claim: the caller's tenant (provider, reseller or customer).
    pub tenant_id: String,
    /// The roles the token grants.
    pub roles: Vec<Role>,
    /// The `email` claim, when present.
    pub email: Option<String>,
    /// The raw bearer token, forwarded on calls to other services made on
    /// the caller's behalf.
    pub bearer: String,
    /// The twotier service that made this call on the caller's behalf, if
    /// one did (e.g. `service:subscription`).
    pub via_service: Option<String>,
}

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The bearer token is a credential: never in logs.
        f.debug_struct("Caller")
            .field("subject", &self.subject)
            .field("tenant_id", &self.tenant_id)
            .field("roles", &self.roles)
            .field("via_service", &self.via_service)
            .finish_non_exhaustive()
    }
}

impl Caller {
    /// Whether the caller has `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the caller may perform provider tasks (`GlobalAdmin` or
    /// `SalesAgent`).
    pub fn is_provider(&self) -> bool {
        self.has(Role::GlobalAdmin) || self.has(Role::SalesAgent)
    }

    /// Whether the caller acts for a provider's tenant in any of its
    /// roles, including those that may not perform provider tasks.
    pub fn belongs_to_a_provider(&self) -> bool {
        [
            Role::GlobalAdmin,
            Role::SalesAgent,
            Role::BillingAdmin,
            Role::HelpdeskAgent,
            Role::Integration,
        ]
        .into_iter()
        .any(|role| self.has(role))
    }

    /// Refuses callers that may not perform provider tasks.
    pub fn require_provider(&self) -> Result<(), Error> {
        if self.is_provider() {
            return Ok(());
        }
        Err(Error::permission_denied(
            "provider tasks need the GlobalAdmin or SalesAgent role",
        ))
    }

    /// Checks that `provider_id` (from a resource name) is the caller's own
    /// tenant. Another provider's resources do not exist for the caller.
    pub fn require_own_provider(&self, provider_id: &str) -> Result<(), Error> {
        if self.tenant_id == provider_id {
            return Ok(());
        }
        Err(Error::NotFound {
            reason: "PROVIDER_NOT_FOUND",
            message: format!("providers/{provider_id} is not found"),
        })
    }

    /// Refuses callers without any of `roles`.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), Error> {
        if roles.iter().any(|role| self.has(*role)) {
            return Ok(());
        }
        let names: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
        Err(Error::permission_denied(format!(
            "this call needs one of the roles: {}",
            names.join(", ")
        )))
    }

    /// The verified caller of a request; the auth layer guarantees it on every
    /// authenticated route.
    pub fn of<T>(request: &tonic::Request<T>) -> Result<&Caller, Error> {
        request
            .extensions()
            .get::<Caller>()
            .ok_or(Error::Unauthenticated {
                reason: "MISSING_CREDENTIALS",
                message: "no verified caller on this request".into(),
            })
    }
}
