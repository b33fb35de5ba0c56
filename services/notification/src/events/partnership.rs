//! The partnership log: a listing says how to address its provider; the
//! invitation the provider asked to send (R4) and an acceptance (R20) cause
//! emails.

use sea_orm::DatabaseTransaction;
use twotier_outbox::{HandleError, Handles, projection};
use twotier_platform::names;
use twotier_proto::events::EventEnvelope;
use twotier_proto::partnership as pb;

use super::Emails;
use crate::domain::{Acceptance, InvitationEmail, ProviderContact, ProviderProfile};
use crate::store::provider_profile;

/// Handles the partnership log.
pub struct PartnershipEvents {
    emails: Emails,
}

impl PartnershipEvents {
    pub(super) fn new(emails: Emails) -> Self {
        Self { emails }
    }
}

#[async_trait::async_trait]
impl Handles<pb::ProviderListingChanged> for PartnershipEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        payload: pb::ProviderListingChanged,
    ) -> Result<(), HandleError> {
        let listing = payload.provider_listing.unwrap_or_default();
        let [provider_id] = names::parse(&listing.name, &names::PROVIDER_LISTING)
            .ok_or_else(|| HandleError::Rejected(format!("not a listing: {}", listing.name)))?;
        let profile = ProviderProfile {
            display_name: listing.display_name,
            contact_email: listing.contact_email,
            language: listing.preferred_language,
        };
        provider_profile::save(txn, provider_id, profile, projection::position(event)).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Handles<pb::InvitationEmailRequested> for PartnershipEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        payload: pb::InvitationEmailRequested,
    ) -> Result<(), HandleError> {
        let request = InvitationEmail {
            invitation_id: payload
                .invitation
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned(),
            to: payload.to,
            subject: payload.subject,
            body: payload.body,
            language_code: payload.language_code,
        };
        self.emails.record(txn, event, request.emails()).await
    }
}

#[async_trait::async_trait]
impl Handles<pb::PartnershipAccepted> for PartnershipEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        payload: pb::PartnershipAccepted,
    ) -> Result<(), HandleError> {
        let partnership = payload.partnership.unwrap_or_default();
        let reseller = payload.reseller.unwrap_or_default();
        let contact = payload.provider_contact.unwrap_or_default();
        let provider = provider_profile::load(txn, &partnership.provider_id).await?;
        let acceptance = Acceptance {
            contact: ProviderContact {
                display_name: contact.display_name,
                email: contact.email,
                language_code: contact.language_code,
            },
            reseller_company: reseller.company_name,
            partner_id: reseller.partner_id,
        };
        self.emails
            .record(txn, event, acceptance.emails(&provider))
            .await
    }
}
