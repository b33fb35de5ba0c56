//! R22: a provider asks the admin of an existing customer to let one of its
//! active partner resellers administer it. The request is pending until the
//! customer's admin accepts it (once), the provider revokes it, or it
//! expires; expiry is never stored, the clock alone decides it. Acceptance
//! records the delegated admin relationship of R9.

use chrono::{DateTime, TimeDelta, Utc};

use super::customer::{Customer, Reseller};
use super::delegated_admin::DelegatedAdmin;
use super::error::{CustomerError, RelationshipError};

/// Where a request stands at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestState {
    /// Open: may be accepted, revoked or sent.
    Pending,
    /// Accepted by the customer's admin.
    Accepted,
    /// Withdrawn by the provider.
    Revoked,
    /// Never used before its time ran out.
    Expired,
}

impl RequestState {
    /// The state in a sentence ("the request is ...").
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
}

/// How a request was closed for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    /// Accepted at `at` by the customer admin `by`.
    Accepted {
        /// When.
        at: DateTime<Utc>,
        /// Subject of the customer admin.
        by: String,
    },
    /// Revoked by the provider at `at`.
    Revoked {
        /// When.
        at: DateTime<Utc>,
    },
}

/// A provider's request to a customer's admin for a reseller relationship.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationshipRequest {
    /// UUIDv7, so ids order by creation.
    pub id: String,
    /// The provider's tenant id.
    pub provider_id: String,
    /// The customer.
    pub customer_id: String,
    /// The reseller's PartnerID.
    pub partner_id: String,
    /// The reseller's company name when requested.
    pub reseller_company_name: String,
    /// The customer admin's address the draft is written to.
    pub admin_email: String,
    /// Language of the draft.
    pub language_code: String,
    /// `sub` of the requesting provider user.
    pub created_by: String,
    /// Email of the requesting provider user, empty if its token had none.
    pub created_by_email: String,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// From this instant on, a pending request is expired.
    pub expires_at: DateTime<Utc>,
    /// How it was closed, if it was.
    pub closed: Option<Closed>,
    /// Optimistic concurrency version.
    pub version: i64,
}

/// What the provider asks for, its fields already well-formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRelationshipRequest {
    /// The customer admin's address; empty for the customer's
    /// administrator account.
    pub admin_email: String,
    /// Draft language; empty for the customer's.
    pub language_code: String,
    /// `sub` of the requesting provider user.
    pub created_by: String,
    /// Email of the requesting provider user, may be empty.
    pub created_by_email: String,
}

/// The decision of an acceptance: the request used up and the delegation
/// it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The request, closed as accepted.
    pub request: RelationshipRequest,
    /// The new delegated admin relationship (R9's effects).
    pub grant: DelegatedAdmin,
}

/// The address of a customer's administrator account (R11's user name).
pub fn admin_account(customer: &Customer) -> String {
    format!("admin@{}", customer.domain())
}

impl RelationshipRequest {
    /// R22: the request for `customer` and `reseller` (an active partner
    /// that passed R3) made at `now`, working for `ttl`. A customer already
    /// delegated to a reseller is refused: the provider ends that
    /// relationship first (R23).
    pub fn new(
        customer: &Customer,
        reseller: &Reseller,
        new: NewRelationshipRequest,
        now: DateTime<Utc>,
        ttl: TimeDelta,
    ) -> Result<Self, RelationshipError> {
        if let Some(current) = &customer.reseller_partner_id {
            return Err(RelationshipError::AlreadyDelegated(current.clone()));
        }
        let admin_email = if new.admin_email.is_empty() {
            admin_account(customer)
        } else {
            new.admin_email
        };
        let language_code = if new.language_code.is_empty() {
            customer.language_code.clone()
        } else {
            new.language_code
        };
        Ok(Self {
            id: uuid::Uuid::now_v7().to_string(),
            provider_id: customer.provider_id.clone(),
            customer_id: customer.id.clone(),
            partner_id: reseller.partner_id.clone(),
            reseller_company_name: reseller.company_name.clone(),
            admin_email,
            language_code,
            created_by: new.created_by,
            created_by_email: new.created_by_email,
            created_at: now,
            expires_at: now + ttl,
            closed: None,
            version: 1,
        })
    }

    /// The state at `now`.
    pub fn state_at(&self, now: DateTime<Utc>) -> RequestState {
        match &self.closed {
            Some(Closed::Accepted { .. }) => RequestState::Accepted,
            Some(Closed::Revoked { .. }) => RequestState::Revoked,
            None if now >= self.expires_at => RequestState::Expired,
            None => RequestState::Pending,
        }
    }

    /// Whether the token may still be used at `now`: the R5-like failure
    /// of a revoked, used or expired request.
    pub fn check_usable(&self, now: DateTime<Utc>) -> Result<(), RelationshipError> {
        match self.state_at(now) {
            RequestState::Pending => Ok(()),
            RequestState::Revoked => Err(RelationshipError::Revoked),
            RequestState::Accepted => Err(RelationshipError::AlreadyUsed),
            RequestState::Expired => Err(RelationshipError::Expired),
        }
    }

    /// R22: the admin `accepted_by` of `customer` accepts at `now`. Only a
    /// pending request is accepted, only once; `partner` is the reseller as
    /// it may be chosen right now (still an active partner that passes R3,
    /// else why not); the customer must not have been delegated meanwhile.
    pub fn accept(
        &self,
        now: DateTime<Utc>,
        customer: &Customer,
        partner: Result<Reseller, CustomerError>,
        accepted_by: &str,
    ) -> Result<Accepted, RelationshipError> {
        self.check_usable(now)?;
        let reseller = partner?;
        if let Some(current) = &customer.reseller_partner_id {
            return Err(RelationshipError::AlreadyDelegated(current.clone()));
        }
        let grant = DelegatedAdmin::grant(customer, &reseller, now);
        let request = Self {
            closed: Some(Closed::Accepted {
                at: now,
                by: accepted_by.to_owned(),
            }),
            ..self.clone()
        };
        Ok(Accepted { request, grant })
    }

    /// The provider withdraws the request at `now`; only a pending one.
    pub fn revoke(&self, now: DateTime<Utc>) -> Result<Self, RelationshipError> {
        self.require_pending(now)?;
        Ok(Self {
            closed: Some(Closed::Revoked { at: now }),
            ..self.clone()
        })
    }

    /// R22 (as R4): whether an email with `body` may go out at `now` for
    /// this request, whose link is `link`: only while it is pending, and
    /// only with the exact link in the body.
    pub fn check_email(
        &self,
        now: DateTime<Utc>,
        body: &str,
        link: &str,
    ) -> Result<(), RelationshipError> {
        self.require_pending(now)?;
        if !body.contains(link) {
            return Err(RelationshipError::LinkMissing);
        }
        Ok(())
    }

    /// When it was accepted and by whom, if it was.
    pub fn acceptance(&self) -> Option<(DateTime<Utc>, &str)> {
        match &self.closed {
            Some(Closed::Accepted { at, by }) => Some((*at, by)),
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

    fn require_pending(&self, now: DateTime<Utc>) -> Result<(), RelationshipError> {
        match self.state_at(now) {
            RequestState::Pending => Ok(()),
            state => Err(RelationshipError::NotPending(state.as_str())),
        }
    }
}

/// The link a customer's admin opens to accept: `base` with the token
/// appended.
pub fn link(base: &str, token: &str) -> String {
    format!("{base}?token={token}")
}

#[cfg(test)]
mod tests;
