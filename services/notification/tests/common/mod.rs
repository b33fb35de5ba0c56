//! Fixtures of the notification service's integration tests: all four
//! services on ephemeral ports over real databases (a
//! `twotier_testkit::System`), a real SMTP server, and the steps that
//! cause each email.

#![allow(dead_code, unused_imports)]

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use twotier_proto::customer as cpb;
use twotier_proto::notification as pb;
use twotier_proto::partnership as ppb;
use twotier_proto::partnership::partnership_service_client::PartnershipServiceClient;
use twotier_proto::partnership::provider_listing_service_client::ProviderListingServiceClient;
use twotier_proto::subscription as spb;
use twotier_proto::subscription::subscription_service_client::SubscriptionServiceClient;
pub use twotier_testkit::operator;
use twotier_testkit::smtp::Email;
use twotier_testkit::system::Authed;
use twotier_testkit::{Bearer, SmtpSink, System, TestDatabase, flows};

pub const PROVIDER: &str = "contoso";
pub const RESELLER_TENANT: &str = "fabrikam";
pub const RESELLER: &str = "4567890";
pub const DEADLINE: Duration = Duration::from_secs(60);

pub struct Harness {
    pub system: System,
    pub smtp_port: u16,
}

impl Deref for Harness {
    type Target = System;

    fn deref(&self) -> &System {
        &self.system
    }
}

impl DerefMut for Harness {
    fn deref_mut(&mut self) -> &mut System {
        &mut self.system
    }
}

/// The four services, the notification service sending to SMTP on
/// `smtp_port`.
pub async fn start(smtp_port: u16) -> Harness {
    let port = smtp_port.to_string();
    let system = System::all(&twotier_testkit::smtp::notification_env(&port)).await;
    Harness { system, smtp_port }
}

pub use twotier_testkit::free_port;

pub fn provider_admin() -> String {
    twotier_testkit::provider_admin(PROVIDER)
}

pub fn reseller_admin() -> String {
    twotier_testkit::reseller_admin(RESELLER_TENANT)
}

/// Waits until `sink` has received `count` emails and returns them.
pub async fn wait_for_emails(sink: &SmtpSink, count: usize) -> Vec<Email> {
    twotier_testkit::smtp::wait_for_emails(sink, count, DEADLINE).await
}

impl Harness {
    pub fn notification_db(&self) -> &TestDatabase {
        self.db("notification")
    }

    pub async fn start_notification(&mut self) {
        self.system.restart("notification").await;
    }

    pub async fn stop_notification(&mut self) {
        self.system.stop("notification").await;
    }

    pub fn partnerships(&self) -> PartnershipServiceClient<Authed> {
        self.system.partnerships(&provider_admin())
    }

    pub fn customers(
        &self,
    ) -> twotier_proto::customer::customer_service_client::CustomerServiceClient<Authed> {
        self.system.customers(&provider_admin())
    }

    pub fn subscriptions(&self) -> SubscriptionServiceClient<Authed> {
        self.system.subscriptions(&provider_admin())
    }

    /// Lists Contoso with `language`.
    pub async fn list_provider(&self, language: &str) {
        flows::list_provider(
            self.channel("partnership"),
            PROVIDER,
            "Contoso Distribution",
            language,
        )
        .await;
    }

    /// Onboards Fabrikam, preferring `language`.
    pub async fn onboard(&self, language: &str) {
        flows::onboard(
            self.channel("partnership"),
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
        flows::accept(self.channel("partnership"), RESELLER_TENANT, invitation).await;
    }

    pub async fn remove_partnership(&self) {
        flows::remove_partnership(self.channel("partnership"), PROVIDER, RESELLER).await;
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
        flows::buy(
            self.channel("subscription"),
            PROVIDER,
            customer,
            vec![flows::line("m365-business-premium", 12, RESELLER)],
        )
        .await
    }

    /// Fabrikam (English) partnered with Contoso, Adatum created for it,
    /// and an order with Fabrikam as reseller of record: four emails.
    pub async fn ordered_through_reseller(&self) -> spb::Order {
        self.onboard("en").await;
        let invitation = self.invite().await;
        self.accept(&invitation).await;
        let customer = self.customer_for_reseller().await;
        self.order(&customer).await
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
