//! Everything that can go wrong in the partnership domain: one enum per
//! aggregate, each variant with its status code and stable reason. R3
//! failures are `twotier_partners::eligibility::Ineligible`, the one
//! definition every service reports.

use twotier_partners::eligibility::Ineligible;
use twotier_platform::personal_link::LinkRefusal;
use twotier_platform::{ErrorCode, ServiceError};

/// A provider listing failure (R1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListingError {
    /// A provider tried to change the official list.
    #[error(
        "only the platform operator changes provider listings; ask your representative to change your listing"
    )]
    ChangeRequiresRepresentative,
    /// No listing for that provider.
    #[error("no provider listing {0}")]
    NotFound(String),
    /// The provider is listed already.
    #[error("provider {0} is listed already")]
    AlreadyExists(String),
}

impl ServiceError for ListingError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::ChangeRequiresRepresentative => ErrorCode::PermissionDenied,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::AlreadyExists(_) => ErrorCode::AlreadyExists,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::ChangeRequiresRepresentative => "LISTING_CHANGE_REQUIRES_REPRESENTATIVE",
            Self::NotFound(_) => "LISTING_NOT_FOUND",
            Self::AlreadyExists(_) => "LISTING_ALREADY_EXISTS",
        }
    }
}

/// An onboarded-reseller failure (R2, R5).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResellerError {
    /// No onboarded reseller with that PartnerID (administrative reads).
    #[error("no onboarded reseller {0}")]
    NotFound(String),
    /// The PartnerID is onboarded already.
    #[error("reseller {0} is onboarded already")]
    AlreadyOnboarded(String),
    /// Another reseller uses that tenant id.
    #[error("tenant {0} belongs to another onboarded reseller")]
    TenantTaken(String),
    /// R5: the accepting tenant is not an onboarded reseller.
    #[error("your organisation is not onboarded as an indirect reseller")]
    NotOnboarded,
}

impl ServiceError for ResellerError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::AlreadyOnboarded(_) | Self::TenantTaken(_) => ErrorCode::AlreadyExists,
            Self::NotOnboarded => ErrorCode::FailedPrecondition,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "RESELLER_NOT_FOUND",
            Self::AlreadyOnboarded(_) => "RESELLER_ALREADY_ONBOARDED",
            Self::TenantTaken(_) => "RESELLER_TENANT_TAKEN",
            Self::NotOnboarded => "RESELLER_NOT_ONBOARDED",
        }
    }
}

/// An invitation failure (R4, R5).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvitationError {
    /// No invitation with that token (or name).
    #[error("no such invitation")]
    NotFound,
    /// The invitation expired.
    #[error("the invitation expired; ask the provider for a new one")]
    Expired,
    /// The provider revoked the invitation.
    #[error("the invitation was revoked by the provider")]
    Revoked,
    /// The invitation was accepted already.
    #[error("the invitation was used already")]
    AlreadyUsed,
    /// The invitation is not pending, so it cannot be revoked or sent; says
    /// what it is instead.
    #[error("the invitation is {0}, not pending")]
    NotPending(&'static str),
    /// R4: the email body lost the invitation link.
    #[error("must contain the invitation link")]
    LinkMissing,
    /// The subject holds the link or its token, which belongs in the body
    /// (the body alone is sealed before the email is stored).
    #[error("must not contain the link or its token; put the link in the body")]
    LinkInSubject,
    /// R7: the invitation was sent before the provider removed its
    /// partnership with the accepting reseller; working together again
    /// takes a new one.
    #[error(
        "this invitation was sent before the provider removed the partnership; working together again takes a new invitation"
    )]
    PredatesRemoval,
    /// R3 at the door: the accepting reseller may not be chosen.
    #[error(transparent)]
    Ineligible(#[from] Ineligible),
}

impl InvitationError {
    /// A concurrent revoke or acceptance committed between reading the
    /// invitation and writing it.
    pub const NO_LONGER_PENDING: Self = Self::NotPending("no longer pending");
}

impl From<LinkRefusal> for InvitationError {
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

impl ServiceError for InvitationError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::Expired
            | Self::Revoked
            | Self::AlreadyUsed
            | Self::NotPending(_)
            | Self::PredatesRemoval => ErrorCode::FailedPrecondition,
            Self::LinkMissing => ErrorCode::InvalidArgument { field: "body" },
            Self::LinkInSubject => ErrorCode::InvalidArgument { field: "subject" },
            Self::Ineligible(ineligible) => ineligible.error_code(),
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::NotFound => "INVITATION_NOT_FOUND",
            Self::Expired => "INVITATION_EXPIRED",
            Self::Revoked => "INVITATION_REVOKED",
            Self::AlreadyUsed => "INVITATION_ALREADY_USED",
            Self::NotPending(_) => "INVITATION_NOT_PENDING",
            Self::PredatesRemoval => "INVITATION_PREDATES_REMOVAL",
            Self::LinkMissing => "INVITATION_LINK_MISSING",
            Self::LinkInSubject => "INVITATION_LINK_IN_SUBJECT",
            Self::Ineligible(ineligible) => ineligible.reason(),
        }
    }
}

/// A partnership failure (R7, R8).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartnershipError {
    /// No such partnership for this caller.
    #[error("no such partnership")]
    NotFound,
    /// The provider has no partnership, active or past, with that reseller.
    #[error("{0} is not one of your indirect resellers")]
    IndirectResellerNotFound(String),
    /// The partnership was removed already.
    #[error("the partnership with {0} is not active")]
    NotActive(String),
}

impl ServiceError for PartnershipError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::NotFound | Self::IndirectResellerNotFound(_) => ErrorCode::NotFound,
            Self::NotActive(_) => ErrorCode::FailedPrecondition,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::NotFound => "PARTNERSHIP_NOT_FOUND",
            Self::IndirectResellerNotFound(_) => "INDIRECT_RESELLER_NOT_FOUND",
            Self::NotActive(_) => "PARTNERSHIP_NOT_ACTIVE",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r3_failures_at_acceptance_keep_the_codes_and_reasons_of_verify_partner_id() {
        for ineligible in [
            Ineligible::GlobalAccount("1234567".into()),
            Ineligible::MpaInactive("1234567".into()),
        ] {
            let at_acceptance = InvitationError::from(ineligible.clone());
            assert_eq!(at_acceptance.reason(), ineligible.reason());
            assert_eq!(at_acceptance.error_code(), ineligible.error_code());
            assert_eq!(at_acceptance.to_string(), ineligible.to_string());
        }
    }

    #[test]
    fn a_body_without_the_link_is_a_field_violation_of_the_body() {
        assert_eq!(
            InvitationError::LinkMissing.error_code(),
            ErrorCode::InvalidArgument { field: "body" }
        );
    }
}
