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
use twotier_platform::capability::CapabilityTokens;
use twotier_platform::rate_limit::RateLimit;

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
    /// Invitation emails one provider may have sent per minute (per
    /// replica): twotier's mail server must not become a provider's spam
    /// cannon.
    #[serde(default = "default_invitation_emails_per_minute")]
    pub invitation_emails_per_minute: u32,
}

impl Default for PartnershipSettings {
    fn default() -> Self {
        Self {
            invitation_link_base: default_link_base(),
            invitation_ttl: default_invitation_ttl(),
            invitation_emails_per_minute: default_invitation_emails_per_minute(),
        }
    }
}

fn default_link_base() -> String {
    "https://partners.twotier.example/invitations/accept".to_owned()
}

fn default_invitation_ttl() -> Duration {
    Duration::from_secs(14 * 24 * 3600)
}

fn default_invitation_emails_per_minute() -> u32 {
    30
}

/// The partnership domain: listings, resellers, invitations, partnerships.
#[derive(Clone)]
pub struct Partnerships {
    outbox: Outbox,
    settings: Arc<PartnershipSettings>,
    drafts: Arc<EmailDrafts>,
    capabilities: CapabilityTokens,
    invitation_emails: Arc<RateLimit>,
}

impl Partnerships {
    /// The domain over `outbox`'s database, deriving invitation tokens with
    /// `capabilities`.
    pub fn new(
        outbox: Outbox,
        settings: PartnershipSettings,
        capabilities: CapabilityTokens,
    ) -> Self {
        let invitation_emails = Arc::new(RateLimit::per_minute(
            settings.invitation_emails_per_minute,
            "INVITATION_EMAIL_RATE_LIMITED",
            "invitation emails",
        ));
        Self {
            outbox,
            settings: Arc::new(settings),
            drafts: Arc::new(EmailDrafts::new()),
            capabilities,
            invitation_emails,
        }
    }
}
