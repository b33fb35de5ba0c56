//! All four services in this process, each on its own real database, for
//! the tests that throw bad input at every RPC.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, Statement};
use tonic::transport::Channel;
use twotier_customer::CustomerService;
use twotier_notification::NotificationService;
use twotier_partnership::PartnershipService;
use twotier_platform::auth::Role;
use twotier_subscription::SubscriptionService;
use twotier_testkit::{RunningServer, TestDatabase};

/// Every row count of every table of a database.
async fn row_counts(url: &str) -> BTreeMap<String, i64> {
    let db = twotier_platform::db::connect(url, 2)
        .await
        .expect("connect");
    let backend = db.get_database_backend();
    let list = if url.starts_with("sqlite") {
        "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    } else {
        "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public'"
    };
    let mut counts = BTreeMap::new();
    for row in db
        .query_all_raw(Statement::from_string(backend, list))
        .await
        .expect("tables")
    {
        let table: String = row.try_get("", "t").expect("name");
        let n = db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM \"{table}\""),
            ))
            .await
            .expect("count")
            .expect("row")
            .try_get::<i64>("", "n")
            .expect("n");
        counts.insert(table, n);
    }
    counts
}

/// The four services in this process, each on its own database.
pub struct Services {
    partnership: RunningServer,
    customer: RunningServer,
    subscription: RunningServer,
    notification: RunningServer,
    databases: [TestDatabase; 4],
}

impl Services {
    pub async fn start() -> Self {
        let partnership_db = TestDatabase::new("partnership").await;
        let partnership =
            twotier_testkit::start_service::<PartnershipService>(&partnership_db, &[]).await;
        let p = partnership.endpoint();
        let customer_db = TestDatabase::new("customer").await;
        let customer = twotier_testkit::start_service::<CustomerService>(
            &customer_db,
            &[("TWOTIER_PARTNERSHIP_ENDPOINT", &p)],
        )
        .await;
        let c = customer.endpoint();
        let subscription_db = TestDatabase::new("subscription").await;
        let subscription = twotier_testkit::start_service::<SubscriptionService>(
            &subscription_db,
            &[
                ("TWOTIER_PARTNERSHIP_ENDPOINT", &p),
                ("TWOTIER_CUSTOMER_ENDPOINT", &c),
            ],
        )
        .await;
        let s = subscription.endpoint();
        let notification_db = TestDatabase::new("notification").await;
        let notification = twotier_testkit::start_service::<NotificationService>(
            &notification_db,
            &[
                ("TWOTIER_PARTNERSHIP_ENDPOINT", &p),
                ("TWOTIER_CUSTOMER_ENDPOINT", &c),
                ("TWOTIER_SUBSCRIPTION_ENDPOINT", &s),
            ],
        )
        .await;
        Self {
            partnership,
            customer,
            subscription,
            notification,
            databases: [
                partnership_db,
                customer_db,
                subscription_db,
                notification_db,
            ],
        }
    }

    /// The server of a gRPC service (by full name).
    pub fn server_of(&self, service: &str) -> Channel {
        match service.split('.').nth(1) {
            Some("customer") => self.customer.channel(),
            Some("subscription") => self.subscription.channel(),
            Some("notification") => self.notification.channel(),
            Some("events") if service.ends_with("DeadLetterService") => self.customer.channel(),
            _ => self.partnership.channel(),
        }
    }

    /// Every row count of every table of every database.
    pub async fn snapshot(&self) -> BTreeMap<String, i64> {
        let mut all = BTreeMap::new();
        for db in &self.databases {
            for (table, n) in row_counts(&db.url).await {
                all.insert(
                    format!("{}.{table}", db.url.rsplit('/').next().unwrap_or("")),
                    n,
                );
            }
        }
        all
    }
}

/// Bearer tokens of every kind of caller that passes authentication, so bad
/// input reaches the checks behind it: a provider user who is also a
/// reseller admin (tenant `contoso`), the platform operator and a service.
pub fn callers() -> [(&'static str, String); 3] {
    let user = twotier_testkit::token(
        "mallory",
        "contoso",
        &[Role::GlobalAdmin, Role::SalesAgent, Role::ResellerAdmin],
    );
    let operator = twotier_testkit::token("olga", "twotier", &[Role::PlatformOperator]);
    let service = twotier_testkit::service_token("mallory");
    [
        ("provider user", format!("Bearer {user}")),
        ("platform operator", format!("Bearer {operator}")),
        ("service", format!("Bearer {service}")),
    ]
}
