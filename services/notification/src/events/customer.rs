//! Emails from the customer service's events: a customer created for a
//! reseller tells that reseller (R20).

use std::sync::Arc;

use sea_orm::DatabaseTransaction;
use twotier_outbox::{EventHandler, HandleError, decode_payload};
use twotier_proto::customer as pb;
use twotier_proto::events::EventEnvelope;

use super::profile::provider_profile;
use super::{language, name_of, upstream};
use crate::domain::{NewNotification, Templates, record};

/// Handles the customer log.
pub struct CustomerEmails {
    templates: Arc<Templates>,
}

impl CustomerEmails {
    /// A handler rendering with `templates`.
    pub fn new(templates: Arc<Templates>) -> Self {
        Self { templates }
    }
}

#[async_trait::async_trait]
impl EventHandler for CustomerEmails {
    fn event_types(&self) -> Vec<String> {
        vec![name_of::<pb::CustomerCreated>()]
    }

    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
    ) -> Result<(), HandleError> {
        let payload: pb::CustomerCreated = decode_payload(event)?;
        let Some(reseller) = payload.indirect_reseller else {
            return Ok(());
        };
        let customer = payload.customer.unwrap_or_default();
        let provider = provider_profile(txn, &event.tenant_id).await?;
        let language = language(&reseller.language_code);
        let (subject, body) = self
            .templates
            .render(
                "customer_created_for_reseller",
                &language,
                minijinja::context! {
                    provider_name => provider.display_name,
                    reseller_company => reseller.company_name,
                    customer_company => customer.company_name,
                    customer_domain => customer.domain,
                },
            )
            .map_err(|e| HandleError::Rejected(e.to_string()))?;
        let email = NewNotification {
            recipient: reseller.contact_email,
            template: "customer_created_for_reseller",
            language,
            subject,
            body,
            sealed_link: None,
        };
        record(txn, upstream::CUSTOMER, event, vec![email]).await
    }
}
