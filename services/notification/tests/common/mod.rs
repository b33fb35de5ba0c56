//! Fixtures of the notification service's integration tests: all four
//! services on ephemeral ports over real databases, and a real SMTP server.

#![allow(dead_code)]

use std::time::Duration;

use mail_parser::MessageParser;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use twotier_customer::CustomerService;
use twotier_notification::NotificationService;
use twotier_partnership::PartnershipService;
use twotier_platform::auth::Role;
use twotier_proto::customer as cpb;
use twotier_proto::customer::customer_service_client::CustomerServiceClient;
use twotier_proto::notification as pb;
use twotier_proto::notification::notification_service_client::NotificationServiceClient;
use twotier_proto::partnership as ppb;
use twotier_proto::partnership::partnership_service_client::PartnershipServiceClient;
use twotier_proto::partnership::provider_listing_service_client::ProviderListingServiceClient;
use twotier_proto::subscription as spb;
use twotier_proto::subscription::subscription_service_client::SubscriptionServiceClient;
use twotier_subscription::SubscriptionService;
use twotier_testkit::{Bearer, RunningServer, SmtpSink, TestDatabase};

pub type Authed = InterceptedService<Channel, Bearer>;

pub const PROVIDER: &str = "contoso";
pub const RESELLER_TENANT: &str = "fabrikam";
pub const RESELLER: &str = "4567890";
pub const DEADLINE: Duration = Duration::from_secs(60);

/// One received email, parsed.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
    pub message_id: String,
}

pub struct Harness {
    pub partnership: RunningServer,
    pub customer: RunningServer,
    pub subscription: RunningServer,
    pub notification: Option<RunningServer>,
    pub notification_db: TestDatabase,
    pub smtp_port: u16,
    notification_env: Vec<(String, String)>,
    _databases: Vec<TestDatabase>,
}

/// The four services, the notification service sending to SMTP on
/// `smtp_port`.
pub async fn start(smtp_port: u16) -> Harness {
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
    let notification_env = vec![
        ("TWOTIER_PARTNERSHIP_ENDPOINT".to_owned(), p),
        ("TWOTIER_CUSTOMER_ENDPOINT".to_owned(), c),
        ("TWOTIER_SUBSCRIPTION_ENDPOINT".to_owned(), s),
        ("TWOTIER_SMTP_HOST".to_owned(), "127.0.0.1".to_owned()),
        ("TWOTIER_SMTP_PORT".to_owned(), smtp_port.to_string()),
        ("TWOTIER_SMTP_TLS".to_owned(), "none".to_owned()),
        (
            "TWOTIER_MAIL_RETRY_MAX_BACKOFF".to_owned(),
            "300ms".to_owned(),
        ),
        ("TWOTIER_MAIL_POLL_INTERVAL".to_owned(), "100ms".to_owned()),
    ];
    let mut harness = Harness {
        partnership,
        customer,
        subscription,
        notification: None,
        notification_db,
        smtp_port,
        notification_env,
        _databases: vec![partnership_db, customer_db, subscription_db],
    };
    harness.start_notification().await;
    harness
}

/// A port nothing listens on yet.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn operator() -> String {
    twotier_testkit::token("operator", "twotier", &[Role::PlatformOperator])
}

pub fn provider_admin() -> String {
    twotier_testkit::token("alice", PROVIDER, &[Role::GlobalAdmin])
}

pub fn reseller_admin() -> String {
    twotier_testkit::token("rita", RESELLER_TENANT, &[Role::ResellerAdmin])
}

/// Parses the raw messages a sink received.
pub fn parse(raw: &[Vec<u8>]) -> Vec<Email> {
    raw.iter()
        .map(|bytes| {
            let message = MessageParser::default()
                .parse(bytes)
                .expect("a parsable message");
            let to = message
                .to()
                .and_then(|to| to.first())
                .and_then(|address| address.address())
                .unwrap_or_default()
                .to_owned();
            Email {
                to,
                subject: message.subject().unwrap_or_default().to_owned(),
                body: message
                    .body_text(0)
                    .map(|body| body.into_owned())
                    .unwrap_or_default(),
                message_id: message.message_id().unwrap_or_default().to_owned(),
            }
        })
        .collect()
}

/// Waits until `sink` has received `count` emails and returns them.
pub async fn wait_for_emails(sink: &SmtpSink, count: usize) -> Vec<Email> {
    twotier_testkit::wait_until(&format!("{count} emails"), DEADLINE, || async {
        sink.messages().len() >= count
    })
    .await;
    parse(&sink.messages())
}

impl Harness {
    pub async fn start_notification(&mut self) {
        let extra: Vec<(&str, &str)> = self
            .notification_env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.notification = Some(
            twotier_testkit::start_service::<NotificationService>(&self.notification_db, &extra)
                .await,
        );
    }

    pub async fn stop_notification(&mut self) {
        if let Some(server) = self.notification.take() {
            server.stop().await;
        }
    }

    pub fn notifications(&self, token: &str) -> NotificationServiceClient<Authed> {
        NotificationServiceClient::with_interceptor(
            self.notification.as_ref().expect("running").channel(),
            Bearer::new(token),
        )
    }

