//! The gRPC face of the customer service: decode and validate requests,
//! check which tenant's rows the caller may touch, run the query or the
//! command, convert the reply.

pub mod access;
mod agreement;
mod convert;
mod customer;
mod delegated_admin;
mod relationship_accept;
mod relationship_request;

use std::sync::Arc;
use std::time::Duration;

use tonic::Request;
use twotier_outbox::Outbox;
use twotier_partners::{Choice, PartnerDirectory};
use twotier_platform::auth::Caller;
use twotier_platform::capability::CapabilityTokens;
use twotier_platform::paging::PageTokens;
use twotier_platform::rate_limit::RateLimit;
use twotier_platform::{Error, Violations};

use crate::domain::{CustomerError, RelationshipDrafts, Reseller, Viewer};

const PROVIDER: [&str; 2] = ["providers", "*"];
const CUSTOMER: [&str; 4] = ["providers", "*", "customers", "*"];
const AGREEMENT: [&str; 5] = ["providers", "*", "customers", "*", "customerAgreement"];
const RESELLER: [&str; 2] = ["resellers", "*"];
const RELATIONSHIP_REQUEST: [&str; 6] = [
    "providers",
    "*",
    "customers",
    "*",
    "resellerRelationshipRequests",
    "*",
];
const DELEGATED_ADMIN: [&str; 6] = [
    "providers",
    "*",
    "customers",
    "*",
    "delegatedAdminRelationships",
    "*",
];

/// Aggregate type of the events the customer service appends.
const AGGREGATE: &str = "customer";

/// Settings of the customer service.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct CustomerSettings {
    /// Base of reseller relationship links (R22); the token is appended as
    /// `?token=`.
    #[serde(default = "default_link_base")]
    pub relationship_link_base: String,
    /// How long a reseller relationship link works.
    #[serde(default = "default_relationship_ttl", with = "humantime_serde")]
    pub relationship_ttl: Duration,
    /// Reseller relationship emails one provider may have sent per minute
    /// (per replica).
    #[serde(default = "default_relationship_emails_per_minute")]
    pub relationship_emails_per_minute: u32,
}

impl Default for CustomerSettings {
    fn default() -> Self {
        Self {
            relationship_link_base: default_link_base(),
            relationship_ttl: default_relationship_ttl(),
            relationship_emails_per_minute: default_relationship_emails_per_minute(),
        }
    }
}

fn default_link_base() -> String {
    "https://customers.twotier.example/reseller-relationships/accept".to_owned()
}

fn default_relationship_ttl() -> Duration {
    Duration::from_secs(14 * 24 * 3600)
}

fn default_relationship_emails_per_minute() -> u32 {
    30
}

/// R24: checks the form of the PartnerID in `field`. Malformed, it is
/// refused as `VerifyPartnerId` refuses it (`PARTNER_ID_MALFORMED`) when
/// it is the request's only problem, else added to `violations`.
fn partner_id_form(
    partner_id: &str,
    field: &str,
    violations: &mut Violations,
) -> Result<(), Error> {
    let Err(problem) = twotier_platform::validate::partner_id(partner_id) else {
        return Ok(());
    };
    if violations.is_empty() {
        return Err(Error::invalid_field(
            twotier_partners::eligibility::reason::MALFORMED,
            field,
            problem,
        ));
    }
    violations.add(field, problem);
    Ok(())
}

/// Implements `CustomerService`.
#[derive(Clone)]
pub struct Api {
    outbox: Outbox,
    directory: PartnerDirectory,
    pages: PageTokens,
    settings: Arc<CustomerSettings>,
    capabilities: CapabilityTokens,
    drafts: Arc<RelationshipDrafts>,
    relationship_emails: Arc<RateLimit>,
}

impl Api {
    /// The API over `outbox`'s database and its partner projection
    /// `directory`, deriving relationship tokens with `capabilities` and
    /// sealing page tokens with `pages`.
    pub fn new(
        outbox: Outbox,
        directory: PartnerDirectory,
        settings: CustomerSettings,
        capabilities: CapabilityTokens,
        pages: PageTokens,
    ) -> Self {
        let relationship_emails = Arc::new(RateLimit::per_minute(
            settings.relationship_emails_per_minute,
            "RELATIONSHIP_EMAIL_RATE_LIMITED",
            "reseller relationship emails",
        ));
        Self {
            outbox,
            directory,
            pages,
            settings: Arc::new(settings),
            capabilities,
            drafts: Arc::new(RelationshipDrafts::new()),
            relationship_emails,
        }
    }

    /// R24: the reseller `partner_id` as `provider_id` may choose it now:
    /// an active partner that passes R3, else `VerifyPartnerId`'s failure
    /// or `RESELLER_NOT_PARTNER`. Asked outside a unit of work: it may wait
    /// for the partner projection to catch up.
    async fn chosen_reseller(
        &self,
        provider_id: &str,
        partner_id: &str,
    ) -> Result<Result<Reseller, CustomerError>, Error> {
        Ok(
            match self.directory.choose(provider_id, partner_id).await? {
                Choice::Partner(entry) => Ok(Reseller {
                    partner_id: entry.partner_id,
                    company_name: entry.company_name,
                    contact_email: entry.contact_email,
                    language_code: entry.preferred_language,
                }),
                Choice::NotPartner(_) => {
                    Err(CustomerError::ResellerNotPartner(partner_id.to_owned()))
                }
                Choice::Ineligible(ineligible) => Err(ineligible.into()),
            },
        )
    }

    /// Who the caller is as a viewer of customers: a provider, or the
    /// onboarded reseller whose tenant the caller's token names.
    async fn viewer<T>(&self, request: &Request<T>) -> Result<Viewer, Error> {
        let caller = Caller::of(request)?;
        if caller.is_provider() {
            return Ok(Viewer::Provider(caller.tenant_id.clone()));
        }
        let reseller = self.directory.reseller_of_tenant(&caller.tenant_id).await?;
        match reseller {
            Some(reseller) => Ok(Viewer::Reseller(reseller.partner_id)),
            None => Err(CustomerError::CustomerNotFound.into()),
        }
    }
}
