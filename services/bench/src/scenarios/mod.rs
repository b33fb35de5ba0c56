//! The operations measured, each with the data it needs set up first.

use std::sync::Arc;
use std::time::Duration;

use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use twotier_platform::auth::{Bearer, Role};
use twotier_proto::customer::customer_service_client::CustomerServiceClient;
use twotier_proto::partnership as ppb;
use twotier_proto::partnership::partnership_service_client::PartnershipServiceClient;
use twotier_proto::partnership::reseller_service_client::ResellerServiceClient;
use twotier_proto::subscription::subscription_service_client::SubscriptionServiceClient;

use super::system::System;

type Authed = InterceptedService<Channel, Bearer>;
type Error = Box<dyn std::error::Error + Send + Sync>;

mod email;
mod latency;
mod overload;
mod reads;
mod writes;

pub use email::{EmailStep, Handover, email_throughput};
pub use latency::event_latency;
pub use overload::overload;
pub use reads::{list, partnership_read, seed_partnerships};
pub use writes::{accept, checkout, create_customer};

pub use writes::customer;
use writes::{checkout_request, prepare_carts, prepare_invitations};

pub const PROVIDER: &str = "bench-provider";

/// Clients of the system, as the provider, the operator and resellers.
#[derive(Clone)]
pub struct Clients {
    pub provider_partnerships: PartnershipServiceClient<Authed>,
    pub operator_resellers: ResellerServiceClient<Authed>,
    pub customers: CustomerServiceClient<Authed>,
    pub subscriptions: SubscriptionServiceClient<Authed>,
    partnership_channel: Channel,
    system_tokens: Arc<dyn Fn(&str) -> String + Send + Sync>,
}

impl Clients {
    pub fn new(system: &System) -> Self {
        let provider = Bearer::new(&system.token("bench", PROVIDER, &[Role::GlobalAdmin]));
        let operator = Bearer::new(&system.token("operator", "twotier", &[Role::PlatformOperator]));
        let minter = system.identity.dev_minter.clone();
        Self {
            provider_partnerships: PartnershipServiceClient::with_interceptor(
                System::channel(system.partnership),
                provider.clone(),
            ),
            operator_resellers: ResellerServiceClient::with_interceptor(
                System::channel(system.partnership),
                operator,
            ),
            customers: CustomerServiceClient::with_interceptor(
                System::channel(system.customer),
                provider.clone(),
            ),
            subscriptions: SubscriptionServiceClient::with_interceptor(
                System::channel(system.subscription),
                provider,
            ),
            partnership_channel: System::channel(system.partnership),
            system_tokens: Arc::new(move |tenant: &str| {
                minter
                    .as_ref()
                    .and_then(|m| {
                        m.mint(
                            "rita",
                            tenant,
                            &[Role::ResellerAdmin],
                            None,
                            Duration::from_secs(3600),
                        )
                        .ok()
                    })
                    .unwrap_or_default()
            }),
        }
    }

    /// A partnership client acting as the admin of reseller `tenant`.
    pub fn reseller(&self, tenant: &str) -> PartnershipServiceClient<Authed> {
        PartnershipServiceClient::with_interceptor(
            self.partnership_channel.clone(),
            Bearer::new(&(self.system_tokens)(tenant)),
        )
    }
}

fn status(error: tonic::Status) -> String {
    format!("{:?}: {}", error.code(), error.message())
}

/// Onboards reseller `n` and returns an invitation token for it.
pub async fn invitation_for(
    clients: &Clients,
    n: usize,
    series: &str,
) -> Result<(String, String), Error> {
    let tenant = format!("{series}-{n}");
    let mut resellers = clients.operator_resellers.clone();
    resellers
        .onboard_reseller(ppb::OnboardResellerRequest {
            request_id: String::new(),
            reseller: Some(ppb::Reseller {
                partner_id: format!("{}", partner_base(series) + n),
                tenant_id: tenant.clone(),
                company_name: format!("{series} reseller {n}"),
                contact_email: format!("admin@{tenant}.example"),
                country_code: "DE".into(),
                preferred_language: "en".into(),
                account_kind: ppb::AccountKind::Location.into(),
                mpa_active: true,
                ..Default::default()
            }),
        })
        .await?;
    let mut partnerships = clients.provider_partnerships.clone();
    let invitation = partnerships
        .request_partnership(ppb::RequestPartnershipRequest {
            parent: format!("providers/{PROVIDER}"),
            reseller_email: format!("admin@{tenant}.example"),
            language_code: "en".into(),
            request_id: String::new(),
        })
        .await?
        .into_inner();
    let token = invitation
        .invitation_link
        .split("token=")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    Ok((tenant, token))
}

fn partner_base(series: &str) -> usize {
    match series {
        "read" => 3_100_000,
        "accept" => 3_200_000,
        "mail-reseller" => 3_400_000,
        "mail-accept" => 3_500_000,
        _ => 3_300_000,
    }
}
