//! `PartnershipService` (R4-R8): the invitation RPCs are in `invitation.rs`;
//! here are partnerships and the provider's indirect resellers.

use chrono::Utc;
use tonic::{Request, Response, Status};
use twotier_outbox::Reply;
use twotier_platform::auth::Caller;
use twotier_platform::{Error, names, paging, validate};
use twotier_proto::partnership as pb;
use twotier_proto::partnership::partnership_service_server::PartnershipService;

use super::{Api, convert, reply};
use crate::domain::{PartnershipError, RemovalConsent};
use crate::store;

const PROVIDER: [&str; 2] = ["providers", "*"];
const PARTNERSHIP: [&str; 4] = ["providers", "*", "partnerships", "*"];
const INDIRECT_RESELLER: [&str; 4] = ["providers", "*", "indirectResellers", "*"];

#[tonic::async_trait]
impl PartnershipService for Api {
    async fn request_partnership(
        &self,
        request: Request<pb::RequestPartnershipRequest>,
    ) -> Result<Response<pb::RequestPartnershipResponse>, Status> {
        let request_id = request.get_ref().request_id.clone();
        let resource = request.get_ref().parent.clone();
        reply(
            self.outbox
                .audited(&resource, &request_id, self.request_partnership(request))
                .await,
        )
    }

    async fn send_invitation_email(
        &self,
        request: Request<pb::SendInvitationEmailRequest>,
    ) -> Result<Response<pb::SendInvitationEmailResponse>, Status> {
        let request_id = request.get_ref().request_id.clone();
        let resource = request.get_ref().invitation.clone();
        reply(
            self.outbox
                .audited(&resource, &request_id, self.send_invitation_email(request))
                .await,
        )
    }

    async fn get_invitation(
        &self,
        request: Request<pb::GetInvitationRequest>,
    ) -> Result<Response<pb::Invitation>, Status> {
        reply(self.get_invitation(request).await)
    }

    async fn list_invitations(
        &self,
        request: Request<pb::ListInvitationsRequest>,
    ) -> Result<Response<pb::ListInvitationsResponse>, Status> {
        reply(self.list_invitations(request).await)
    }

    async fn revoke_invitation(
        &self,
        request: Request<pb::RevokeInvitationRequest>,
    ) -> Result<Response<pb::Invitation>, Status> {
        let resource = request.get_ref().name.clone();
        reply(
            self.outbox
                .audited(&resource, "", self.revoke_invitation(request))
                .await,
        )
    }

    async fn accept_invitation(
        &self,
        request: Request<pb::AcceptInvitationRequest>,
    ) -> Result<Response<pb::Partnership>, Status> {
        // Refusals before the token opens an invitation name none.
        reply(
            self.outbox
                .audited("", "", self.accept_invitation(request))
                .await,
        )
    }

    async fn get_partnership(
        &self,
        request: Request<pb::GetPartnershipRequest>,
    ) -> Result<Response<pb::Partnership>, Status> {
        reply(self.get_partnership(request).await)
    }

    async fn list_indirect_resellers(
        &self,
        request: Request<pb::ListIndirectResellersRequest>,
    ) -> Result<Response<pb::ListIndirectResellersResponse>, Status> {
        reply(self.list_indirect_resellers(request).await)
    }

    async fn get_indirect_reseller(
        &self,
        request: Request<pb::GetIndirectResellerRequest>,
    ) -> Result<Response<pb::IndirectReseller>, Status> {
        reply(self.get_indirect_reseller(request).await)
    }

    async fn remove_partnership(
        &self,
        request: Request<pb::RemovePartnershipRequest>,
    ) -> Result<Response<pb::Partnership>, Status> {
        let resource = request.get_ref().name.clone();
        reply(
            self.outbox
                .audited(&resource, "", self.remove_partnership(request))
                .await,
        )
    }
}

