//! The customer log: a customer created for a reseller tells that reseller
//! (R20); a reseller relationship request the provider asked to send goes
//! to the customer's admin, and its acceptance is told to the reseller and
//! the provider (R22).

use sea_orm::DatabaseTransaction;
use twotier_outbox::{HandleError, Handles};
use twotier_proto::customer as pb;
use twotier_proto::events::EventEnvelope;

use super::Emails;
use crate::domain::{CustomerCreated, RelationshipAcceptance, RelationshipEmail, ResellerContact};
use crate::store::provider_profile;

/// Handles the customer log.
pub struct CustomerEvents {
    emails: Emails,
}

impl CustomerEvents {
    pub(super) fn new(emails: Emails) -> Self {
        Self { emails }
    }
}

#[async_trait::async_trait]
impl Handles<pb::CustomerCreated> for CustomerEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        payload: pb::CustomerCreated,
    ) -> Result<(), HandleError> {
        let provider = provider_profile::load(txn, &event.tenant_id).await?;
        self.emails
            .record(txn, event, customer_created(payload).emails(&provider))
            .await
    }

    /// Asked without a transaction: most customers are created without a
    /// reseller, and their events are passed without one.
    fn affects(&self, payload: &pb::CustomerCreated) -> bool {
        customer_created(payload.clone()).tells_anyone()
    }
}

fn customer_created(payload: pb::CustomerCreated) -> CustomerCreated {
    let customer = payload.customer.unwrap_or_default();
    CustomerCreated {
        reseller: payload.indirect_reseller.map(|reseller| ResellerContact {
            partner_id: reseller.partner_id,
            company_name: reseller.company_name,
            contact_email: reseller.contact_email,
            language_code: reseller.language_code,
        }),
        customer_company: customer.company_name,
        customer_domain: customer.domain,
    }
}

#[async_trait::async_trait]
impl Handles<pb::ResellerRelationshipEmailRequested> for CustomerEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        payload: pb::ResellerRelationshipEmailRequested,
    ) -> Result<(), HandleError> {
        let request = payload.reseller_relationship_request;
        let email = RelationshipEmail {
            request_id: request.rsplit('/').next().unwrap_or_default().to_owned(),
            to: payload.to,
            subject: payload.subject,
            body: payload.body,
            language_code: payload.language_code,
        };
        self.emails.record(txn, event, email.emails()).await
    }
}

#[async_trait::async_trait]
impl Handles<pb::ResellerRelationshipAccepted> for CustomerEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        payload: pb::ResellerRelationshipAccepted,
    ) -> Result<(), HandleError> {
        let reseller = payload.reseller.unwrap_or_default();
        let acceptance = RelationshipAcceptance {
            reseller: ResellerContact {
                partner_id: reseller.partner_id,
                company_name: reseller.company_name,
                contact_email: reseller.contact_email,
                language_code: reseller.language_code,
            },
            provider_email: payload.provider_contact.unwrap_or_default().email,
            customer_company: payload.customer_company_name,
            customer_domain: payload.customer_domain,
        };
        let provider = provider_profile::load(txn, &event.tenant_id).await?;
        self.emails
            .record(txn, event, acceptance.emails(&provider))
            .await
    }
}
