//! R4 and R5: an invitation is pending until it is accepted (once), revoked
//! by its provider, or it expires. Expiry is never stored: the clock alone
//! decides it.

use chrono::{DateTime, TimeDelta, Utc};

use super::error::InvitationError;
use super::partnership::Partnership;
use super::reseller::Reseller;

/// Where an invitation stands at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    /// Open: may be accepted, revoked or sent.
    Pending,
    /// Used by a reseller.
    Accepted,
    /// Withdrawn by the provider.
    Revoked,
    /// Never used before its time ran out.
    Expired,
}

impl InvitationState {
    /// The state in a sentence ("the invitation is ...").
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
}

/// How an invitation was closed for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    /// Accepted at `at`, creating partnership `partnership_id`.
    Accepted {
        /// When.
        at: DateTime<Utc>,
        /// The partnership it created.
        partnership_id: String,
    },
    /// Revoked by the provider at `at`.
    Revoked {
        /// When.
        at: DateTime<Utc>,
    },
}

/// A provider's invitation of a reseller to partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// UUIDv7, so ids order by creation.
    pub id: String,
    /// The inviting provider's tenant id.
    pub provider_id: String,
    /// Invited address.
    pub reseller_email: String,
    /// Language of the draft.
    pub language_code: String,
    /// `sub` of the inviting user.
    pub created_by: String,
    /// Email of the inviting user, empty if its token carried none.
    pub created_by_email: String,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// From this instant on, a pending invitation is expired.
    pub expires_at: DateTime<Utc>,
    /// How it was closed, if it was.
    pub closed: Option<Closed>,
    /// Optimistic concurrency version.
    pub version: i64,
}

/// A new invitation, as a provider user requests it.
#[derive(Debug, Clone)]
pub struct InvitationRequest {
    /// The provider (caller's tenant).
    pub provider_id: String,
    /// Address to invite.
    pub reseller_email: String,
    /// Draft language.
    pub language_code: String,
    /// `sub` of the inviting user.
    pub created_by: String,
    /// Email of the inviting user, may be empty.
    pub created_by_email: String,
}

/// The decision of an acceptance: the invitation used up and the
/// partnership it creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The invitation, closed as accepted.
    pub invitation: Invitation,
    /// The new, active partnership.
    pub partnership: Partnership,
}

impl Invitation {
    /// A pending invitation made at `now` that works for `ttl`.
    pub fn new(request: InvitationRequest, now: DateTime<Utc>, ttl: TimeDelta) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            provider_id: request.provider_id,
            reseller_email: request.reseller_email,
            language_code: request.language_code,
            created_by: request.created_by,
            created_by_email: request.created_by_email,
            created_at: now,
            expires_at: now + ttl,
            closed: None,
            version: 1,
        }
    }

    /// The state at `now`.
    pub fn state_at(&self, now: DateTime<Utc>) -> InvitationState {
        match &self.closed {
            Some(Closed::Accepted { .. }) => InvitationState::Accepted,
            Some(Closed::Revoked { .. }) => InvitationState::Revoked,
            None if now >= self.expires_at => InvitationState::Expired,
            None => InvitationState::Pending,
        }
    }

    /// R5: `reseller` accepts at `now` (as user `accepted_by`). Only a
    /// pending invitation is accepted, only once, and only by a reseller
    /// that passes R3.
    pub fn accept(
        &self,
        now: DateTime<Utc>,
        reseller: &Reseller,
        accepted_by: &str,
    ) -> Result<Accepted, InvitationError> {
        match self.state_at(now) {
            InvitationState::Pending => {}
            InvitationState::Revoked => return Err(InvitationError::Revoked),
            InvitationState::Accepted => return Err(InvitationError::AlreadyUsed),
            InvitationState::Expired => return Err(InvitationError::Expired),
        }
        reseller.eligibility()?;
        let partnership = Partnership::accepted(self, reseller, accepted_by, now);
        let invitation = Self {
            closed: Some(Closed::Accepted {
                at: now,
                partnership_id: partnership.id.clone(),
            }),
            ..self.clone()
        };
        Ok(Accepted {
            invitation,
            partnership,
        })
    }

    /// The provider withdraws the invitation at `now`; only a pending one.
    pub fn revoke(&self, now: DateTime<Utc>) -> Result<Self, InvitationError> {
        self.require_pending(now)?;
        Ok(Self {
            closed: Some(Closed::Revoked { at: now }),
            ..self.clone()
        })
    }

    /// R4: whether an email with `body` may go out at `now` for this
    /// invitation, whose link is `link`: only while it is pending, and only
    /// with the exact link in the body.
    pub fn check_email(
        &self,
        now: DateTime<Utc>,
        body: &str,
        link: &str,
    ) -> Result<(), InvitationError> {
        self.require_pending(now)?;
        if !body.contains(link) {
            return Err(InvitationError::LinkMissing);
        }
        Ok(())
    }

    /// When it was accepted, if it was.
    pub fn accepted_at(&self) -> Option<DateTime<Utc>> {
        match &self.closed {
            Some(Closed::Accepted { at, .. }) => Some(*at),
            _ => None,
        }
    }

    /// The partnership its acceptance created, if any.
    pub fn partnership_id(&self) -> Option<&str> {
        match &self.closed {
            Some(Closed::Accepted { partnership_id, .. }) => Some(partnership_id),
            _ => None,
        }
    }

    /// When it was revoked, if it was.
    pub fn revoked_at(&self) -> Option<DateTime<Utc>> {
        match &self.closed {
            Some(Closed::Revoked { at }) => Some(*at),
            _ => None,
        }
    }

    fn require_pending(&self, now: DateTime<Utc>) -> Result<(), InvitationError> {
        match self.state_at(now) {
            InvitationState::Pending => Ok(()),
            state => Err(InvitationError::NotPending(state.as_str())),
        }
    }
}

/// The link a reseller opens to accept: `base` with the token appended.
pub fn link(base: &str, token: &str) -> String {
    format!("{base}?token={token}")
}

#[cfg(test)]
pub(crate) mod tests;
