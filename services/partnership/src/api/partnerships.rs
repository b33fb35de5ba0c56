//! `PartnershipService` (R4-R8).

use tonic::{Request, Response, Status};
use twotier_platform::auth::{Caller, Role};
use twotier_platform::idempotency::IdempotencyKey;
use twotier_platform::{Error, Violations, names, paging, validate};
use twotier_proto::partnership as pb;
use twotier_proto::partnership::partnership_service_server::PartnershipService;

use super::Api;
use crate::domain::Attestation;
use crate::domain::invitation::{InvitationEmail, InvitationRequest};
use twotier_platform::validate::language_or_default;

const PROVIDER: [&str; 2] = ["providers", "*"];
const INVITATION: [&str; 4] = ["providers", "*", "invitations", "*"];
const PARTNERSHIP: [&str; 4] = ["providers", "*", "partnerships", "*"];
const INDIRECT_RESELLER: [&str; 4] = ["providers", "*", "indirectResellers", "*"];

/// The caller, which must be a provider user.
fn provider<T>(request: &Request<T>) -> Result<Caller, Error> {
    let caller = Caller::of(request)?;
    caller.require_provider()?;
    Ok(caller.clone())
}

#[tonic::async_trait]
impl PartnershipService for Api {
    async fn request_partnership(
        &self,
        request: Request<pb::RequestPartnershipRequest>,
    ) -> Result<Response<pb::RequestPartnershipResponse>, Status> {
        let caller = provider(&request)?;
        let request = request.into_inner();
        let [provider_id] = names::require(&request.parent, &PROVIDER, "parent")?;
        let language = language_or_default(&request.language_code);
        let mut violations = Violations::new();
        violations.check("reseller_email", validate::email(&request.reseller_email));
        violations.check("language_code", validate::language(&language));
        violations.check("request_id", validate::request_id(&request.request_id));
        violations.into_result("INVALID_INVITATION")?;
        caller.require_own_provider(provider_id)?;
        let key = IdempotencyKey::new(
            "partnership.RequestPartnership",
            &caller.tenant_id,
            &request.request_id,
            &request,
        );
        let invitation = InvitationRequest {
            provider_id: provider_id.to_owned(),
            reseller_email: request.reseller_email,
            language_code: language,
        };
        Ok(Response::new(
            self.domain
                .request_partnership(&caller, invitation, key)
                .await?,
        ))
    }

    async fn send_invitation_email(
        &self,
        request: Request<pb::SendInvitationEmailRequest>,
    ) -> Result<Response<pb::SendInvitationEmailResponse>, Status> {
        let caller = provider(&request)?;
        let request = request.into_inner();
        let [provider_id, invitation_id] =
            names::require(&request.invitation, &INVITATION, "invitation")?;
        let mut violations = Violations::new();
        if !request.subject.is_empty() {
            violations.check("subject", validate::line(&request.subject, 1, 200));
        }
        violations.check("body", validate::text(&request.body, 1, 20_000));
        violations.check("request_id", validate::request_id(&request.request_id));
        violations.into_result("INVALID_INVITATION_EMAIL")?;
        caller.require_own_provider(provider_id)?;
        let key = IdempotencyKey::new(
            "partnership.SendInvitationEmail",
            &caller.tenant_id,
            &request.request_id,
            &request,
        );
        let email = InvitationEmail {
            provider_id: provider_id.to_owned(),
            invitation_id: invitation_id.to_owned(),
            subject: request.subject,
            body: request.body,
        };
        Ok(Response::new(
            self.domain.send_invitation_email(email, key).await?,
        ))
    }

    async fn get_invitation(
        &self,
        request: Request<pb::GetInvitationRequest>,
    ) -> Result<Response<pb::Invitation>, Status> {
        let caller = provider(&request)?;
        let [provider_id, invitation_id] =
            names::require(&request.get_ref().name, &INVITATION, "name")?;
        caller.require_own_provider(provider_id)?;
        Ok(Response::new(
            self.domain
                .get_invitation(provider_id, invitation_id)
                .await?,
        ))
    }

    async fn list_invitations(
        &self,
        request: Request<pb::ListInvitationsRequest>,
    ) -> Result<Response<pb::ListInvitationsResponse>, Status> {
        let caller = provider(&request)?;
        let request = request.into_inner();
        let [provider_id] = names::require(&request.parent, &PROVIDER, "parent")?;
        let page_size = paging::page_size(request.page_size)?;
        caller.require_own_provider(provider_id)?;
        let (invitations, next_page_token) = self
            .pages
            .list::<pb::ListInvitationsRequest>(&caller.tenant_id)
            .serve(&request.page_token, async |token| {
                self.domain
                    .list_invitations(provider_id, page_size, token)
                    .await
            })
            .await?;
        Ok(Response::new(pb::ListInvitationsResponse {
            invitations,
            next_page_token,
        }))
    }

