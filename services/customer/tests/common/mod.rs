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
use twotier_proto::partnership as ppb;
use twotier_proto::partnership::partnership_service_client::PartnershipServiceClient;
use twotier_proto::partnership::reseller_service_client::ResellerServiceClient;
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
        ResellerServiceClient::with_interceptor(
            self.partnership.channel(),
            Bearer::new(&operator()),
        )
        .onboard_reseller(ppb::OnboardResellerRequest {
            reseller: Some(ppb::Reseller {
                partner_id: partner_id.into(),
                tenant_id: tenant.into(),
                company_name: company.into(),
                contact_email: format!("admin@{tenant}.example"),
                country_code: "DE".into(),
                preferred_language: "de".into(),
                account_kind: ppb::AccountKind::Location.into(),
                mpa_active: true,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("onboard");
    }

    /// Makes the reseller of `tenant` an active partner of `provider`.
    pub async fn partner(&self, provider: &str, tenant: &str) {
        let invitation = self
            .partnerships(&provider_admin(provider))
            .request_partnership(ppb::RequestPartnershipRequest {
                parent: format!("providers/{provider}"),
                reseller_email: format!("admin@{tenant}.example"),
                language_code: String::new(),
                request_id: String::new(),
            })
            .await
            .expect("invite")
            .into_inner();
        let token = invitation
            .invitation_link
            .split("token=")
            .nth(1)
            .unwrap()
            .to_owned();
        self.partnerships(&reseller_admin(tenant))
            .accept_invitation(ppb::AcceptInvitationRequest { token })
            .await
            .expect("accept");
    }

    pub async fn remove_partnership(&self, provider: &str, partner_id: &str) {
        self.partnerships(&provider_admin(provider))
            .remove_partnership(ppb::RemovePartnershipRequest {
                name: format!("providers/{provider}/indirectResellers/{partner_id}"),
                confirm: true,
                attestation: Some(ppb::RemovalAttestation {
                    good_faith: true,
                    legitimate_business_purpose: true,
                    per_agreements: true,
                    indemnifies_platform: true,
                }),
                etag: String::new(),
            })
            .await
            .expect("remove");
    }

    /// Every event the customer service has logged, waiting for at least
    /// `at_least`.
    pub async fn events(&self, at_least: usize) -> Vec<EventEnvelope> {
        let token = twotier_testkit::token("service:test", "twotier", &[Role::Service]);
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
