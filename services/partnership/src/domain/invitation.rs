//! R4 and R5: an invitation is pending until it is accepted (once), revoked
//! by its provider, or it expires. Expiry is never stored: the clock alone
//! decides it.

use chrono::{DateTime, TimeDelta, Utc};
use twotier_platform::personal_link::{self, LinkRefusal, LinkState, PersonalLink};

use super::error::InvitationError;
use super::partnership::Partnership;
use super::reseller::Reseller;

/// Where an invitation stands at some instant.
pub type InvitationState = LinkState;

/// How an invitation was closed for good: accepted (recording the
/// partnership it created) or revoked.
pub type Closed = personal_link::Closed<String>;

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

    /// R5: `reseller` accepts at `now` (as user `accepted_by`). Only a
    /// pending invitation is accepted, only once, and only by a reseller
    /// that passes R3.
    pub fn accept(
        &self,
        now: DateTime<Utc>,
        reseller: &Reseller,
        accepted_by: &str,
    ) -> Result<Accepted, InvitationError> {
        self.check_usable(now)?;
        reseller.eligibility()?;
        let partnership = Partnership::accepted(self, reseller, accepted_by, now);
        let invitation = Self {
            closed: Some(Closed::Accepted {
                at: now,
                acceptance: partnership.id.clone(),
            }),
            ..self.clone()
        };
        Ok(Accepted {
            invitation,
            partnership,
        })
    }

    /// R7: working together again after a removal takes a new invitation,
    /// so one sent before `latest` (the provider's latest partnership with
    /// the accepting reseller) was removed cannot bring the reseller back.
    pub fn check_sent_after_removal(
        &self,
        latest: Option<&Partnership>,
    ) -> Result<(), InvitationError> {
        match latest.and_then(|latest| latest.removal.as_ref()) {
            Some(removal) if self.created_at <= removal.at => Err(InvitationError::PredatesRemoval),
            _ => Ok(()),
        }
    }

    /// R5: `reseller`, already partnered with the provider, accepts at
    /// `now`: accepting again answers with `existing`, and a pending
    /// invitation is used up by it (`Some`, to save), so it cannot bring
    /// the partnership back after a removal (R7: that takes a new
    /// invitation). Only the acceptance that used an invitation may
    /// accept it again: one used for another partnership (another
    /// reseller's, or one since removed) is `AlreadyUsed`. A revoked or
    /// expired invitation still fails as such, and a reseller that no
    /// longer passes R3 is refused as at a first acceptance (R24), leaving
    /// a pending invitation pending.
    pub fn accept_into(
        &self,
        now: DateTime<Utc>,
        reseller: &Reseller,
        existing: &Partnership,
    ) -> Result<Option<Self>, InvitationError> {
        match self.check_usable(now) {
            Ok(()) => {
                reseller.eligibility()?;
                Ok(Some(Self {
                    closed: Some(Closed::Accepted {
                        at: now,
                        acceptance: existing.id.clone(),
                    }),
                    ..self.clone()
                }))
            }
            Err(LinkRefusal::AlreadyUsed)
                if self.partnership_id() == Some(existing.id.as_str()) =>
            {
                reseller.eligibility()?;
                Ok(None)
            }
            Err(refused) => Err(refused.into()),
        }
    }

    /// The provider withdraws the invitation at `now`; only a pending one.
    pub fn revoke(&self, now: DateTime<Utc>) -> Result<Self, InvitationError> {
        Ok(Self {
            closed: Some(self.revocation(now)?),
            ..self.clone()
        })
    }

    /// When it was accepted, if it was.
    pub fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.acceptance().map(|(at, _)| at)
    }

    /// The partnership its acceptance created, if any.
    pub fn partnership_id(&self) -> Option<&str> {
        self.acceptance()
            .map(|(_, partnership_id)| partnership_id.as_str())
    }
}

/// R4, R5: an invitation is a personal link; its rules are the link's.
impl PersonalLink for Invitation {
    type Acceptance = String;

    fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }

    fn closed(&self) -> Option<&Closed> {
        self.closed.as_ref()
    }
}

/// The link a reseller opens to accept: `base` with the token appended.
pub use twotier_platform::personal_link::link;

#[cfg(test)]
pub(crate) mod tests;
