//! Fixtures of the customer service's integration tests: the partnership
//! and customer services on ephemeral ports, each on its own real database.

#![allow(dead_code)]

use std::time::Duration;

use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use twotier_customer::CustomerService;
use twotier_partnership::PartnershipService;
use twotier_platform::auth::Role;
use twotier_proto::customer as pb;
use twotier_proto::customer::customer_service_client::CustomerServiceClient;
use twotier_proto::events::event_log_service_client::EventLogServiceClient;
use twotier_proto::events::{EventEnvelope, SubscribeRequest};
use twotier_proto::partnership::partnership_service_client::PartnershipServiceClient;
use twotier_testkit::{Bearer, RunningServer, TestDatabase};

pub type Authed = InterceptedService<Channel, Bearer>;

pub const PROVIDER: &str = "contoso";
pub const OTHER_PROVIDER: &str = "northwind";
pub const RESELLER_TENANT: &str = "fabrikam";
pub const RESELLER: &str = "4567890";

pub struct Harness {
    pub partnership: RunningServer,
    pub customer: RunningServer,
    pub partnership_db: TestDatabase,
    pub customer_db: TestDatabase,
}

pub async fn start() -> Harness {
    let partnership_db = TestDatabase::new("partnership").await;
    let partnership =
        twotier_testkit::start_service::<PartnershipService>(&partnership_db, &[]).await;
    let customer_db = TestDatabase::new("customer").await;
    let endpoint = partnership.endpoint();
    let customer = twotier_testkit::start_service::<CustomerService>(
        &customer_db,
        &[("TWOTIER_PARTNERSHIP_ENDPOINT", &endpoint)],
    )
    .await;
    Harness {
        partnership,
        customer,
        partnership_db,
        customer_db,
    }
}

pub fn operator() -> String {
    twotier_testkit::token("operator", "twotier", &[Role::PlatformOperator])
}

pub fn provider_admin(tenant: &str) -> String {
    twotier_testkit::token("alice", tenant, &[Role::GlobalAdmin])
}

pub fn reseller_admin(tenant: &str) -> String {
    twotier_testkit::token("rita", tenant, &[Role::ResellerAdmin])
}

pub fn address() -> pb::Address {
    pb::Address {
        address_line1: "Hauptstraße 1".into(),
        address_line2: String::new(),
        city: "Berlin".into(),
        region: String::new(),
        postal_code: "10115".into(),
        country_code: "DE".into(),
    }
}

pub fn contact() -> pb::Contact {
    pb::Contact {
        first_name: "Wendy".into(),
        last_name: "Winter".into(),
        email: "wendy@adatum.example".into(),
        phone: "+49 30 1234".into(),
    }
}

pub fn new_customer(company: &str, prefix: &str, reseller: &str) -> pb::Customer {
    pb::Customer {
        company_name: company.into(),
        domain_prefix: prefix.into(),
        address: Some(address()),
        primary_contact: Some(contact()),
        language_code: "de".into(),
        indirect_reseller_partner_id: reseller.into(),
        ..Default::default()
    }
}

pub fn create(provider: &str, customer: pb::Customer) -> pb::CreateCustomerRequest {
    pb::CreateCustomerRequest {
        parent: format!("providers/{provider}"),
        customer: Some(customer),
        validate_only: false,
        request_id: String::new(),
    }
}

impl Harness {
    pub fn customers(&self, token: &str) -> CustomerServiceClient<Authed> {
        CustomerServiceClient::with_interceptor(self.customer.channel(), Bearer::new(token))
    }

    pub fn partnerships(&self, token: &str) -> PartnershipServiceClient<Authed> {
        PartnershipServiceClient::with_interceptor(self.partnership.channel(), Bearer::new(token))
    }

    pub async fn onboard(&self, partner_id: &str, tenant: &str, company: &str) {
        twotier_testkit::flows::onboard(
            self.partnership.channel(),
            partner_id,
            tenant,
            company,
            "de",
            true,
        )
        .await;
    }

    /// Makes the reseller of `tenant` an active partner of `provider`.
    pub async fn partner(&self, provider: &str, tenant: &str) {
        twotier_testkit::flows::partner(self.partnership.channel(), provider, tenant).await;
    }

    pub async fn remove_partnership(&self, provider: &str, partner_id: &str) {
        twotier_testkit::flows::remove_partnership(
            self.partnership.channel(),
            provider,
            partner_id,
        )
        .await;
    }

    /// Every event the customer service has logged, waiting for at least
    /// `at_least`.
    pub async fn events(&self, at_least: usize) -> Vec<EventEnvelope> {
        let token = twotier_testkit::service_token("test");
        let mut client =
            EventLogServiceClient::with_interceptor(self.customer.channel(), Bearer::new(&token));
        let mut stream = client
            .subscribe(SubscribeRequest {
                after_position: 0,
                event_types: vec![],
            })
            .await
            .expect("subscribe")
            .into_inner();
        let mut events = Vec::new();
        while events.len() < at_least {
            let next = tokio::time::timeout(Duration::from_secs(30), stream.message())
                .await
                .expect("events in time");
            events.push(next.expect("stream").expect("open"));
        }
        while let Ok(Ok(Some(event))) =
            tokio::time::timeout(Duration::from_millis(300), stream.message()).await
        {
            events.push(event);
        }
        events
    }
}