impl Api {
    /// A partnership: the provider's own, or one of the calling reseller's.
    /// Anything else is not found.
    async fn get_partnership(
        &self,
        request: Request<pb::GetPartnershipRequest>,
    ) -> Result<pb::Partnership, Error> {
        let caller = Caller::of(&request)?;
        let [provider_id, partnership_id] =
            names::require(&request.get_ref().name, &PARTNERSHIP, "name")?;
        let partnership = store::partnership::get(self.reads(), provider_id, partnership_id)
            .await?
            .ok_or(PartnershipError::NotFound)?;
        let visible = if caller.is_provider() {
            caller.tenant_id == partnership.provider_id
        } else {
            store::reseller::get(self.reads(), &partnership.partner_id)
                .await?
                .is_some_and(|reseller| reseller.tenant_id == caller.tenant_id)
        };
        if !visible {
            return Err(PartnershipError::NotFound.into());
        }
        let mut shown = convert::partnership(&partnership);
        // The reseller sees that and when it was removed, not which of the
        // provider's users did it.
        if !caller.is_provider()
            && let Some(removal) = shown.removal.as_mut()
        {
            removal.removed_by.clear();
        }
        Ok(shown)
    }

    /// R8: the provider's active indirect resellers by company name,
    /// optionally only those whose name contains the filter.
    async fn list_indirect_resellers(
        &self,
        request: Request<pb::ListIndirectResellersRequest>,
    ) -> Result<pb::ListIndirectResellersResponse, Error> {
        let caller = Caller::of(&request)?.clone();
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
                store::partnership::page_indirect_resellers(
                    self.reads(),
                    provider_id,
                    &request.company_name_filter,
                    page_size,
                    token,
                )
                .await
            })
            .await?;
        Ok(pb::ListIndirectResellersResponse {
            indirect_resellers: indirect_resellers
                .into_iter()
                .map(convert::indirect_reseller)
                .collect(),
            next_page_token,
        })
    }

    /// R8: one indirect reseller with its latest partnership's state.
    async fn get_indirect_reseller(
        &self,
        request: Request<pb::GetIndirectResellerRequest>,
    ) -> Result<pb::IndirectReseller, Error> {
        let caller = Caller::of(&request)?;
        let [provider_id, partner_id] =
            names::require(&request.get_ref().name, &INDIRECT_RESELLER, "name")?;
        caller.require_own_provider(provider_id)?;
        let listed = store::partnership::indirect_reseller(self.reads(), provider_id, partner_id)
            .await?
            .ok_or_else(|| PartnershipError::IndirectResellerNotFound(partner_id.to_owned()))?;
        Ok(convert::indirect_reseller(listed))
    }

    /// R7: ends the provider's partnership with a reseller. Only the
    /// partnership changes; customers, delegated admin relationships and
    /// subscriptions belong to other services and are left alone, and the
    /// event is not one the notification service emails about.
    async fn remove_partnership(
        &self,
        request: Request<pb::RemovePartnershipRequest>,
    ) -> Result<pb::Partnership, Error> {
        let caller = Caller::of(&request)?.clone();
        let request = request.into_inner();
        let [provider_id, partner_id] = names::require(&request.name, &INDIRECT_RESELLER, "name")?;
        let consent = RemovalConsent {
            confirmed: request.confirm,
            attestation: convert::attestation(request.attestation.unwrap_or_default()),
        };
        let attested = consent.check().map_err(convert::removal_refused)?;
        caller.require_own_provider(provider_id)?;
        let removed = self
            .outbox
            .command(&request.name, None, async |tx| -> Result<_, Error> {
                let db = &**tx;
                let Some(current) = store::partnership::active(db, provider_id, partner_id).await?
                else {
                    let ever = store::partnership::latest(db, provider_id, partner_id).await?;
                    return Err(match ever {
                        Some(_) => PartnershipError::NotActive(partner_id.to_owned()),
                        None => PartnershipError::IndirectResellerNotFound(partner_id.to_owned()),
                    }
                    .into());
                };
                names::check_etag(&request.etag, current.version, "the partnership")?;
                let removal = current.remove(Utc::now(), &caller.subject, attested)?;
                let Some(removed) = store::partnership::save_removal(db, &removal).await? else {
                    // Changed since it was read: a removal that got there
                    // first is told as what it is (the caller may have sent
                    // no etag at all), anything else as a stale read.
                    if store::partnership::active(db, provider_id, partner_id)
                        .await?
                        .is_none()
                    {
                        return Err(PartnershipError::NotActive(partner_id.to_owned()).into());
                    }
                    return Err(Error::etag_mismatch("the partnership"));
                };
                let answer = convert::partnership(&removed);
                tx.append(convert::partnership_removed(&removed, &answer))
                    .await?;
                Ok(Reply::new(answer))
            })
            .await?;
        tracing::info!(provider_id, partner_id, removed_by = %caller.subject, "partnership removed");
        Ok(removed)
    }
}
