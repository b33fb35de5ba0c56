//! R4 and R5: invitations, their email, and their acceptance.

use chrono::Utc;
use sea_orm::sea_query::{Cond, Expr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use twotier_outbox::Event;
use twotier_platform::auth::Caller;
use twotier_platform::capability::{self, CapabilityTokens};
use twotier_platform::idempotency::{self, Claim, IdempotencyKey};
use twotier_platform::paging;
use twotier_proto::partnership as pb;

use super::convert::{self, invitation_state, partnership_state};
use super::reseller::require_eligible;
use super::{PartnershipError, Partnerships, Result, token};
use crate::store::entities::{invitation, partnership, provider_listing, reseller};

const INVITATION: &str = "invitation";
const PARTNERSHIP: &str = "partnership";

/// A new invitation, as requested.
#[derive(Debug, Clone)]
pub struct InvitationRequest {
    /// The provider (caller's tenant).
    pub provider_id: String,
    /// Address to invite.
    pub reseller_email: String,
    /// Draft language.
    pub language_code: String,
}

/// An edited invitation email to send.
#[derive(Debug, Clone)]
pub struct InvitationEmail {
    /// The provider (caller's tenant).
    pub provider_id: String,
    /// The invitation id.
    pub invitation_id: String,
    /// Subject; empty keeps the drafted one.
    pub subject: String,
    /// Body; must contain the link.
    pub body: String,
}

impl Partnerships {
    /// R4: creates an invitation and returns its link and email draft.
    pub async fn request_partnership(
        &self,
        caller: &Caller,
        request: InvitationRequest,
        key: Option<IdempotencyKey>,
    ) -> Result<pb::RequestPartnershipResponse> {
        let tx = self.outbox.begin().await?;
        if let Claim::Replay(stored) = idempotency::claim(&tx, key.as_ref()).await? {
            return Ok(token::unsealed(stored, &self.capabilities));
        }
        let now = Utc::now();
        let ttl = chrono::Duration::from_std(self.settings.invitation_ttl)
            .map_err(|e| twotier_platform::Error::Internal(format!("invitation ttl: {e}")))?;
        let id = uuid::Uuid::now_v7().to_string();
        let token = self.capabilities.token(token::INVITATION_KIND, &id);
        let row = invitation::ActiveModel {
            id: Set(id),
            provider_id: Set(request.provider_id.clone()),
            token_hash: Set(CapabilityTokens::hash(&token)),
            reseller_email: Set(request.reseller_email.clone()),
            language_code: Set(request.language_code.clone()),
            state: Set(invitation_state::PENDING.to_owned()),
            created_by: Set(caller.subject.clone()),
            created_by_email: Set(caller.email.clone().unwrap_or_default()),
            created_at: Set(now),
            expires_at: Set(now + ttl),
            accepted_at: Set(None),
            partnership_id: Set(None),
            revoked_at: Set(None),
            version: Set(1),
        }
        .insert(&*tx)
        .await?;
        let provider_name = provider_display_name(&*tx, &request.provider_id).await?;
        let link = token::link(&self.settings.invitation_link_base, &token);
        let draft = self.drafts.invitation(
            &request.language_code,
            &request.reseller_email,
            &provider_name,
            &link,
            row.expires_at,
        )?;
        let name = convert::invitation_name(&row.provider_id, &row.id);
        tx.append(Event::new(
            INVITATION,
            &row.id,
            &row.provider_id,
            &pb::InvitationCreated {
                invitation: name,
                provider_id: row.provider_id.clone(),
                reseller_email: row.reseller_email.clone(),
                language_code: row.language_code.clone(),
                expire_time: Some(twotier_platform::time::timestamp(row.expires_at)),
            },
        ))
        .await?;
        let response = pb::RequestPartnershipResponse {
            invitation: Some(convert::invitation(row, now)),
            invitation_link: link,
            email_draft: Some(draft),
        };
        idempotency::complete(&tx, key.as_ref(), &token::sealed(&response, &token)).await?;
        tx.commit().await?;
        Ok(response)
    }

    /// R4: queues the (edited) invitation email; the body must still hold
    /// the invitation's link.
    pub async fn send_invitation_email(
        &self,
        email: InvitationEmail,
        key: Option<IdempotencyKey>,
    ) -> Result<pb::SendInvitationEmailResponse> {
        self.invitation_emails.check(&email.provider_id)?;
        let tx = self.outbox.begin().await?;
        if let Claim::Replay(response) = idempotency::claim(&tx, key.as_ref()).await? {
            return Ok(response);
        }
        let row = find_invitation(&*tx, &email.provider_id, &email.invitation_id).await?;
        let now = Utc::now();
        let state = convert::invitation_state_at(&row, now);
        if state != pb::InvitationState::Pending {
            return Err(PartnershipError::InvitationNotPending(state_word(state)));
        }
        let token = self.capabilities.token(token::INVITATION_KIND, &row.id);
        if !email
            .body
            .contains(&token::link(&self.settings.invitation_link_base, &token))
        {
            return Err(PartnershipError::InvitationLinkMissing);
        }
        // A write that changes nothing but locks the row while it is still
        // pending: a revoke or acceptance committing meanwhile makes this
        // command fail instead of mailing a dead link.
        let still_pending = invitation::Entity::update_many()
            .col_expr(
                invitation::Column::State,
                Expr::col(invitation::Column::State),
            )
            .filter(invitation::Column::Id.eq(&row.id))
            .filter(invitation::Column::State.eq(invitation_state::PENDING))
            .exec(&*tx)
            .await?;
        if still_pending.rows_affected == 0 {
            return Err(PartnershipError::InvitationNotPending("no longer pending"));
        }
        let provider_name = provider_display_name(&*tx, &row.provider_id).await?;
        let subject = if email.subject.is_empty() {
            self.drafts
                .invitation(
                    &row.language_code,
                    &row.reseller_email,
                    &provider_name,
                    "",
                    row.expires_at,
                )?
                .subject
        } else {
            email.subject
        };
        tx.append(Event::new(
            INVITATION,
            &row.id,
            &row.provider_id,
            &pb::InvitationEmailRequested {
                invitation: convert::invitation_name(&row.provider_id, &row.id),
                provider_id: row.provider_id.clone(),
                to: row.reseller_email.clone(),
                subject: subject.clone(),
                // The mailer puts the token back when it sends the email;
                // the log, and everyone following it, never sees it.
                body: capability::seal(&email.body, &token),
                language_code: row.language_code.clone(),
                provider_display_name: provider_name,
            },
        ))
        .await?;
        let response = pb::SendInvitationEmailResponse {
            to: row.reseller_email.clone(),
            subject,
            invitation: Some(convert::invitation(row, now)),
        };
        idempotency::complete(&tx, key.as_ref(), &response).await?;
        tx.commit().await?;
        Ok(response)
    }

    /// Reads one of the provider's invitations.
    pub async fn get_invitation(
        &self,
        provider_id: &str,
        invitation_id: &str,
    ) -> Result<pb::Invitation> {
        let row = find_invitation(self.outbox.db(), provider_id, invitation_id).await?;
        Ok(convert::invitation(row, Utc::now()))
    }

    /// Lists the provider's invitations, newest first.
    pub async fn list_invitations(
        &self,
        provider_id: &str,
        page_size: u64,
        page_token: &str,
    ) -> Result<(Vec<pb::Invitation>, String)> {
        let filter = paging::fingerprint(&[provider_id]);
        let after: Option<String> = paging::decode_token(page_token, &filter)?;
        let mut query = invitation::Entity::find()
            .filter(invitation::Column::ProviderId.eq(provider_id))
            .order_by_desc(invitation::Column::Id)
            .limit(page_size + 1);
        if let Some(after) = after {
            query = query.filter(invitation::Column::Id.lt(after));
        }
        let rows = query.all(self.outbox.db()).await?;
        let (rows, token) = paging::finish_page(rows, page_size, &filter, |row| row.id.clone());
        let now = Utc::now();
        Ok((
            rows.into_iter()
                .map(|row| convert::invitation(row, now))
                .collect(),
            token,
        ))
    }

    /// Revokes a pending invitation.
    pub async fn revoke_invitation(
        &self,
        provider_id: &str,
        invitation_id: &str,
    ) -> Result<pb::Invitation> {
        let tx = self.outbox.begin().await?;
        let row = find_invitation(&*tx, provider_id, invitation_id).await?;
        let now = Utc::now();
        let state = convert::invitation_state_at(&row, now);
        if state != pb::InvitationState::Pending {
            return Err(PartnershipError::InvitationNotPending(state_word(state)));
        }
        let revoked = invitation::Entity::update_many()
            .col_expr(
                invitation::Column::State,
                Expr::value(invitation_state::REVOKED),
            )
            .col_expr(invitation::Column::RevokedAt, Expr::value(Some(now)))
            .col_expr(invitation::Column::Version, Expr::value(row.version + 1))
            .filter(invitation::Column::Id.eq(&row.id))
            .filter(invitation::Column::State.eq(invitation_state::PENDING))
            .exec_with_returning(&*tx)
            .await?
            .into_iter()
            .next()
            .ok_or(PartnershipError::InvitationNotPending("no longer pending"))?;
        tx.append(Event::new(
            INVITATION,
            &revoked.id,
            &revoked.provider_id,
            &pb::InvitationRevoked {
                invitation: convert::invitation_name(&revoked.provider_id, &revoked.id),
                provider_id: revoked.provider_id.clone(),
            },
        ))
        .await?;
        tx.commit().await?;
        Ok(convert::invitation(revoked, now))
    }

    /// R5: the reseller of `caller` accepts the invitation with `token`.
    pub async fn accept_invitation(&self, caller: &Caller, token: &str) -> Result<pb::Partnership> {
        let tx = self.outbox.begin().await?;
        let invitation = invitation::Entity::find()
            .filter(invitation::Column::TokenHash.eq(CapabilityTokens::hash(token)))
            .one(&*tx)
            .await?
            .ok_or(PartnershipError::InvitationNotFound)?;
        // Shared lock: a concurrent rename of the reseller waits for this
        // partnership to exist, then renames it too (see `update_reseller`).
        let reseller = reseller::Entity::find()
            .filter(reseller::Column::TenantId.eq(&caller.tenant_id))
            .lock_shared()
            .one(&*tx)
            .await?
            .ok_or(PartnershipError::ResellerNotOnboarded)?;
        if let Some(existing) =
            active_partnership(&*tx, &invitation.provider_id, &reseller.partner_id).await?
        {
            return Ok(convert::partnership(existing));
        }
        let now = Utc::now();
        match convert::invitation_state_at(&invitation, now) {
            pb::InvitationState::Revoked => return Err(PartnershipError::InvitationRevoked),
            pb::InvitationState::Accepted => return Err(PartnershipError::InvitationAlreadyUsed),
            pb::InvitationState::Expired => return Err(PartnershipError::InvitationExpired),
            _ => {}
        }
        // R3 at the door: only an eligible reseller becomes a partner.
        require_eligible(&reseller)?;
        let partnership_id = uuid::Uuid::now_v7().to_string();
        // Single use: only the first acceptance moves the invitation out of
        // `pending`.
        let claimed = invitation::Entity::update_many()
            .col_expr(
                invitation::Column::State,
                Expr::value(invitation_state::ACCEPTED),
            )
            .col_expr(invitation::Column::AcceptedAt, Expr::value(Some(now)))
            .col_expr(
                invitation::Column::PartnershipId,
                Expr::value(Some(partnership_id.clone())),
            )
            .col_expr(
                invitation::Column::Version,
                Expr::value(invitation.version + 1),
            )
            .filter(invitation::Column::Id.eq(&invitation.id))
            .filter(invitation::Column::State.eq(invitation_state::PENDING))
            .exec(&*tx)
            .await?;
        if claimed.rows_affected != 1 {
            // Someone accepted first; if it was this reseller, the answer is
            // the partnership it created.
            drop(tx);
            let existing = active_partnership(
                self.outbox.db(),
                &invitation.provider_id,
                &reseller.partner_id,
            )
            .await?
            .ok_or(PartnershipError::InvitationAlreadyUsed)?;
            return Ok(convert::partnership(existing));
        }
        let row = partnership::ActiveModel {
            id: Set(partnership_id),
            provider_id: Set(invitation.provider_id.clone()),
            partner_id: Set(reseller.partner_id.clone()),
            state: Set(partnership_state::ACTIVE.to_owned()),
            company_name: Set(reseller.company_name.clone()),
            company_name_key: Set(reseller.company_name.to_lowercase()),
            invitation_id: Set(invitation.id.clone()),
            accepted_at: Set(now),
            accepted_by: Set(caller.subject.clone()),
            state_changed_at: Set(now),
            removed_at: Set(None),
            removed_by: Set(None),
            attested_good_faith: Set(false),
            attested_legitimate_purpose: Set(false),
            attested_per_agreements: Set(false),
            attested_indemnifies_platform: Set(false),
            version: Set(1),
        }
        .insert(&*tx)
        .await;
        let row = match row {
            Ok(row) => row,
            // A concurrent acceptance by the same reseller won the unique
            // active-partnership index; answer with its partnership.
            Err(error) if twotier_platform::db::is_unique_violation(&error) => {
                drop(tx);
                let existing = active_partnership(
                    self.outbox.db(),
                    &invitation.provider_id,
                    &reseller.partner_id,
                )
                .await?
                .ok_or(PartnershipError::InvitationAlreadyUsed)?;
                return Ok(convert::partnership(existing));
            }
            Err(error) => return Err(error.into()),
        };
        let contact = provider_contact(&*tx, &invitation).await?;
        let accepted = convert::partnership(row.clone());
        tx.append(Event::new(
            PARTNERSHIP,
            &row.id,
            &row.provider_id,
            &pb::PartnershipAccepted {
                partnership: Some(accepted.clone()),
                reseller: Some(convert::reseller(reseller)),
                provider_contact: Some(contact),
            },
        ))
        .await?;
        tx.commit().await?;
        tracing::info!(provider_id = %row.provider_id, partner_id = %row.partner_id, "partnership accepted");
        Ok(accepted)
    }
}

fn state_word(state: pb::InvitationState) -> &'static str {
    match state {
        pb::InvitationState::Accepted => "accepted",
        pb::InvitationState::Revoked => "revoked",
        pb::InvitationState::Expired => "expired",
        _ => "pending",
    }
}

