//! R22: a provider asks the admin of an existing customer to let one of its
//! active partner resellers administer it. The request is pending until the
//! customer's admin accepts it (once), the provider revokes it, or it
//! expires; expiry is never stored, the clock alone decides it. Acceptance
//! records the delegated admin relationship of R9.

use chrono::{DateTime, TimeDelta, Utc};
use twotier_platform::personal_link::{self, LinkRefusal, LinkState, PersonalLink};

use super::customer::{Customer, Reseller};
use super::delegated_admin::DelegatedAdmin;
use super::error::{CustomerError, RelationshipError};

/// Where a request stands at some instant.
pub type RequestState = LinkState;

/// How a request was closed for good: accepted (recording the subject of
/// the customer admin who accepted) or revoked.
pub type Closed = personal_link::Closed<String>;

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
                acceptance: accepted_by.to_owned(),
            }),
            ..self.clone()
        };
        Ok(Accepted { request, grant })
    }

    /// R22 (as R5): the customer's admin `accepted_by` accepts at `now`
    /// while the customer is delegated to this request's reseller already:
    /// accepting again answers that relationship, and a pending request is
    /// used up by it (`Some`, to save), so it cannot delegate the customer
    /// again once that relationship ends (R23). A revoked or expired link
    /// still fails as such.
    pub fn accept_as_delegated(
        &self,
        now: DateTime<Utc>,
        accepted_by: &str,
    ) -> Result<Option<Self>, RelationshipError> {
        match self.check_usable(now) {
            Ok(()) => Ok(Some(Self {
                closed: Some(Closed::Accepted {
                    at: now,
                    acceptance: accepted_by.to_owned(),
                }),
                ..self.clone()
            })),
            Err(LinkRefusal::AlreadyUsed) => Ok(None),
            Err(dead) => Err(dead.into()),
        }
    }

    /// The provider withdraws the request at `now`; only a pending one.
    pub fn revoke(&self, now: DateTime<Utc>) -> Result<Self, RelationshipError> {
        Ok(Self {
            closed: Some(self.revocation(now)?),
            ..self.clone()
        })
    }
}

/// R22: a relationship request is a personal link; its rules are the
/// link's. Its acceptance records the accepting admin's subject.
impl PersonalLink for RelationshipRequest {
    type Acceptance = String;

    fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }

    fn closed(&self) -> Option<&Closed> {
        self.closed.as_ref()
    }
}

/// The link a customer's admin opens to accept: `base` with the token
/// appended.
pub use twotier_platform::personal_link::link;

#[cfg(test)]
mod tests;
