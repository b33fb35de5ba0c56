//! Fixtures of the partnership service's integration tests: the service on
//! an ephemeral port over a real database, generated clients, and the
//! steps most tests start from (all from `twotier_testkit`).

#![allow(dead_code, unused_imports)]

mod requests;

pub use requests::{full_attestation, list, remove};
use twotier_partnership::PartnershipService;
use twotier_proto::events::EventEnvelope;
use twotier_proto::partnership as pb;
use twotier_proto::partnership::partnership_service_client::PartnershipServiceClient;
use twotier_proto::partnership::provider_listing_service_client::ProviderListingServiceClient;
use twotier_proto::partnership::reseller_service_client::ResellerServiceClient;
pub use twotier_testkit::flows::token_of;
pub use twotier_testkit::log::event_types;
pub use twotier_testkit::system::Authed;
use twotier_testkit::{Bearer, RunningServer, TestDatabase, flows};
pub use twotier_testkit::{operator, provider_admin, reseller_admin, sales_agent};

pub const PROVIDER: &str = "contoso";
pub const OTHER_PROVIDER: &str = "northwind";
pub const RESELLER_TENANT: &str = "fabrikam";
pub const RESELLER_PARTNER_ID: &str = "4567890";

pub struct Harness {
    pub server: RunningServer,
    pub db: TestDatabase,
}

pub async fn start() -> Harness {
    start_with(&[]).await
}

pub async fn start_with(extra: &[(&str, &str)]) -> Harness {
    let db = TestDatabase::new("partnership").await;
    let server = twotier_testkit::start_service::<PartnershipService>(&db, extra).await;
    Harness { server, db }
}

impl Harness {
    pub fn listings(&self, token: &str) -> ProviderListingServiceClient<Authed> {
        ProviderListingServiceClient::with_interceptor(self.server.channel(), Bearer::new(token))
    }

    pub fn resellers(&self, token: &str) -> ResellerServiceClient<Authed> {
        ResellerServiceClient::with_interceptor(self.server.channel(), Bearer::new(token))
    }

    pub fn partnerships(&self, token: &str) -> PartnershipServiceClient<Authed> {
        PartnershipServiceClient::with_interceptor(self.server.channel(), Bearer::new(token))
    }

    pub fn partnerships_with(&self, bearer: Bearer) -> PartnershipServiceClient<Authed> {
        PartnershipServiceClient::with_interceptor(self.server.channel(), bearer)
    }

    /// Onboards a location reseller with an active MPA.
    pub async fn onboard(&self, partner_id: &str, tenant: &str, company: &str) -> pb::Reseller {
        self.onboard_with(partner_id, tenant, company, pb::AccountKind::Location, true)
            .await
    }

    pub async fn onboard_with(
        &self,
        partner_id: &str,
        tenant: &str,
        company: &str,
        kind: pb::AccountKind,
        mpa_active: bool,
    ) -> pb::Reseller {
        flows::onboard_kind(
            self.server.channel(),
            partner_id,
            tenant,
            company,
            "de",
            kind,
            mpa_active,
        )
        .await
    }

    pub async fn invite(&self, provider: &str, email: &str) -> pb::RequestPartnershipResponse {
        self.partnerships(&provider_admin(provider))
            .request_partnership(pb::RequestPartnershipRequest {
                parent: format!("providers/{provider}"),
                reseller_email: email.into(),
                language_code: "en".into(),
                request_id: String::new(),
            })
            .await
            .expect("request partnership")
            .into_inner()
    }

    /// Invites the reseller of `tenant` and accepts as its admin.
    pub async fn partner(&self, provider: &str, tenant: &str) -> pb::Partnership {
        flows::partner(self.server.channel(), provider, tenant).await
    }

    /// Every event of the service's log so far (waits until at least
    /// `at_least` are there).
    pub async fn events(&self, at_least: usize) -> Vec<EventEnvelope> {
        twotier_testkit::log::events(self.server.channel(), at_least).await
    }
}
