//! Emails from the partnership service's events: the invitation the
//! provider asked to send (R4) and the acceptance (R20). A removal sends
//! nothing (R7): no termination notice goes to the reseller or customers.

use std::sync::Arc;

use sea_orm::DatabaseTransaction;
use twotier_outbox::{EventHandler, HandleError, decode_payload};
use twotier_proto::events::EventEnvelope;
use twotier_proto::partnership as pb;

use super::profile::{provider_profile, upsert_from_listing};
use super::{language, name_of, upstream};
use crate::domain::{NewNotification, Templates, record};

/// Handles the partnership log.
pub struct PartnershipEmails {
    templates: Arc<Templates>,
}

impl PartnershipEmails {
    /// A handler rendering with `templates`.
    pub fn new(templates: Arc<Templates>) -> Self {
        Self { templates }
    }
}

#[async_trait::async_trait]
impl EventHandler for PartnershipEmails {
    fn event_types(&self) -> Vec<String> {
        vec![
            name_of::<pb::ProviderListingChanged>(),
            name_of::<pb::InvitationEmailRequested>(),
            name_of::<pb::PartnershipAccepted>(),
        ]
    }

    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
    ) -> Result<(), HandleError> {
        let event_type = event.event_type.as_str();
        if event_type == name_of::<pb::ProviderListingChanged>() {
            let payload: pb::ProviderListingChanged = decode_payload(event)?;
            let listing = payload.provider_listing.unwrap_or_default();
            let provider_id = listing.name.trim_start_matches("providerListings/");
            upsert_from_listing(
                txn,
                provider_id,
                &listing.display_name,
                &listing.contact_email,
                &listing.preferred_language,
            )
            .await?;
            return Ok(());
        }
        if event_type == name_of::<pb::InvitationEmailRequested>() {
            let payload: pb::InvitationEmailRequested = decode_payload(event)?;
            // The provider's own text, checked for the link by the
            // partnership service, is sent exactly as given.
            let email = NewNotification {
                recipient: payload.to,
                template: "partnership_invitation",
                language: language(&payload.language_code),
                subject: payload.subject,
                body: payload.body,
                sealed_link: Some(format!(
                    "invitation:{}",
                    payload.invitation.rsplit('/').next().unwrap_or_default()
                )),
            };
            return record(txn, upstream::PARTNERSHIP, event, vec![email]).await;
        }
        if event_type == name_of::<pb::PartnershipAccepted>() {
            let payload: pb::PartnershipAccepted = decode_payload(event)?;
            let partnership = payload.partnership.unwrap_or_default();
            let reseller = payload.reseller.unwrap_or_default();
            let contact = payload.provider_contact.unwrap_or_default();
            let profile = provider_profile(txn, &partnership.provider_id).await?;
            let recipient = if contact.email.is_empty() {
                profile.contact_email
            } else {
                contact.email
            };
            let language = language(&contact.language_code);
            let (subject, body) = self
                .templates
                .render(
                    "partnership_accepted",
                    &language,
                    minijinja::context! {
                        provider_name => contact.display_name,
                        reseller_company => reseller.company_name,
                        partner_id => reseller.partner_id,
                    },
                )
                .map_err(|e| HandleError::Rejected(e.to_string()))?;
            let email = NewNotification {
                recipient,
                template: "partnership_accepted",
                language,
                subject,
                body,
                sealed_link: None,
            };
            return record(txn, upstream::PARTNERSHIP, event, vec![email]).await;
        }
        Ok(())
    }
}
