//! Who may call which RPC: one rule per method, declared beside each
//! service's API and enforced by the auth layer before the call takes an
//! admission permit or reaches service code. A served method without a
//! rule stops the server at start-up, so an RPC cannot be added without
//! deciding who may call it. Rules decide by role; which tenant's rows a
//! caller may touch is decided by the handlers, per resource.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Caller, Role};
use crate::error::Error;

/// Provider tasks: `GlobalAdmin` and `SalesAgent` (DOMAIN.md, "Who acts").
pub const PROVIDER: &[Role] = &[Role::GlobalAdmin, Role::SalesAgent];

/// Who may call one RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Every authenticated caller, user or service.
    Authenticated,
    /// Callers holding at least one of these roles.
    AnyOf(&'static [Role]),
}

impl Access {
    /// Whether a caller with `roles` passes.
    pub fn admits(self, roles: &[Role]) -> bool {
        match self {
            Access::Authenticated => true,
            Access::AnyOf(allowed) => allowed.iter().any(|role| roles.contains(role)),
        }
    }
}

/// The rule of one method of one gRPC service.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Full gRPC service name, e.g. `twotier.partnership.v1.PartnershipService`.
    pub service: &'static str,
    /// Method name, e.g. `RequestPartnership`.
    pub method: &'static str,
    /// Who may call it.
    pub access: Access,
}

impl Rule {
    /// `service`/`method` may be called by `access`.
    pub const fn new(service: &'static str, method: &'static str, access: Access) -> Self {
        Self {
            service,
            method,
            access,
        }
    }

    fn path(&self) -> String {
        format!("/{}/{}", self.service, self.method)
    }
}

/// The rules of every RPC a server serves.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    rules: Arc<HashMap<String, Access>>,
}

impl Policy {
    /// A policy of `rules`.
    pub fn new<'a>(rules: impl IntoIterator<Item = &'a Rule>) -> Self {
        Self {
            rules: Arc::new(rules.into_iter().map(|r| (r.path(), r.access)).collect()),
        }
    }

    /// The rule of the method at `path` (`/package.Service/Method`).
    pub fn access(&self, path: &str) -> Option<Access> {
        self.rules.get(path).copied()
    }

    /// Refuses `caller` unless the rule of `path` admits it. A path without
    /// a rule is no method of this server's (a server refuses to start
    /// with a served method that has none): `UNIMPLEMENTED`, as gRPC
    /// answers an unknown method, once the caller is known.
    pub fn authorize(&self, path: &str, caller: &Caller) -> Result<(), Error> {
        match self.access(path) {
            Some(access) if access.admits(&caller.roles) => Ok(()),
            Some(Access::AnyOf(allowed)) => {
                let names: Vec<&str> = allowed.iter().map(|role| role.as_str()).collect();
                Err(Error::permission_denied(format!(
                    "this call needs one of the roles: {}",
                    names.join(", ")
                )))
            }
            _ => Err(Error::Unimplemented {
                reason: "UNKNOWN_METHOD",
                message: format!("{path} is not a method of this server"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(roles: &[Role]) -> Caller {
        Caller {
            subject: "s".into(),
            tenant_id: "t".into(),
            roles: roles.to_vec(),
            email: None,
            bearer: String::new(),
            via_service: None,
        }
    }

    #[test]
    fn rules_admit_their_roles_and_refuse_others_and_unknown_paths() {
        let policy = Policy::new(&[
            Rule::new("p.S", "Provider", Access::AnyOf(PROVIDER)),
            Rule::new("p.S", "Anyone", Access::Authenticated),
        ]);
        assert!(
            policy
                .authorize("/p.S/Provider", &caller(&[Role::SalesAgent]))
                .is_ok()
        );
        let refused = policy
            .authorize("/p.S/Provider", &caller(&[Role::BillingAdmin]))
            .unwrap_err();
        assert_eq!(refused.reason(), "ROLE_NOT_ALLOWED");
        assert!(policy.authorize("/p.S/Anyone", &caller(&[])).is_ok());
        let unknown = policy
            .authorize("/p.S/Unruled", &caller(&Role::ALL))
            .unwrap_err();
        assert_eq!(unknown.code(), tonic::Code::Unimplemented);
    }
}
