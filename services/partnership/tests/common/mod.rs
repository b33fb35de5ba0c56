//! Fixtures of the partnership service's integration tests: a real server
//! on an ephemeral port over a real database, generated clients, tokens.

#![allow(dead_code)]

use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use twotier_partnership::PartnershipService;
use twotier_platform::auth::Role;
use twotier_proto::events::event_log_service_client::EventLogServiceClient;
use twotier_proto::events::{EventEnvelope, SubscribeRequest};
use twotier_proto::partnership as pb;
use twotier_proto::partnership::partnership_service_client::PartnershipServiceClient;
use twotier_proto::partnership::provider_listing_service_client::ProviderListingServiceClient;
use twotier_proto::partnership::reseller_service_client::ResellerServiceClient;
use twotier_testkit::{Bearer, RunningServer, TestDatabase};

pub type Authed = InterceptedService<Channel, Bearer>;

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

pub fn operator() -> String {
    twotier_testkit::token("operator", "twotier", &[Role::PlatformOperator])
}

pub fn provider_admin(tenant: &str) -> String {
    twotier_testkit::token("alice", tenant, &[Role::GlobalAdmin])
}

pub fn sales_agent(tenant: &str) -> String {
    twotier_testkit::token("sam", tenant, &[Role::SalesAgent])
}

pub fn reseller_admin(tenant: &str) -> String {
    twotier_testkit::token("rita", tenant, &[Role::ResellerAdmin])
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
        self.resellers(&operator())
            .onboard_reseller(pb::OnboardResellerRequest {
                reseller: Some(pb::Reseller {
                    partner_id: partner_id.into(),
                    tenant_id: tenant.into(),
                    company_name: company.into(),
                    contact_email: format!("admin@{tenant}.example"),
                    country_code: "DE".into(),
                    preferred_language: "de".into(),
                    account_kind: kind.into(),
                    mpa_active,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .expect("onboard reseller")
            .into_inner()
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
        let invitation = self
            .invite(provider, &format!("admin@{tenant}.example"))
            .await;
        self.partnerships(&reseller_admin(tenant))
            .accept_invitation(pb::AcceptInvitationRequest {
                token: token_of(&invitation.invitation_link),
            })
            .await
            .expect("accept")
            .into_inner()
    }

    /// Every event of the service's log so far (waits until at least
    /// `at_least` are there).
    pub async fn events(&self, at_least: usize) -> Vec<EventEnvelope> {
        let token = twotier_testkit::service_token("test");
        let mut client =
            EventLogServiceClient::with_interceptor(self.server.channel(), Bearer::new(&token));
        let mut stream = client
            .subscribe(SubscribeRequest {
                after_position: 0,
                event_types: vec![],
            })
            .await
            .expect("subscribe")
            .into_inner();
        let mut events = Vec::new();
        let deadline = std::time::Duration::from_secs(30);
        while events.len() < at_least {
            let next = tokio::time::timeout(deadline, stream.message())
                .await
                .expect("events arrive in time");
            events.push(next.expect("stream").expect("open stream"));
        }
        // Whatever else is already sequenced.
        while let Ok(Ok(Some(event))) =
            tokio::time::timeout(std::time::Duration::from_millis(300), stream.message()).await
        {
            events.push(event);
        }
        events
    }
}

pub fn token_of(link: &str) -> String {
    link.split("token=")
        .nth(1)
        .expect("link has a token")
        .to_owned()
}

pub fn event_types(events: &[EventEnvelope]) -> Vec<String> {
    events.iter().map(|e| e.event_type.clone()).collect()
}
