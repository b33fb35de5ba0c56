//! The invitation RPCs of `PartnershipService` (R4, R5). An invitation's
//! token is a capability token derived from its id: the database keeps
//! only its hash, and stored replies and events carry a marker instead.

use chrono::{TimeDelta, Utc};
use tonic::Request;
use twotier_outbox::{Contested, Reply, audit_as};
use twotier_platform::auth::Caller;
use twotier_platform::capability;
use twotier_platform::idempotency::IdempotencyKey;
use twotier_platform::personal_link;
use twotier_platform::validate::{self, language_or_default};
use twotier_platform::{Error, Violations, names, paging};
use twotier_proto::partnership as pb;

use super::{Api, convert};
use crate::domain::listing::{provider_contact, provider_display_name};
use crate::domain::{
    DraftError, Invitation, InvitationError, InvitationRequest, PersonalLink, ResellerError,
    invitation,
};
use crate::store;

/// The kind under which invitation tokens are derived.
const INVITATION_KIND: &str = "invitation";

const PROVIDER: [&str; 2] = ["providers", "*"];
const INVITATION: [&str; 4] = ["providers", "*", "invitations", "*"];

/// What an acceptance lost to: a concurrent acceptance of the provider
/// (first) and reseller (second), whose partnership, if it is this
/// reseller's, is the answer.
type NotAccepted = Contested<(String, String)>;

fn draft_failed(error: DraftError) -> Error {
    Error::Internal(error.to_string())
}

impl Api {
    fn invitation_token(&self, invitation_id: &str) -> String {
        self.capabilities.token(INVITATION_KIND, invitation_id)
    }

    fn invitation_link(&self, token: &str) -> String {
        invitation::link(&self.settings.invitation_link_base, token)
    }

    /// R4: creates an invitation and answers its link and email draft.
    pub(super) async fn request_partnership(
        &self,
        request: Request<pb::RequestPartnershipRequest>,
    ) -> Result<pb::RequestPartnershipResponse, Error> {
        let caller = Caller::of(&request)?.clone();
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
        let ttl = TimeDelta::from_std(self.settings.invitation_ttl)
            .map_err(|e| Error::Internal(format!("invitation ttl: {e}")))?;
        let invite = InvitationRequest {
            provider_id: provider_id.to_owned(),
            reseller_email: request.reseller_email.clone(),
            language_code: language,
            created_by: caller.subject.clone(),
            created_by_email: caller.email.clone().unwrap_or_default(),
        };
        let response = self
            .outbox
            .command(
                &request.parent,
                key.as_ref(),
                async |tx| -> Result<_, Error> {
                    let db = &**tx;
                    let now = Utc::now();
                    let new = Invitation::new(invite, now, ttl);
                    let token = self.invitation_token(&new.id);
                    let created = store::invitation::insert(db, &new, &token).await?;
                    // Recorded under what it created (R29), where a filter
                    // by the invitation's name finds it.
                    audit_as(&convert::invitation_name(provider_id, &created.id));
                    let listing = store::listing::get(db, provider_id).await?;
                    let link = self.invitation_link(&token);
                    let draft = self
                        .drafts
                        .invitation(
                            &created.language_code,
                            &created.reseller_email,
                            &provider_display_name(provider_id, listing.as_ref()),
                            &link,
                            created.expires_at,
                        )
                        .map_err(draft_failed)?;
                    tx.append(convert::invitation_created(&created)).await?;
                    let answer = pb::RequestPartnershipResponse {
                        invitation: Some(convert::invitation(&created, now)),
                        invitation_link: link,
                        email_draft: Some(convert::email_draft(draft)),
                    };
                    let stored = convert::sealed(&answer, &token);
                    Ok(Reply::with_retry(answer, stored))
                },
            )
            .await?;
        // A retry gets the sealed reply; a first answer holds no marker.
        Ok(convert::unsealed(response, |id| self.invitation_token(id)))
    }