    pub fn partnerships(&self) -> PartnershipServiceClient<Authed> {
        PartnershipServiceClient::with_interceptor(
            self.partnership.channel(),
            Bearer::new(&provider_admin()),
        )
    }

    pub fn customers(&self) -> CustomerServiceClient<Authed> {
        CustomerServiceClient::with_interceptor(
            self.customer.channel(),
            Bearer::new(&provider_admin()),
        )
    }

    pub fn subscriptions(&self) -> SubscriptionServiceClient<Authed> {
        SubscriptionServiceClient::with_interceptor(
            self.subscription.channel(),
            Bearer::new(&provider_admin()),
        )
    }

    /// Lists Contoso with `language`.
    pub async fn list_provider(&self, language: &str) {
        ProviderListingServiceClient::with_interceptor(
            self.partnership.channel(),
            Bearer::new(&operator()),
        )
        .create_provider_listing(ppb::CreateProviderListingRequest {
            provider_id: PROVIDER.into(),
            provider_listing: Some(ppb::ProviderListing {
                display_name: "Contoso Distribution".into(),
                markets: vec!["DE".into()],
                contact_email: "partners@contoso.example".into(),
                preferred_language: language.into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("listing");
    }

    /// Onboards Fabrikam, preferring `language`.
    pub async fn onboard(&self, language: &str) {
        twotier_testkit::flows::onboard(
            self.partnership.channel(),
            RESELLER,
            RESELLER_TENANT,
            "Fabrikam GmbH",
            language,
            true,
        )
        .await;
    }

    pub async fn invite(&self) -> ppb::RequestPartnershipResponse {
        self.partnerships()
            .request_partnership(ppb::RequestPartnershipRequest {
                parent: format!("providers/{PROVIDER}"),
                reseller_email: "admin@fabrikam.example".into(),
                language_code: "en".into(),
                request_id: String::new(),
            })
            .await
            .expect("invite")
            .into_inner()
    }

    pub async fn accept(&self, invitation: &ppb::RequestPartnershipResponse) {
        twotier_testkit::flows::accept(self.partnership.channel(), RESELLER_TENANT, invitation)
            .await;
    }

    pub async fn remove_partnership(&self) {
        twotier_testkit::flows::remove_partnership(self.partnership.channel(), PROVIDER, RESELLER)
            .await;
    }

    /// Creates a customer for Fabrikam with its agreement recorded.
    pub async fn customer_for_reseller(&self) -> String {
        let mut client = self.customers();
        let name = client
            .create_customer(cpb::CreateCustomerRequest {
                parent: format!("providers/{PROVIDER}"),
                customer: Some(cpb::Customer {
                    company_name: "Adatum AG".into(),
                    domain_prefix: "adatum".into(),
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
                        email: "pat@adatum.example".into(),
                        phone: String::new(),
                    }),
                    indirect_reseller_partner_id: RESELLER.into(),
                    ..Default::default()
                }),
                validate_only: false,
                request_id: String::new(),
            })
            .await
            .expect("customer")
            .into_inner()
            .customer
            .unwrap()
            .name;
        client
            .record_customer_agreement(cpb::RecordCustomerAgreementRequest {
                parent: name.clone(),
                customer_agreement: Some(cpb::CustomerAgreement {
                    signatory_first_name: "Pat".into(),
                    signatory_last_name: "Lee".into(),
                    signatory_email: "pat@adatum.example".into(),
                    date_agreed: "2026-11-01".into(),
                    ..Default::default()
                }),
            })
            .await
            .expect("agreement");
        name
    }

    /// Buys Business Premium with Fabrikam as reseller of record.
    pub async fn order(&self, customer: &str) -> spb::Order {
        let mut client = self.subscriptions();
        let cart = client
            .create_cart(spb::CreateCartRequest {
                parent: format!("providers/{PROVIDER}"),
                cart: Some(spb::Cart {
                    customer: customer.into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .expect("cart")
            .into_inner();
        client
            .add_line_item(spb::AddLineItemRequest {
                cart: cart.name.clone(),
                line_item: Some(spb::LineItem {
                    offer: "offers/m365-business-premium".into(),
                    quantity: 12,
                    term: spb::Term::Annual.into(),
                    billing_cycle: spb::BillingCycle::Monthly.into(),
                    reseller_partner_id: RESELLER.into(),
                    ..Default::default()
                }),
            })
            .await
            .expect("line");
        client
            .attest_indirect_provider(spb::AttestIndirectProviderRequest {
                cart: cart.name.clone(),
                acts_as_indirect_provider: true,
            })
            .await
            .expect("attest");
        client
            .checkout_cart(spb::CheckoutCartRequest {
                cart: cart.name,
                request_id: String::new(),
                etag: String::new(),
            })
            .await
            .expect("checkout")
            .into_inner()
    }

    /// Every notification, as the operator sees them.
    pub async fn all_notifications(&self) -> Vec<pb::Notification> {
        self.notifications(&operator())
            .list_notifications(pb::ListNotificationsRequest {
                page_size: 500,
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner()
            .notifications
    }
}
