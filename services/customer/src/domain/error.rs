//! Everything that can go wrong in the customer domain, each with its code
//! and stable reason.

use twotier_partners::eligibility::Ineligible;
use twotier_platform::personal_link::LinkRefusal;
use twotier_platform::{ErrorCode, ServiceError};

/// Why a customer cannot be added, read or listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomerError {
    /// Not a domain prefix ([`super::domain_prefix`]).
    #[error("must be 3 to 27 letters and digits")]
    MalformedDomainPrefix,
    /// Another customer has the domain prefix.
    #[error("{0}.onmicrosoft.com is taken; choose another domain prefix")]
    DomainPrefixTaken(String),
    /// R9: the reseller is not an active partner of the provider.
    #[error("reseller {0} is not an active partner of yours")]
    ResellerNotPartner(String),
    /// No such customer for this caller.
    #[error("no such customer")]
    CustomerNotFound,
    /// The reseller named is not the caller's.
    #[error("no such reseller")]
    ResellerNotFound,
    /// R24: the chosen reseller fails R3, reported as `VerifyPartnerId`
    /// reports it.
    #[error(transparent)]
    Ineligible(#[from] Ineligible),
}

impl ServiceError for CustomerError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::MalformedDomainPrefix => ErrorCode::InvalidArgument {
                field: "domain_prefix",
            },
            Self::DomainPrefixTaken(_) => ErrorCode::AlreadyExists,
            Self::ResellerNotPartner(_) => ErrorCode::FailedPrecondition,
            Self::CustomerNotFound | Self::ResellerNotFound => ErrorCode::NotFound,
            Self::Ineligible(ineligible) => ineligible.error_code(),
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::MalformedDomainPrefix => "INVALID_DOMAIN_PREFIX",
            Self::DomainPrefixTaken(_) => "DOMAIN_PREFIX_TAKEN",
            Self::ResellerNotPartner(_) => "RESELLER_NOT_PARTNER",
            Self::CustomerNotFound => "CUSTOMER_NOT_FOUND",
            Self::ResellerNotFound => "RESELLER_NOT_FOUND",
            Self::Ineligible(ineligible) => ineligible.reason(),
        }
    }
}

/// Why a reseller relationship request (R22) or a delegated admin
/// relationship (R23) cannot be made, used or ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelationshipError {
    /// No request with that token (or name) for this caller.
    #[error("no such reseller relationship request")]
    NotFound,
    /// The request expired.
    #[error("the reseller relationship request expired; ask the provider for a new one")]
    Expired,
    /// The provider revoked the request.
    #[error("the reseller relationship request was revoked by the provider")]
    Revoked,
    /// The request was accepted already.
    #[error("the reseller relationship request was used already")]
    AlreadyUsed,
    /// The request is not pending, so it cannot be revoked or sent; says
    /// what it is instead.
    #[error("the reseller relationship request is {0}, not pending")]
    NotPending(&'static str),
    /// The email body lost the request's link.
    #[error("must contain the reseller relationship link")]
    LinkMissing,
    /// The subject holds the link or its token, which belongs in the body
    /// (the body alone is sealed before the email is stored).
    #[error("must not contain the link or its token; put the link in the body")]
    LinkInSubject,
    /// The customer is delegated to a reseller (this PartnerID) already.
    #[error(
        "the customer is delegated to reseller {0} already; end that delegated admin relationship first"
    )]
    AlreadyDelegated(String),
    /// R23: ending a relationship needs the explicit confirmation.
    #[error("must be true: ending a delegated admin relationship needs explicit confirmation")]
    NotConfirmed,
    /// No such delegated admin relationship for this caller.
    #[error("no such delegated admin relationship")]
    DelegationNotFound,
    /// The reseller or the customer refuses (R24's failures among them).
    #[error(transparent)]
    Customer(#[from] CustomerError),
}

impl RelationshipError {
    /// A concurrent revoke or acceptance committed between reading the
    /// request and writing it.
    pub const NO_LONGER_PENDING: Self = Self::NotPending("no longer pending");
}

impl From<LinkRefusal> for RelationshipError {
    fn from(refusal: LinkRefusal) -> Self {
        match refusal {
            LinkRefusal::Expired => Self::Expired,
            LinkRefusal::Revoked => Self::Revoked,
            LinkRefusal::AlreadyUsed => Self::AlreadyUsed,
            LinkRefusal::NotPending(state) => Self::NotPending(state),
            LinkRefusal::LinkMissing => Self::LinkMissing,
            LinkRefusal::TokenInSubject => Self::LinkInSubject,
        }
    }
}

