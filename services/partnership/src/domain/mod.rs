//! The rules of R1-R8 and the operations that apply them, one transaction
//! per command with its events in the same transaction.

mod convert;
mod email_draft;
mod error;
pub mod invitation;
mod listing;
mod partnership;
mod reseller;
mod token;

use std::sync::Arc;
use std::time::Duration;

use twotier_outbox::Outbox;

pub use email_draft::EmailDrafts;
pub use error::PartnershipError;
pub use listing::{ListingFields, ListingPatch};
pub use partnership::Attestation;
pub use reseller::{AccountKind, ResellerFields, ResellerPatch};

/// Result of a partnership-domain operation.
pub type Result<T> = std::result::Result<T, PartnershipError>;

/// Settings of the partnership domain.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct PartnershipSettings {
    /// Base of invitation links; the token is appended as `?token=`.
    #[serde(default = "default_link_base")]
    pub invitation_link_base: String,
    /// How long an invitation link works.
    #[serde(default = "default_invitation_ttl", with = "humantime_serde")]
    pub invitation_ttl: Duration,
}

impl Default for PartnershipSettings {
    fn default() -> Self {
        Self {
            invitation_link_base: default_link_base(),
            invitation_ttl: default_invitation_ttl(),
        }
    }
}

fn default_link_base() -> String {
    "https://partners.twotier.example/invitations/accept".to_owned()
}

fn default_invitation_ttl() -> Duration {
    Duration::from_secs(14 * 24 * 3600)
}

/// The partnership domain: listings, resellers, invitations, partnerships.
#[derive(Clone)]
pub struct Partnerships {
    outbox: Outbox,
    settings: Arc<PartnershipSettings>,
    drafts: Arc<EmailDrafts>,
}

impl Partnerships {
    /// The domain over `outbox`'s database.
    pub fn new(outbox: Outbox, settings: PartnershipSettings) -> Self {
        Self {
            outbox,
            settings: Arc::new(settings),
            drafts: Arc::new(EmailDrafts::new()),
        }
    }
}
