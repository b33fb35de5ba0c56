//! The rules of R1-R8 as plain types: listings, onboarded resellers,
//! invitations and partnerships, each with the decisions it makes. No IO:
//! the api room loads and saves through the store and runs the commands.

mod email_draft;
mod error;
pub mod invitation;
pub mod listing;
pub mod partnership;
pub mod reseller;

pub use email_draft::{DraftError, EmailDraft, EmailDrafts};
pub use error::{InvitationError, ListingError, PartnershipError, ResellerError};
pub use invitation::{Accepted, Closed, Invitation, InvitationRequest, InvitationState};
pub use listing::{Listing, ListingFields, ListingPatch, ProviderContact};
pub use partnership::{
    Attestation, Attested, IndirectReseller, Partnership, PartnershipState, Removal,
    RemovalConsent, RemovalRefused, Statement,
};
pub use reseller::{AccountKind, Reseller, ResellerFields, ResellerPatch, ResellerStatus};
pub use twotier_partners::eligibility::Ineligible;
pub use twotier_platform::personal_link::PersonalLink;
