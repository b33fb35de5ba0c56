//! The gRPC face of the partnership service: decode and validate requests,
//! check tenants and resources, run the queries and the commands (one unit
//! of work each) over the domain and the store, convert the replies. Every
//! failure becomes a status through `twotier_platform::Error`.

pub mod access;
mod convert;
mod invitation;
mod listing;
mod partnership;
mod reseller;

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tonic::{Response, Status};
use twotier_outbox::Outbox;
use twotier_platform::Error;
use twotier_platform::capability::CapabilityTokens;
use twotier_platform::inline_reads::Reads;
use twotier_platform::paging::PageTokens;
use twotier_platform::rate_limit::RateLimit;

use crate::domain::EmailDrafts;

/// Settings of the partnership service.
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

/// Implements `ProviderListingService`, `ResellerService` and
/// `PartnershipService`.
#[derive(Clone)]
pub struct Api {
    outbox: Outbox,
    pages: PageTokens,
    settings: Arc<PartnershipSettings>,
    drafts: Arc<EmailDrafts>,
    capabilities: CapabilityTokens,
    invitation_emails: Arc<RateLimit>,
}

impl Api {
    /// The API over `outbox`'s database, deriving invitation tokens with
    /// `capabilities` and sealing page tokens with `pages`.
    pub fn new(
        outbox: Outbox,
        settings: PartnershipSettings,
        capabilities: CapabilityTokens,
        pages: PageTokens,
    ) -> Self {
        let invitation_emails = Arc::new(RateLimit::per_minute(
            settings.invitation_emails_per_minute,
            "INVITATION_EMAIL_RATE_LIMITED",
            "invitation emails",
        ));
        Self {
            outbox,
            pages,
            settings: Arc::new(settings),
            drafts: Arc::new(EmailDrafts::new()),
            capabilities,
            invitation_emails,
        }
    }

    /// Connections for queries (see [`Outbox::reads`]); commands run in
    /// [`Outbox::command`].
    fn db(&self) -> &DatabaseConnection {
        self.outbox.reads()
    }

    /// The same, for the reads made by position: on SQLite those are
    /// answered in the calling thread (`twotier_platform::inline_reads`).
    fn reads(&self) -> &Reads {
        self.outbox.reads_by_position()
    }
}

/// A handler's outcome as tonic answers it.
fn reply<T>(outcome: Result<T, Error>) -> Result<Response<T>, Status> {
    outcome.map(Response::new).map_err(Status::from)
}
