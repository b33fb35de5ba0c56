//! Who may call each RPC of the partnership service (enforced before the
//! call reaches a handler; handlers decide which tenant's rows it touches).

use twotier_platform::auth::Access::{AnyOf, Authenticated};
use twotier_platform::auth::{Caller, PROVIDER, Role, Rule};

use crate::domain::ListingError;

const LISTINGS: &str = "twotier.partnership.v1.ProviderListingService";
const RESELLERS: &str = "twotier.partnership.v1.ResellerService";
const PARTNERSHIPS: &str = "twotier.partnership.v1.PartnershipService";

/// Providers, in any of their roles, reach the listing changes so that
/// they hear R1's answer (ask your representative) rather than a bare
/// refusal that names roles none of them has for this.
const LISTING_CHANGE: &[Role] = &[
    Role::PlatformOperator,
    Role::GlobalAdmin,
    Role::SalesAgent,
    Role::BillingAdmin,
    Role::HelpdeskAgent,
];
const OPERATOR: &[Role] = &[Role::PlatformOperator];
/// R3 is asked by providers, the operator and the subscription service.
const VERIFIERS: &[Role] = &[
    Role::GlobalAdmin,
    Role::SalesAgent,
    Role::PlatformOperator,
    Role::Service,
];

/// The rules of `ProviderListingService`.
pub const LISTING_RULES: &[Rule] = &[
    Rule::new(LISTINGS, "ListProviderListings", Authenticated),
    Rule::new(LISTINGS, "GetProviderListing", Authenticated),
    Rule::new(LISTINGS, "CreateProviderListing", AnyOf(LISTING_CHANGE)),
    Rule::new(LISTINGS, "UpdateProviderListing", AnyOf(LISTING_CHANGE)),
];

/// The rules of `ResellerService`.
pub const RESELLER_RULES: &[Rule] = &[
    Rule::new(RESELLERS, "OnboardReseller", AnyOf(OPERATOR)),
    Rule::new(
        RESELLERS,
        "GetReseller",
        AnyOf(&[Role::PlatformOperator, Role::ResellerAdmin]),
    ),
    Rule::new(RESELLERS, "UpdateReseller", AnyOf(OPERATOR)),
    Rule::new(RESELLERS, "VerifyPartnerId", AnyOf(VERIFIERS)),
];

/// The rules of `PartnershipService`.
pub const PARTNERSHIP_RULES: &[Rule] = &[
    Rule::new(PARTNERSHIPS, "RequestPartnership", AnyOf(PROVIDER)),
    Rule::new(PARTNERSHIPS, "SendInvitationEmail", AnyOf(PROVIDER)),
    Rule::new(PARTNERSHIPS, "GetInvitation", AnyOf(PROVIDER)),
    Rule::new(PARTNERSHIPS, "ListInvitations", AnyOf(PROVIDER)),
    Rule::new(PARTNERSHIPS, "RevokeInvitation", AnyOf(PROVIDER)),
    Rule::new(
        PARTNERSHIPS,
        "AcceptInvitation",
        AnyOf(&[Role::ResellerAdmin]),
    ),
    Rule::new(
        PARTNERSHIPS,
        "GetPartnership",
        AnyOf(&[Role::GlobalAdmin, Role::SalesAgent, Role::ResellerAdmin]),
    ),
    Rule::new(PARTNERSHIPS, "ListIndirectResellers", AnyOf(PROVIDER)),
    Rule::new(PARTNERSHIPS, "GetIndirectReseller", AnyOf(PROVIDER)),
    Rule::new(PARTNERSHIPS, "RemovePartnership", AnyOf(PROVIDER)),
];

/// R1: only the platform operator changes the official list. A provider
/// (the only other caller [`LISTING_RULES`] lets through) is told to ask
/// its representative.
pub fn may_change_listings(caller: &Caller) -> Result<(), ListingError> {
    if caller.has(Role::PlatformOperator) {
        return Ok(());
    }
    Err(ListingError::ChangeRequiresRepresentative)
}
