//! The customer log: a customer created for a reseller tells that reseller
//! (R20).

use sea_orm::DatabaseTransaction;
use twotier_outbox::{HandleError, Handles};
use twotier_proto::customer as pb;
use twotier_proto::events::EventEnvelope;

use super::Emails;
use crate::domain::{CustomerCreated, ResellerContact};
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
        let customer = payload.customer.unwrap_or_default();
        let created = CustomerCreated {
            reseller: payload.indirect_reseller.map(|reseller| ResellerContact {
                partner_id: reseller.partner_id,
                company_name: reseller.company_name,
                contact_email: reseller.contact_email,
                language_code: reseller.language_code,
            }),
            customer_company: customer.company_name,
            customer_domain: customer.domain,
        };
        let provider = provider_profile::load(txn, &event.tenant_id).await?;
        self.emails
            .record(txn, event, created.emails(&provider))
            .await
    }
}
