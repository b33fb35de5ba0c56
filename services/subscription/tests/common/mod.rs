//! Fixtures of the subscription service's integration tests: the
//! partnership, customer and subscription services on ephemeral ports, each
//! on its own real database.

#![allow(dead_code)]

use std::time::Duration;

use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use twotier_customer::CustomerService;
use twotier_partnership::PartnershipService;
use twotier_platform::auth::Role;
use twotier_proto::customer as cpb;
use twotier_proto::customer::customer_service_client::CustomerServiceClient;
use twotier_proto::events::event_log_service_client::EventLogServiceClient;
use twotier_proto::events::{EventEnvelope, SubscribeRequest};
use twotier_proto::partnership::partnership_service_client::PartnershipServiceClient;
use twotier_proto::subscription as pb;
use twotier_proto::subscription::subscription_service_client::SubscriptionServiceClient;
use twotier_subscription::SubscriptionService;
use twotier_testkit::{Bearer, RunningServer, TestDatabase};

pub type Authed = InterceptedService<Channel, Bearer>;

pub const PROVIDER: &str = "contoso";
pub const OTHER_PROVIDER: &str = "northwind";
pub const RESELLER_TENANT: &str = "fabrikam";
pub const RESELLER: &str = "4567890";

pub struct Harness {
    pub partnership: RunningServer,
    pub customer: Option<RunningServer>,
    pub subscription: RunningServer,
    _databases: Vec<TestDatabase>,
}

pub async fn start() -> Harness {
    let partnership_db = TestDatabase::new("partnership").await;
    let partnership =
        twotier_testkit::start_service::<PartnershipService>(&partnership_db, &[]).await;
    let customer_db = TestDatabase::new("customer").await;
    let partnership_endpoint = partnership.endpoint();
    let customer = twotier_testkit::start_service::<CustomerService>(
        &customer_db,
        &[("TWOTIER_PARTNERSHIP_ENDPOINT", &partnership_endpoint)],
    )
    .await;
    let subscription_db = TestDatabase::new("subscription").await;
    let customer_endpoint = customer.endpoint();
    let subscription = twotier_testkit::start_service::<SubscriptionService>(
        &subscription_db,
        &[
            ("TWOTIER_PARTNERSHIP_ENDPOINT", &partnership_endpoint),
            ("TWOTIER_CUSTOMER_ENDPOINT", &customer_endpoint),
        ],
    )
    .await;
    Harness {
        partnership,
        customer: Some(customer),
        subscription,
        _databases: vec![partnership_db, customer_db, subscription_db],
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

pub fn line(offer: &str, quantity: i32, reseller: &str) -> pb::LineItem {
    pb::LineItem {
        line_item_id: String::new(),
        offer: format!("offers/{offer}"),
        quantity,
        term: pb::Term::Annual.into(),
        billing_cycle: pb::BillingCycle::Monthly.into(),
        reseller_partner_id: reseller.into(),
    }
}

impl Harness {
    pub fn subscriptions(&self, token: &str) -> SubscriptionServiceClient<Authed> {
        SubscriptionServiceClient::with_interceptor(self.subscription.channel(), Bearer::new(token))
    }

    fn customers(&self, token: &str) -> CustomerServiceClient<Authed> {
        CustomerServiceClient::with_interceptor(
            self.customer
                .as_ref()
                .expect("customer service runs")
                .channel(),
            Bearer::new(token),
        )
    }

    fn partnerships(&self, token: &str) -> PartnershipServiceClient<Authed> {
        PartnershipServiceClient::with_interceptor(self.partnership.channel(), Bearer::new(token))
    }

    pub async fn onboard(&self, partner_id: &str, tenant: &str, company: &str, mpa_active: bool) {
        twotier_testkit::flows::onboard(
            self.partnership.channel(),
            partner_id,
            tenant,
            company,
            "en",
            mpa_active,
        )
        .await;
    }

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

    /// A customer of `provider` (delegated to `reseller` if not empty), with
    /// or without the customer agreement recorded.
    pub async fn customer(
        &self,
        provider: &str,
        prefix: &str,
        reseller: &str,
        agreement: bool,
    ) -> String {
        let mut client = self.customers(&provider_admin(provider));
        let created = client
            .create_customer(cpb::CreateCustomerRequest {
                parent: format!("providers/{provider}"),
                customer: Some(cpb::Customer {
                    company_name: format!("{prefix} Ltd"),
                    domain_prefix: prefix.into(),
                    address: Some(cpb::Address {
                        address_line1: "1 Main St".into(),
                        city: "Berlin".into(),
                        postal_code: "10115".into(),
                        country_code: "DE".into(),
                        ..Default::default()
                    }),
                    primary_contact: Some(cpb::Contact {
                        first_name: "Pat".into(),
                        last_name: "Lee".into(),
                        email: format!("pat@{prefix}.example"),
                        phone: String::new(),
                    }),
                    indirect_reseller_partner_id: reseller.into(),
                    ..Default::default()
                }),
                validate_only: false,
                request_id: String::new(),
            })
            .await
            .expect("create customer")
            .into_inner();
        let name = created.customer.unwrap().name;
        if agreement {
            client
                .record_customer_agreement(cpb::RecordCustomerAgreementRequest {
                    parent: name.clone(),
                    customer_agreement: Some(cpb::CustomerAgreement {
                        signatory_first_name: "Pat".into(),
                        signatory_last_name: "Lee".into(),
                        signatory_email: format!("pat@{prefix}.example"),
                        date_agreed: "2026-11-01".into(),
                        ..Default::default()
                    }),
                })
                .await
                .expect("record agreement");
        }
        name
    }

    /// A cart for `customer` holding `lines`, attested.
    pub async fn cart(&self, provider: &str, customer: &str, lines: Vec<pb::LineItem>) -> pb::Cart {
        let mut client = self.subscriptions(&provider_admin(provider));
        let cart = client
            .create_cart(pb::CreateCartRequest {
                parent: format!("providers/{provider}"),
                cart: Some(pb::Cart {
                    customer: customer.into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .expect("create cart")
            .into_inner();
        for line in lines {
            client
                .add_line_item(pb::AddLineItemRequest {
                    cart: cart.name.clone(),
                    line_item: Some(line),
                })
                .await
                .expect("add line");
        }
        client
            .attest_indirect_provider(pb::AttestIndirectProviderRequest {
                cart: cart.name.clone(),
                acts_as_indirect_provider: true,
            })
            .await
            .expect("attest")
            .into_inner()
    }

    pub async fn buy(&self, provider: &str, customer: &str, lines: Vec<pb::LineItem>) -> pb::Order {
        let cart = self.cart(provider, customer, lines).await;
        self.subscriptions(&provider_admin(provider))
            .checkout_cart(pb::CheckoutCartRequest {
                cart: cart.name,
                request_id: String::new(),
                etag: String::new(),
            })
            .await
            .expect("checkout")
            .into_inner()
    }

    pub async fn events(&self, at_least: usize) -> Vec<EventEnvelope> {
        let token = twotier_testkit::service_token("test");
        let mut client = EventLogServiceClient::with_interceptor(
            self.subscription.channel(),
            Bearer::new(&token),
        );
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