    /// R4: queues the (edited) invitation email; the body must still hold
    /// the invitation's link.
    pub(super) async fn send_invitation_email(
        &self,
        request: Request<pb::SendInvitationEmailRequest>,
    ) -> Result<pb::SendInvitationEmailResponse, Error> {
        let caller = Caller::of(&request)?.clone();
        let request = request.into_inner();
        let [provider_id, invitation_id] =
            names::require(&request.invitation, &INVITATION, "invitation")?;
        let mut violations = Violations::new();
        if !request.subject.is_empty() {
            violations.check("subject", validate::line(&request.subject, 1, 200));
        }
        // No minimum: an empty body lacks the link, and is refused as such.
        violations.check("body", validate::text(&request.body, 0, 20_000));
        violations.check("request_id", validate::request_id(&request.request_id));
        violations.into_result("INVALID_INVITATION_EMAIL")?;
        caller.require_own_provider(provider_id)?;
        let key = IdempotencyKey::new(
            "partnership.SendInvitationEmail",
            &caller.tenant_id,
            &request.request_id,
            &request,
        );
        self.outbox
            .command(
                &request.invitation,
                key.as_ref(),
                async |tx| -> Result<_, Error> {
                    let db = &**tx;
                    let invitation = store::invitation::get(db, provider_id, invitation_id)
                        .await?
                        .ok_or(InvitationError::NotFound)?;
                    let now = Utc::now();
                    let token = self.invitation_token(&invitation.id);
                    invitation
                        .check_email(now, &request.body, &self.invitation_link(&token))
                        .and_then(|()| personal_link::check_subject(&request.subject, &token))
                        .map_err(InvitationError::from)?;
                    if !store::invitation::lock_pending(db, &invitation.id).await? {
                        return Err(InvitationError::NO_LONGER_PENDING.into());
                    }
                    // Counted only for an email that would go out: a retry is
                    // answered by the claim of its request id before this, a
                    // refused email costs the provider nothing.
                    self.invitation_emails.check(provider_id)?;
                    let listing = store::listing::get(db, provider_id).await?;
                    let provider_name = provider_display_name(provider_id, listing.as_ref());
                    let subject = if request.subject.is_empty() {
                        let draft = self.drafts.invitation(
                            &invitation.language_code,
                            &invitation.reseller_email,
                            &provider_name,
                            "",
                            invitation.expires_at,
                        );
                        draft.map_err(draft_failed)?.subject
                    } else {
                        request.subject.clone()
                    };
                    // The mailer puts the token back when it sends the email;
                    // the log, and everyone following it, never sees it.
                    let body = capability::seal(&request.body, &token);
                    tx.append(convert::invitation_email_requested(
                        &invitation,
                        &subject,
                        body,
                        provider_name,
                    ))
                    .await?;
                    Ok(Reply::new(pb::SendInvitationEmailResponse {
                        to: invitation.reseller_email.clone(),
                        subject,
                        invitation: Some(convert::invitation(&invitation, now)),
                    }))
                },
            )
            .await
    }

    pub(super) async fn get_invitation(
        &self,
        request: Request<pb::GetInvitationRequest>,
    ) -> Result<pb::Invitation, Error> {
        let caller = Caller::of(&request)?;
        let [provider_id, invitation_id] =
            names::require(&request.get_ref().name, &INVITATION, "name")?;
        caller.require_own_provider(provider_id)?;
        let invitation = store::invitation::get(self.db(), provider_id, invitation_id)
            .await?
            .ok_or(InvitationError::NotFound)?;
        Ok(convert::invitation(&invitation, Utc::now()))
    }

    /// The provider's invitations, newest first.
    pub(super) async fn list_invitations(
        &self,
        request: Request<pb::ListInvitationsRequest>,
    ) -> Result<pb::ListInvitationsResponse, Error> {
        let caller = Caller::of(&request)?.clone();
        let request = request.into_inner();
        let [provider_id] = names::require(&request.parent, &PROVIDER, "parent")?;
        let page_size = paging::page_size(request.page_size)?;
        caller.require_own_provider(provider_id)?;
        let (invitations, next_page_token) = self
            .pages
            .list::<pb::ListInvitationsRequest>(&caller.tenant_id)
            .serve(&request.page_token, async |token| {
                store::invitation::page(self.db(), provider_id, page_size, token).await
            })
            .await?;
        let now = Utc::now();
        Ok(pb::ListInvitationsResponse {
            invitations: invitations
                .iter()
                .map(|invitation| convert::invitation(invitation, now))
                .collect(),
            next_page_token,
        })
    }

    /// Withdraws a pending invitation.
    pub(super) async fn revoke_invitation(
        &self,
        request: Request<pb::RevokeInvitationRequest>,
    ) -> Result<pb::Invitation, Error> {
        let caller = Caller::of(&request)?;
        let [provider_id, invitation_id] =
            names::require(&request.get_ref().name, &INVITATION, "name")?;
        caller.require_own_provider(provider_id)?;
        self.outbox
            .command(
                &request.get_ref().name,
                None,
                async |tx| -> Result<_, Error> {
                    let invitation = store::invitation::get(&**tx, provider_id, invitation_id)
                        .await?
                        .ok_or(InvitationError::NotFound)?;
                    let now = Utc::now();
                    let revoked = store::invitation::close(&**tx, &invitation.revoke(now)?)
                        .await?
                        .ok_or(InvitationError::NO_LONGER_PENDING)?;
                    tx.append(convert::invitation_revoked(&revoked)).await?;
                    Ok(Reply::new(convert::invitation(&revoked, now)))
                },
            )
            .await
    }

