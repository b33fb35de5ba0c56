//! Everything that can go wrong in the partnership domain, each with its
//! stable reason.

use twotier_platform::Error;

/// A partnership-domain failure.
#[derive(Debug, thiserror::Error)]
pub enum PartnershipError {
    /// A provider tried to change the official list (R1).
    #[error(
        "only the platform operator changes provider listings; ask your representative to change your listing"
    )]
    ListingChangeRequiresRepresentative,
    /// No listing for that provider.
    #[error("no provider listing {0}")]
    ListingNotFound(String),
    /// The provider is listed already.
    #[error("provider {0} is listed already")]
    ListingAlreadyExists(String),
    /// No onboarded reseller with that PartnerID (administrative reads).
    #[error("no onboarded reseller {0}")]
    ResellerNotFound(String),
    /// The PartnerID is onboarded already.
    #[error("reseller {0} is onboarded already")]
    ResellerAlreadyOnboarded(String),
    /// Another reseller uses that tenant id.
    #[error("tenant {0} belongs to another onboarded reseller")]
    ResellerTenantTaken(String),
    /// R3: the PartnerID is unknown.
    #[error("PartnerID {0} is not known")]
    PartnerIdNotFound(String),
    /// R3: the PartnerID is a global account.
    #[error(
        "PartnerID {0} belongs to a global account; use the PartnerID of the reseller's location account"
    )]
    PartnerIdNotLocationAccount(String),
    /// R3: the reseller's MPA is not active.
    #[error("the Microsoft Partner Agreement of PartnerID {0} is not active")]
    PartnerMpaNotActive(String),
    /// R5: no invitation with that token (or name).
    #[error("no such invitation")]
    InvitationNotFound,
    /// R5: the invitation expired.
    #[error("the invitation expired; ask the provider for a new one")]
    InvitationExpired,
    /// R5: the provider revoked the invitation.
    #[error("the invitation was revoked by the provider")]
    InvitationRevoked,
    /// R5: the invitation was accepted already.
    #[error("the invitation was used already")]
    InvitationAlreadyUsed,
    /// The invitation is not pending, so it cannot be revoked or sent.
    #[error("the invitation is {0}, not pending")]
    InvitationNotPending(&'static str),
    /// R4: the email body lost the invitation link.
    #[error("body must contain the invitation link")]
    InvitationLinkMissing,
    /// R5: the accepting tenant is not an onboarded reseller.
    #[error("your organisation is not onboarded as an indirect reseller")]
    ResellerNotOnboarded,
    /// No such partnership for this caller.
    #[error("no such partnership")]
    PartnershipNotFound,
    /// The provider has no partnership, active or past, with that reseller.
    #[error("{0} is not one of your indirect resellers")]
    IndirectResellerNotFound(String),
    /// R7: the partnership was removed already.
    #[error("the partnership with {0} is not active")]
    PartnershipNotActive(String),
    /// A stale etag.
    #[error("stale etag")]
    StaleEtag(&'static str),
    /// Validation, permissions and the database.
    #[error(transparent)]
    Platform(#[from] Error),
}

impl From<sea_orm::DbErr> for PartnershipError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Platform(error.into())
    }
}

impl From<PartnershipError> for Error {
    fn from(error: PartnershipError) -> Self {
        let message = error.to_string();
        match error {
            PartnershipError::ListingChangeRequiresRepresentative => Error::PermissionDenied {
                reason: "LISTING_CHANGE_REQUIRES_REPRESENTATIVE",
                message,
            },
            PartnershipError::ListingNotFound(_) => not_found("LISTING_NOT_FOUND", message),
            PartnershipError::ListingAlreadyExists(_) => {
                already_exists("LISTING_ALREADY_EXISTS", message)
            }
            PartnershipError::ResellerNotFound(_) => not_found("RESELLER_NOT_FOUND", message),
            PartnershipError::ResellerAlreadyOnboarded(_) => {
                already_exists("RESELLER_ALREADY_ONBOARDED", message)
            }
            PartnershipError::ResellerTenantTaken(_) => {
                already_exists("RESELLER_TENANT_TAKEN", message)
            }
            PartnershipError::PartnerIdNotFound(_) => not_found("PARTNER_ID_NOT_FOUND", message),
            PartnershipError::PartnerIdNotLocationAccount(_) => {
                precondition("PARTNER_ID_NOT_LOCATION_ACCOUNT", message)
            }
            PartnershipError::PartnerMpaNotActive(_) => {
                precondition("PARTNER_MPA_NOT_ACTIVE", message)
            }
            PartnershipError::InvitationNotFound => not_found("INVITATION_NOT_FOUND", message),
            PartnershipError::InvitationExpired => precondition("INVITATION_EXPIRED", message),
            PartnershipError::InvitationRevoked => precondition("INVITATION_REVOKED", message),
            PartnershipError::InvitationAlreadyUsed => {
                precondition("INVITATION_ALREADY_USED", message)
            }
            PartnershipError::InvitationNotPending(_) => {
                precondition("INVITATION_NOT_PENDING", message)
            }
            PartnershipError::InvitationLinkMissing => Error::invalid_field(
                "INVITATION_LINK_MISSING",
                "body",
                "must contain the invitation link",
            ),
            PartnershipError::ResellerNotOnboarded => {
                precondition("RESELLER_NOT_ONBOARDED", message)
            }
            PartnershipError::PartnershipNotFound => not_found("PARTNERSHIP_NOT_FOUND", message),
            PartnershipError::IndirectResellerNotFound(_) => {
                not_found("INDIRECT_RESELLER_NOT_FOUND", message)
            }
            PartnershipError::PartnershipNotActive(_) => {
                precondition("PARTNERSHIP_NOT_ACTIVE", message)
            }
            PartnershipError::StaleEtag(resource) => Error::etag_mismatch(resource),
            PartnershipError::Platform(inner) => inner,
        }
    }
}

fn not_found(reason: &'static str, message: String) -> Error {
    Error::NotFound { reason, message }
}

fn already_exists(reason: &'static str, message: String) -> Error {
    Error::AlreadyExists { reason, message }
}

fn precondition(reason: &'static str, message: String) -> Error {
    Error::FailedPrecondition { reason, message }
}
