//! The services in this process, wired to each other as in production,
//! each on its own test database: the harness every multi-service test
//! starts from.

use std::collections::BTreeMap;

use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use twotier_customer::CustomerService;
use twotier_notification::NotificationService;
use twotier_partnership::PartnershipService;
use twotier_proto::customer::customer_service_client::CustomerServiceClient;
use twotier_proto::notification::notification_service_client::NotificationServiceClient;
use twotier_proto::partnership::partnership_service_client::PartnershipServiceClient;
use twotier_proto::partnership::provider_listing_service_client::ProviderListingServiceClient;
use twotier_proto::partnership::reseller_service_client::ResellerServiceClient;
use twotier_proto::subscription::subscription_service_client::SubscriptionServiceClient;
use twotier_subscription::SubscriptionService;

use crate::{Bearer, RunningServer, TestDatabase};

/// A generated client sending a bearer token.
pub type Authed = InterceptedService<Channel, Bearer>;

/// The services, in the order each may depend on those before it.
pub const SERVICES: [&str; 4] = ["partnership", "customer", "subscription", "notification"];

/// Running services and their databases.
pub struct System {
    servers: BTreeMap<&'static str, RunningServer>,
    databases: BTreeMap<&'static str, TestDatabase>,
    extra: Vec<(&'static str, String, String)>,
}

impl System {
    /// Starts `services` (names from [`SERVICES`], in that order), each
    /// told where the ones before it listen; `extra` adds variables for one
    /// service: `(service, key, value)`.
    pub async fn start(services: &[&'static str], extra: &[(&'static str, &str, &str)]) -> Self {
        let mut system = Self {
            servers: BTreeMap::new(),
            databases: BTreeMap::new(),
            extra: extra
                .iter()
                .map(|(s, k, v)| (*s, (*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        for service in SERVICES.iter().filter(|s| services.contains(s)) {
            let db = TestDatabase::new(service).await;
            system.databases.insert(service, db);
            system.restart(service).await;
        }
        system
    }

    /// All four services.
    pub async fn all(extra: &[(&'static str, &str, &str)]) -> Self {
        Self::start(&SERVICES, extra).await
    }

    /// Adds `service` on a new database to a running system, with `extra`
    /// variables of its own (which win over the wiring, e.g. to reach an
    /// upstream through a [`crate::ChaosProxy`]).
    pub async fn add(&mut self, service: &'static str, extra: &[(&str, &str)]) {
        self.extra.extend(
            extra
                .iter()
                .map(|(k, v)| (service, (*k).to_owned(), (*v).to_owned())),
        );
        let db = TestDatabase::new(service).await;
        self.databases.insert(service, db);
        self.restart(service).await;
    }

    /// Starts `service` again on its database (after [`Self::stop`]).
    pub async fn restart(&mut self, service: &'static str) {
        let mut env: Vec<(String, String)> = self
            .servers
            .iter()
            .map(|(name, server)| {
                (
                    format!("TWOTIER_{}_ENDPOINT", name.to_uppercase()),
                    server.endpoint(),
                )
            })
            .collect();
        env.extend(
            self.extra
                .iter()
                .filter(|(s, _, _)| *s == service)
                .map(|(_, k, v)| (k.clone(), v.clone())),
        );
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let db = &self.databases[service];
        let server = match service {
            "partnership" => crate::start_service::<PartnershipService>(db, &env).await,
            "customer" => crate::start_service::<CustomerService>(db, &env).await,
            "subscription" => crate::start_service::<SubscriptionService>(db, &env).await,
            "notification" => crate::start_service::<NotificationService>(db, &env).await,
            other => panic!("no service {other}"),
        };
        self.servers.insert(service, server);
    }

    /// Stops `service` gracefully; its database stays.
    pub async fn stop(&mut self, service: &'static str) {
        if let Some(server) = self.servers.remove(service) {
            server.stop().await;
        }
    }

    /// The running server of `service`.
    pub fn server(&self, service: &str) -> &RunningServer {
        self.servers
            .get(service)
            .unwrap_or_else(|| panic!("{service} is not running"))
    }

    /// A channel to `service`.
    pub fn channel(&self, service: &str) -> Channel {
        self.server(service).channel()
    }

    /// The database of `service`.
    pub fn db(&self, service: &str) -> &TestDatabase {
        &self.databases[service]
    }

    /// Every database, by service.
    pub fn databases(&self) -> impl Iterator<Item = (&'static str, &TestDatabase)> {
        self.databases.iter().map(|(name, db)| (*name, db))
    }

    /// Every row count of every table of every database.
    pub async fn row_counts(&self) -> BTreeMap<String, i64> {
        let mut all = BTreeMap::new();
        for (service, db) in &self.databases {
            for (table, n) in crate::row_counts(&db.url).await {
                all.insert(format!("{service}.{table}"), n);
            }
        }
        all
    }

    /// The provider listing API, as `token`.
    pub fn listings(&self, token: &str) -> ProviderListingServiceClient<Authed> {
        ProviderListingServiceClient::with_interceptor(
            self.channel("partnership"),
            Bearer::new(token),
        )
    }

    /// The reseller API, as `token`.
    pub fn resellers(&self, token: &str) -> ResellerServiceClient<Authed> {
        ResellerServiceClient::with_interceptor(self.channel("partnership"), Bearer::new(token))
    }

    /// The partnership API, as `token`.
    pub fn partnerships(&self, token: &str) -> PartnershipServiceClient<Authed> {
        PartnershipServiceClient::with_interceptor(self.channel("partnership"), Bearer::new(token))
    }

    /// The customer API, as `token`.
    pub fn customers(&self, token: &str) -> CustomerServiceClient<Authed> {
        CustomerServiceClient::with_interceptor(self.channel("customer"), Bearer::new(token))
    }

    /// The subscription API, as `token`.
    pub fn subscriptions(&self, token: &str) -> SubscriptionServiceClient<Authed> {
        SubscriptionServiceClient::with_interceptor(
            self.channel("subscription"),
            Bearer::new(token),
        )
    }

    /// The notification API, as `token`.
    pub fn notifications(&self, token: &str) -> NotificationServiceClient<Authed> {
        NotificationServiceClient::with_interceptor(
            self.channel("notification"),
            Bearer::new(token),
        )
    }

    /// Every event `service` has logged, waiting for at least `at_least`.
    pub async fn events(
        &self,
        service: &str,
        at_least: usize,
    ) -> Vec<twotier_proto::events::EventEnvelope> {
        crate::log::events(self.channel(service), at_least).await
    }
}