async fn find_invitation(
    db: &impl ConnectionTrait,
    provider_id: &str,
    invitation_id: &str,
) -> Result<invitation::Model> {
    invitation::Entity::find()
        .filter(
            Cond::all()
                .add(invitation::Column::Id.eq(invitation_id))
                .add(invitation::Column::ProviderId.eq(provider_id)),
        )
        .one(db)
        .await?
        .ok_or(PartnershipError::InvitationNotFound)
}

pub(super) async fn active_partnership(
    db: &impl ConnectionTrait,
    provider_id: &str,
    partner_id: &str,
) -> Result<Option<partnership::Model>> {
    Ok(partnership::Entity::find()
        .filter(partnership::Column::ProviderId.eq(provider_id))
        .filter(partnership::Column::PartnerId.eq(partner_id))
        .filter(partnership::Column::State.eq(partnership_state::ACTIVE))
        .one(db)
        .await?)
}

/// The provider's name for emails: its listing's, else its tenant id.
async fn provider_display_name(db: &impl ConnectionTrait, provider_id: &str) -> Result<String> {
    Ok(provider_listing::Entity::find_by_id(provider_id.to_owned())
        .one(db)
        .await?
        .map_or_else(|| provider_id.to_owned(), |listing| listing.display_name))
}

/// Who at the provider hears about an acceptance: the inviting user, else
/// the listing's contact.
async fn provider_contact(
    db: &impl ConnectionTrait,
    invitation: &invitation::Model,
) -> Result<pb::ProviderContact> {
    let listing = provider_listing::Entity::find_by_id(invitation.provider_id.clone())
        .one(db)
        .await?;
    let email = if invitation.created_by_email.is_empty() {
        listing
            .as_ref()
            .map(|l| l.contact_email.clone())
            .unwrap_or_default()
    } else {
        invitation.created_by_email.clone()
    };
    Ok(pb::ProviderContact {
        display_name: listing.as_ref().map_or_else(
            || invitation.provider_id.clone(),
            |l| l.display_name.clone(),
        ),
        email,
        language_code: listing.map_or_else(|| "en".to_owned(), |l| l.preferred_language),
    })
}
