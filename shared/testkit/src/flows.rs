//! The partnership steps many tests start from: onboard a reseller, invite
//! it, accept, remove — through the partnership service's gRPC API.

use tonic::transport::Channel;
use twotier_platform::auth::{Bearer, Role};
use twotier_proto::partnership as pb;
use twotier_proto::partnership::partnership_service_client::PartnershipServiceClient;
use twotier_proto::partnership::reseller_service_client::ResellerServiceClient;

/// The platform operator's token.
pub fn operator_token() -> String {
    crate::token("operator", "twotier", &[Role::PlatformOperator])
}

/// A provider admin's token (`alice` of `tenant`).
pub fn provider_token(tenant: &str) -> String {
    crate::token("alice", tenant, &[Role::GlobalAdmin])
}

/// A reseller admin's token (`rita` of `tenant`).
pub fn reseller_token(tenant: &str) -> String {
    crate::token("rita", tenant, &[Role::ResellerAdmin])
}

/// Onboards a location reseller reachable at `admin@<tenant>.example`.
pub async fn onboard(
    partnership: Channel,
    partner_id: &str,
    tenant: &str,
    company: &str,
    language: &str,
    mpa_active: bool,
) -> pb::Reseller {
    ResellerServiceClient::with_interceptor(partnership, Bearer::new(&operator_token()))
        .onboard_reseller(pb::OnboardResellerRequest {
            reseller: Some(pb::Reseller {
                partner_id: partner_id.into(),
                tenant_id: tenant.into(),
                company_name: company.into(),
                contact_email: format!("admin@{tenant}.example"),
                country_code: "DE".into(),
                preferred_language: language.into(),
                account_kind: pb::AccountKind::Location.into(),
                mpa_active,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("onboard reseller")
        .into_inner()
}

/// `provider` invites `admin@<tenant>.example`.
pub async fn invite(
    partnership: Channel,
    provider: &str,
    tenant: &str,
) -> pb::RequestPartnershipResponse {
    PartnershipServiceClient::with_interceptor(partnership, Bearer::new(&provider_token(provider)))
        .request_partnership(pb::RequestPartnershipRequest {
            parent: format!("providers/{provider}"),
            reseller_email: format!("admin@{tenant}.example"),
            language_code: "en".into(),
            request_id: String::new(),
        })
        .await
        .expect("request partnership")
        .into_inner()
}

/// The token of an invitation link.
pub fn token_of(link: &str) -> String {
    link.split("token=")
        .nth(1)
        .expect("link has a token")
        .to_owned()
}

/// The admin of `tenant` accepts `invitation`.
pub async fn accept(
    partnership: Channel,
    tenant: &str,
    invitation: &pb::RequestPartnershipResponse,
) -> pb::Partnership {
    PartnershipServiceClient::with_interceptor(partnership, Bearer::new(&reseller_token(tenant)))
        .accept_invitation(pb::AcceptInvitationRequest {
            token: token_of(&invitation.invitation_link),
        })
        .await
        .expect("accept invitation")
        .into_inner()
}

/// Makes the reseller of `tenant` an active partner of `provider`.
pub async fn partner(partnership: Channel, provider: &str, tenant: &str) -> pb::Partnership {
    let invitation = invite(partnership.clone(), provider, tenant).await;
    accept(partnership, tenant, &invitation).await
}

/// `provider` removes its partnership with `partner_id`, attested.
pub async fn remove_partnership(
    partnership: Channel,
    provider: &str,
    partner_id: &str,
) -> pb::Partnership {
    PartnershipServiceClient::with_interceptor(partnership, Bearer::new(&provider_token(provider)))
        .remove_partnership(pb::RemovePartnershipRequest {
            name: format!("providers/{provider}/indirectResellers/{partner_id}"),
            confirm: true,
            attestation: Some(pb::RemovalAttestation {
                good_faith: true,
                legitimate_business_purpose: true,
                per_agreements: true,
                indemnifies_platform: true,
            }),
            etag: String::new(),
        })
        .await
        .expect("remove partnership")
        .into_inner()
}