impl ServiceError for RelationshipError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::NotFound | Self::DelegationNotFound => ErrorCode::NotFound,
            Self::Expired
            | Self::Revoked
            | Self::AlreadyUsed
            | Self::NotPending(_)
            | Self::AlreadyDelegated(_) => ErrorCode::FailedPrecondition,
            Self::LinkMissing => ErrorCode::InvalidArgument { field: "body" },
            Self::LinkInSubject => ErrorCode::InvalidArgument { field: "subject" },
            Self::NotConfirmed => ErrorCode::InvalidArgument { field: "confirm" },
            Self::Customer(error) => error.error_code(),
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::NotFound => "RELATIONSHIP_REQUEST_NOT_FOUND",
            Self::Expired => "RELATIONSHIP_REQUEST_EXPIRED",
            Self::Revoked => "RELATIONSHIP_REQUEST_REVOKED",
            Self::AlreadyUsed => "RELATIONSHIP_REQUEST_ALREADY_USED",
            Self::NotPending(_) => "RELATIONSHIP_REQUEST_NOT_PENDING",
            Self::LinkMissing => "RELATIONSHIP_LINK_MISSING",
            Self::LinkInSubject => "RELATIONSHIP_LINK_IN_SUBJECT",
            Self::AlreadyDelegated(_) => "CUSTOMER_ALREADY_DELEGATED",
            Self::NotConfirmed => "END_NOT_CONFIRMED",
            Self::DelegationNotFound => "DELEGATED_ADMIN_RELATIONSHIP_NOT_FOUND",
            Self::Customer(error) => error.reason(),
        }
    }
}

/// Why a customer agreement cannot be recorded or read (R12).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgreementError {
    /// The date agreed is not a `YYYY-MM-DD` date.
    #[error("must be a date like 2026-11-25")]
    MalformedDate,
    /// The date agreed lies in the future.
    #[error("must not be in the future")]
    DateInFuture,
    /// No customer agreement is recorded yet.
    #[error("no customer agreement is recorded for this customer")]
    NotRecorded,
}

impl ServiceError for AgreementError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::MalformedDate | Self::DateInFuture => ErrorCode::InvalidArgument {
                field: "customer_agreement.date_agreed",
            },
            Self::NotRecorded => ErrorCode::NotFound,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::MalformedDate | Self::DateInFuture => "INVALID_CUSTOMER_AGREEMENT",
            Self::NotRecorded => "CUSTOMER_AGREEMENT_NOT_FOUND",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_keeps_its_code_and_reason() {
        let customer = [
            (
                CustomerError::MalformedDomainPrefix,
                ErrorCode::InvalidArgument {
                    field: "domain_prefix",
                },
                "INVALID_DOMAIN_PREFIX",
            ),
            (
                CustomerError::DomainPrefixTaken("adatum".into()),
                ErrorCode::AlreadyExists,
                "DOMAIN_PREFIX_TAKEN",
            ),
            (
                CustomerError::ResellerNotPartner("4567890".into()),
                ErrorCode::FailedPrecondition,
                "RESELLER_NOT_PARTNER",
            ),
            (
                CustomerError::CustomerNotFound,
                ErrorCode::NotFound,
                "CUSTOMER_NOT_FOUND",
            ),
            (
                CustomerError::ResellerNotFound,
                ErrorCode::NotFound,
                "RESELLER_NOT_FOUND",
            ),
            (
                CustomerError::Ineligible(Ineligible::MpaInactive("4567890".into())),
                ErrorCode::FailedPrecondition,
                "PARTNER_MPA_NOT_ACTIVE",
            ),
        ];
        for (error, code, reason) in customer {
            assert_eq!((error.error_code(), error.reason()), (code, reason));
        }
        let agreement = [
            (AgreementError::MalformedDate, "INVALID_CUSTOMER_AGREEMENT"),
            (AgreementError::DateInFuture, "INVALID_CUSTOMER_AGREEMENT"),
            (AgreementError::NotRecorded, "CUSTOMER_AGREEMENT_NOT_FOUND"),
        ];
        for (error, reason) in agreement {
            assert_eq!(error.reason(), reason);
        }
        assert_eq!(
            AgreementError::NotRecorded.error_code(),
            ErrorCode::NotFound
        );
        let relationship = [
            (
                RelationshipError::NotFound,
                "RELATIONSHIP_REQUEST_NOT_FOUND",
            ),
            (RelationshipError::Expired, "RELATIONSHIP_REQUEST_EXPIRED"),
            (RelationshipError::Revoked, "RELATIONSHIP_REQUEST_REVOKED"),
            (
                RelationshipError::AlreadyUsed,
                "RELATIONSHIP_REQUEST_ALREADY_USED",
            ),
            (RelationshipError::LinkMissing, "RELATIONSHIP_LINK_MISSING"),
            (RelationshipError::NotConfirmed, "END_NOT_CONFIRMED"),
            (
                RelationshipError::AlreadyDelegated("1".into()),
                "CUSTOMER_ALREADY_DELEGATED",
            ),
            (
                RelationshipError::Customer(CustomerError::Ineligible(Ineligible::Unknown(
                    "1".into(),
                ))),
                "PARTNER_ID_NOT_FOUND",
            ),
        ];
        for (error, reason) in relationship {
            assert_eq!(error.reason(), reason);
        }
    }
}