    async fn revoke_invitation(
        &self,
        request: Request<pb::RevokeInvitationRequest>,
    ) -> Result<Response<pb::Invitation>, Status> {
        let caller = provider(&request)?;
        let [provider_id, invitation_id] =
            names::require(&request.get_ref().name, &INVITATION, "name")?;
        caller.require_own_provider(provider_id)?;
        Ok(Response::new(
            self.domain
                .revoke_invitation(provider_id, invitation_id)
                .await?,
        ))
    }

    async fn accept_invitation(
        &self,
        request: Request<pb::AcceptInvitationRequest>,
    ) -> Result<Response<pb::Partnership>, Status> {
        let caller = Caller::of(&request)?.clone();
        caller.require_any(&[Role::ResellerAdmin])?;
        let token = request.get_ref().token.trim();
        if token.is_empty() || token.len() > 128 {
            return Err(Error::invalid_field(
                "INVALID_TOKEN_FORMAT",
                "token",
                "must be the token from the invitation link",
            )
            .into());
        }
        Ok(Response::new(
            self.domain.accept_invitation(&caller, token).await?,
        ))
    }

    async fn get_partnership(
        &self,
        request: Request<pb::GetPartnershipRequest>,
    ) -> Result<Response<pb::Partnership>, Status> {
        let caller = Caller::of(&request)?.clone();
        caller.require_any(&[Role::GlobalAdmin, Role::SalesAgent, Role::ResellerAdmin])?;
        let [provider_id, partnership_id] =
            names::require(&request.get_ref().name, &PARTNERSHIP, "name")?;
        Ok(Response::new(
            self.domain
                .get_partnership(&caller, provider_id, partnership_id)
                .await?,
        ))
    }

    async fn list_indirect_resellers(
        &self,
        request: Request<pb::ListIndirectResellersRequest>,
    ) -> Result<Response<pb::ListIndirectResellersResponse>, Status> {
        let caller = provider(&request)?;
        let request = request.into_inner();
        let [provider_id] = names::require(&request.parent, &PROVIDER, "parent")?;
        let page_size = paging::page_size(request.page_size)?;
        validate::line(&request.company_name_filter, 0, 200)
            .map_err(|d| Error::invalid_field("INVALID_FILTER", "company_name_filter", d))?;
        caller.require_own_provider(provider_id)?;
        let (indirect_resellers, next_page_token) = self
            .pages
            .list::<pb::ListIndirectResellersRequest>(&caller.tenant_id)
            .serve(&request.page_token, async |token| {
                self.domain
                    .list_indirect_resellers(
                        provider_id,
                        &request.company_name_filter,
                        page_size,
                        token,
                    )
                    .await
            })
            .await?;
        Ok(Response::new(pb::ListIndirectResellersResponse {
            indirect_resellers,
            next_page_token,
        }))
    }

    async fn get_indirect_reseller(
        &self,
        request: Request<pb::GetIndirectResellerRequest>,
    ) -> Result<Response<pb::IndirectReseller>, Status> {
        let caller = provider(&request)?;
        let [provider_id, partner_id] =
            names::require(&request.get_ref().name, &INDIRECT_RESELLER, "name")?;
        caller.require_own_provider(provider_id)?;
        Ok(Response::new(
            self.domain
                .get_indirect_reseller(provider_id, partner_id)
                .await?,
        ))
    }

    async fn remove_partnership(
        &self,
        request: Request<pb::RemovePartnershipRequest>,
    ) -> Result<Response<pb::Partnership>, Status> {
        let caller = provider(&request)?;
        let request = request.into_inner();
        let [provider_id, partner_id] = names::require(&request.name, &INDIRECT_RESELLER, "name")?;
        let attestation = request.attestation.unwrap_or_default();
        let mut violations = Violations::new();
        if !request.confirm {
            violations.add(
                "confirm",
                "must be true: removing a partnership needs explicit confirmation",
            );
        }
        let statements = [
            ("attestation.good_faith", attestation.good_faith),
            (
                "attestation.legitimate_business_purpose",
                attestation.legitimate_business_purpose,
            ),
            ("attestation.per_agreements", attestation.per_agreements),
            (
                "attestation.indemnifies_platform",
                attestation.indemnifies_platform,
            ),
        ];
        for (field, affirmed) in statements {
            if !affirmed {
                violations.add(field, "must be affirmed to remove a partnership");
            }
        }
        let reason = if request.confirm {
            "ATTESTATION_INCOMPLETE"
        } else {
            "REMOVAL_NOT_CONFIRMED"
        };
        violations.into_result(reason)?;
        caller.require_own_provider(provider_id)?;
        let attestation = Attestation {
            good_faith: attestation.good_faith,
            legitimate_business_purpose: attestation.legitimate_business_purpose,
            per_agreements: attestation.per_agreements,
            indemnifies_platform: attestation.indemnifies_platform,
        };
        Ok(Response::new(
            self.domain
                .remove_partnership(&caller, provider_id, partner_id, attestation, &request.etag)
                .await?,
        ))
    }
}