    /// R5: the caller's reseller accepts the invitation its token opens.
    pub(super) async fn accept_invitation(
        &self,
        request: Request<pb::AcceptInvitationRequest>,
    ) -> Result<pb::Partnership, Error> {
        let caller = Caller::of(&request)?;
        let token = request.get_ref().token.trim();
        if token.is_empty() || token.len() > 128 {
            return Err(Error::invalid_field(
                "INVALID_TOKEN_FORMAT",
                "token",
                "must be the token from the invitation link",
            ));
        }
        // A lost race that ends refused (a revocation or another reseller
        // got there first) is recorded as the refusal it is.
        self.outbox
            .audited("", "", async {
                let accepted = self
                    .outbox
                    .command("", None, async |tx| -> Result<_, NotAccepted> {
                        let db = &**tx;
                        let invitation = store::invitation::of_token(db, token)
                            .await?
                            .ok_or(InvitationError::NotFound)?;
                        // Whatever becomes of it, the provider's trail shows
                        // what was done with its invitation (R29).
                        audit_as(&convert::invitation_name(
                            &invitation.provider_id,
                            &invitation.id,
                        ));
                        let reseller = store::reseller::of_tenant_for_share(db, &caller.tenant_id)
                            .await?
                            .ok_or(ResellerError::NotOnboarded)?;
                        let (provider_id, partner_id) =
                            (&invitation.provider_id, &reseller.partner_id);
                        let latest =
                            store::partnership::latest(db, provider_id, partner_id).await?;
                        if let Some(existing) =
                            latest.as_ref().filter(|latest| latest.removal.is_none())
                        {
                            if let Some(used) =
                                invitation.accept_into(Utc::now(), &reseller, existing)?
                                && store::invitation::close(db, &used).await?.is_none()
                            {
                                // Closed meanwhile (a revocation, another
                                // acceptance): judged again as it is now, so
                                // only this partnership's own use answers.
                                store::invitation::of_token(db, token)
                                    .await?
                                    .ok_or(InvitationError::NotFound)?
                                    .accept_into(Utc::now(), &reseller, existing)?;
                            }
                            return Ok(Reply::new(convert::partnership(existing)));
                        }
                        let mut accepted =
                            invitation.accept(Utc::now(), &reseller, &caller.subject)?;
                        invitation.check_sent_after_removal(latest.as_ref())?;
                        accepted.partnership = accepted.partnership.following(latest.as_ref());
                        let raced = || Contested::Lost((provider_id.clone(), partner_id.clone()));
                        // Single use: only the first acceptance moves the invitation
                        // out of `pending`.
                        if store::invitation::close(db, &accepted.invitation)
                            .await?
                            .is_none()
                        {
                            return Err(raced());
                        }
                        let partnership = store::partnership::insert(db, &accepted.partnership)
                            .await?
                            .ok_or_else(raced)?;
                        let listing = store::listing::get(db, provider_id).await?;
                        let contact = provider_contact(&invitation, listing.as_ref());
                        let answer = convert::partnership(&partnership);
                        audit_as(&answer.name);
                        tx.append(convert::partnership_accepted(
                            &partnership,
                            &answer,
                            &reseller,
                            contact,
                        ))
                        .await?;
                        tracing::info!(%provider_id, %partner_id, "partnership accepted");
                        Ok(Reply::new(answer))
                    })
                    .await;
                match accepted {
                    Ok(partnership) => Ok(partnership),
                    Err(Contested::Failed(error)) => Err(error),
                    // Read after the losing transaction rolled back: on PostgreSQL
                    // it is unusable after the unique violation.
                    Err(Contested::Lost((provider_id, partner_id))) => {
                        if let Some(existing) =
                            store::partnership::active(self.reads(), &provider_id, &partner_id)
                                .await?
                        {
                            return Ok(convert::partnership(&existing));
                        }
                        // No partnership came of it: the invitation was closed
                        // meanwhile, and the caller hears how (a revocation
                        // that got there first is no use of it).
                        let closed = store::invitation::of_token(self.db(), token).await?;
                        Err(closed
                            .and_then(|invitation| invitation.check_usable(Utc::now()).err())
                            .map_or(InvitationError::AlreadyUsed, InvitationError::from)
                            .into())
                    }
                }
            })
            .await
    }
}
