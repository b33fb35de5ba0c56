//! Fixtures of the subscription service's integration tests: the
//! partnership, customer and subscription services on ephemeral ports, each
//! on its own real database (a `twotier_testkit::System`), and the steps
//! most purchase tests start from.

#![allow(dead_code, unused_imports)]

use std::ops::{Deref, DerefMut};

use twotier_proto::events::EventEnvelope;
use twotier_proto::subscription as pb;
pub use twotier_testkit::flows::line;
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

impl DerefMut for Harness {
    fn deref_mut(&mut self) -> &mut System {
        &mut self.system
    }
}

pub async fn start() -> Harness {
    start_with(&[]).await
}

/// The three services, with `extra` variables `(service, key, value)`.
pub async fn start_with(extra: &[(&'static str, &str, &str)]) -> Harness {
    Harness {
        system: System::start(&["partnership", "customer", "subscription"], extra).await,
    }
}

impl Harness {
    pub async fn onboard(&self, partner_id: &str, tenant: &str, company: &str, mpa_active: bool) {
        flows::onboard(
            self.channel("partnership"),
            partner_id,
            tenant,
            company,
            "en",
            mpa_active,
        )
        .await;
    }

    pub async fn partner(&self, provider: &str, tenant: &str) {
        flows::partner(self.channel("partnership"), provider, tenant).await;
    }

    pub async fn remove_partnership(&self, provider: &str, partner_id: &str) {
        flows::remove_partnership(self.channel("partnership"), provider, partner_id).await;
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
        flows::customer(
            self.channel("customer"),
            provider,
            prefix,
            reseller,
            agreement,
        )
        .await
    }

    /// A cart for `customer` holding `lines`, attested.
    pub async fn cart(&self, provider: &str, customer: &str, lines: Vec<pb::LineItem>) -> pb::Cart {
        flows::cart(self.channel("subscription"), provider, customer, lines).await
    }

    pub async fn buy(&self, provider: &str, customer: &str, lines: Vec<pb::LineItem>) -> pb::Order {
        flows::buy(self.channel("subscription"), provider, customer, lines).await
    }

    /// Fabrikam onboarded and partnered, Adatum delegated to it with its
    /// agreement, and 10 licences of Business Basic bought for Adatum with
    /// Fabrikam as reseller of record: the customer and the subscription.
    pub async fn bought_with_reseller(&self) -> (String, pb::Subscription) {
        self.onboard(RESELLER, RESELLER_TENANT, "Fabrikam", true)
            .await;
        self.partner(PROVIDER, RESELLER_TENANT).await;
        let customer = self.customer(PROVIDER, "adatum", RESELLER, true).await;
        let order = self
            .buy(
                PROVIDER,
                &customer,
                vec![line("m365-business-basic", 10, RESELLER)],
            )
            .await;
        let subscription = self
            .subscriptions(&provider_admin(PROVIDER))
            .get_subscription(pb::GetSubscriptionRequest {
                name: order.lines[0].subscription.clone(),
            })
            .await
            .expect("the subscription bought")
            .into_inner();
        (customer, subscription)
    }

    pub async fn events(&self, at_least: usize) -> Vec<EventEnvelope> {
        self.system.events("subscription", at_least).await
    }
}
