//! All four services in this process, each on its own real database, for
//! the tests that throw bad input at every RPC.

use std::collections::BTreeMap;

use tonic::transport::Channel;
use twotier_platform::auth::Role;
use twotier_testkit::System;

/// The four services in this process, each on its own database.
pub struct Services {
    system: System,
}

impl Services {
    pub async fn start() -> Self {
        Self {
            system: System::all(&[]).await,
        }
    }

    /// The server of a gRPC service (by full name).
    pub fn server_of(&self, service: &str) -> Channel {
        match service.split('.').nth(1) {
            Some("customer") => self.system.channel("customer"),
            Some("subscription") => self.system.channel("subscription"),
            Some("notification") => self.system.channel("notification"),
            Some("events") if service.ends_with("DeadLetterService") => {
                self.system.channel("customer")
            }
            _ => self.system.channel("partnership"),
        }
    }

    /// Every row count of every table of every database but the audit
    /// trails, which record refused commands by design (R29).
    pub async fn snapshot(&self) -> BTreeMap<String, i64> {
        let mut counts = self.system.row_counts().await;
        counts.retain(|table, _| !table.ends_with(".audit_record"));
        counts
    }
}

/// Bearer tokens of every kind of caller that passes authentication, so bad
/// input reaches the checks behind it: a provider user who is also a
/// reseller admin (tenant `contoso`), the platform operator, a service and
/// a customer's admin (R22).
pub fn callers() -> [(&'static str, String); 4] {
    let user = twotier_testkit::token(
        "mallory",
        "contoso",
        &[Role::GlobalAdmin, Role::SalesAgent, Role::ResellerAdmin],
    );
    let operator = twotier_testkit::token("olga", "twotier", &[Role::PlatformOperator]);
    let service = twotier_testkit::service_token("mallory");
    let customer_admin =
        twotier_testkit::token("carla", "adatum.onmicrosoft.com", &[Role::CustomerAdmin]);
    [
        ("provider user", format!("Bearer {user}")),
        ("platform operator", format!("Bearer {operator}")),
        ("service", format!("Bearer {service}")),
        ("customer admin", format!("Bearer {customer_admin}")),
    ]
}
