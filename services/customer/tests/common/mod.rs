//! Fixtures of the customer service's integration tests: the partnership
//! and customer services on ephemeral ports, each on its own real database
//! (a `twotier_testkit::System`), and customer requests to send.

#![allow(dead_code, unused_imports)]

use std::ops::Deref;

use twotier_platform::auth::Role;
use twotier_proto::customer as pb;
use twotier_proto::events::EventEnvelope;
pub use twotier_testkit::system::Authed;
use twotier_testkit::{System, flows};
pub use twotier_testkit::{operator, provider_admin, reseller_admin};

pub const PROVIDER: &str = "contoso";
pub const OTHER_PROVIDER: &str = "northwind";
pub const RESELLER_TENANT: &str = "fabrikam";
pub const RESELLER: &str = "4567890";

pub struct Harness {
    pub system: System,
}

impl Deref for Harness {
    type Target = System;

    fn deref(&self) -> &System {
        &self.system
    }
}

pub async fn start() -> Harness {
    Harness {
        system: System::start(&["partnership", "customer"], &[]).await,
    }
}

/// The partnership and customer services, the customer service with
/// `extra` settings.
pub async fn start_with(extra: &[(&str, &str)]) -> Harness {
    let extra: Vec<_> = extra.iter().map(|(k, v)| ("customer", *k, *v)).collect();
    Harness {
        system: System::start(&["partnership", "customer"], &extra).await,
    }
}

/// An admin's token of the customer with initial domain `domain` (`carla`).
pub fn customer_admin(domain: &str) -> String {
    twotier_testkit::token("carla", domain, &[Role::CustomerAdmin])
}

/// `provider` asks for a relationship of `customer` with `partner_id`.
pub fn relationship(customer: &str, partner_id: &str) -> pb::RequestResellerRelationshipRequest {
    pb::RequestResellerRelationshipRequest {
        parent: customer.into(),
        partner_id: partner_id.into(),
        ..Default::default()
    }
}

/// The token of a relationship link.
pub fn token_of(response: &pb::RequestResellerRelationshipResponse) -> String {
    twotier_testkit::flows::token_of(&response.relationship_link)
}

/// Accepting with `token`.
pub fn accept(token: &str) -> pb::AcceptResellerRelationshipRequest {
    pb::AcceptResellerRelationshipRequest {
        token: token.into(),
    }
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
    pub async fn onboard(&self, partner_id: &str, tenant: &str, company: &str) {
        flows::onboard(
            self.channel("partnership"),
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
        flows::partner(self.channel("partnership"), provider, tenant).await;
    }

    /// A customer of `provider` with domain prefix `prefix`, delegated to
    /// `reseller` unless it is empty.
    pub async fn customer(&self, provider: &str, prefix: &str, reseller: &str) -> pb::Customer {
        self.customers(&provider_admin(provider))
            .create_customer(create(provider, new_customer(prefix, prefix, reseller)))
            .await
            .expect("create customer")
            .into_inner()
            .customer
            .expect("customer")
    }

    /// `provider` asks the admin of `customer` for a relationship with
    /// `partner_id` (R22).
    pub async fn ask(
        &self,
        provider: &str,
        customer: &str,
        partner_id: &str,
    ) -> pb::RequestResellerRelationshipResponse {
        self.customers(&provider_admin(provider))
            .request_reseller_relationship(relationship(customer, partner_id))
            .await
            .expect("request a reseller relationship")
            .into_inner()
    }

    pub async fn remove_partnership(&self, provider: &str, partner_id: &str) {
        flows::remove_partnership(self.channel("partnership"), provider, partner_id).await;
    }

    /// Every event the customer service has logged, waiting for at least
    /// `at_least`.
    pub async fn events(&self, at_least: usize) -> Vec<EventEnvelope> {
        self.system.events("customer", at_least).await
    }
}

/// A started system with Fabrikam partnered with Contoso and Adatum, a
/// customer of Contoso without a reseller.
pub async fn partnered_with_customer(h: &Harness) -> pb::Customer {
    h.onboard(RESELLER, RESELLER_TENANT, "Fabrikam").await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    h.customer(PROVIDER, "adatum", "").await
}
