//! Emails from the subscription service's events (R20): an order placed
//! (to the provider and to each reseller of record on it), and a reseller
//! made reseller of record or support contact (to that reseller).

use std::sync::Arc;

use sea_orm::DatabaseTransaction;
use twotier_outbox::{EventHandler, HandleError, decode_payload};
use twotier_proto::events::EventEnvelope;
use twotier_proto::subscription as pb;

use super::profile::provider_profile;
use super::{language, name_of, upstream};
use crate::domain::{NewNotification, Templates, record};

/// Handles the subscription log.
pub struct SubscriptionEmails {
    templates: Arc<Templates>,
}

impl SubscriptionEmails {
    /// A handler rendering with `templates`.
    pub fn new(templates: Arc<Templates>) -> Self {
        Self { templates }
    }

    fn render(
        &self,
        template: &'static str,
        recipient: String,
        language: String,
        context: minijinja::Value,
    ) -> Result<NewNotification, HandleError> {
        let (subject, body) = self
            .templates
            .render(template, &language, context)
            .map_err(|e| HandleError::Rejected(e.to_string()))?;
        Ok(NewNotification {
            recipient,
            template,
            language,
            subject,
            body,
            sealed_link: None,
        })
    }

    fn order_emails(
        &self,
        order: &pb::OrderPlaced,
        provider: super::profile::ProviderProfile,
    ) -> Result<Vec<NewNotification>, HandleError> {
        let placed = order.order.clone().unwrap_or_default();
        let line = |l: &pb::OrderLine| minijinja::context! { quantity => l.quantity, offer => l.offer_display_name.clone(), reseller => l.reseller_partner_id.clone() };
        let provider_recipient = if order.placed_by_email.is_empty() {
            provider.contact_email.clone()
        } else {
            order.placed_by_email.clone()
        };
        let mut emails = vec![self.render(
            "order_placed",
            provider_recipient,
            language(&provider.language),
            minijinja::context! {
                provider_name => provider.display_name.clone(),
                customer_company => order.customer_company_name.clone(),
                order => placed.name.clone(),
                lines => placed.lines.iter().map(line).collect::<Vec<_>>(),
            },
        )?];
        for reseller in &order.resellers_of_record {
            let lines: Vec<_> = placed
                .lines
                .iter()
                .filter(|l| l.reseller_partner_id == reseller.partner_id)
                .map(line)
                .collect();
            emails.push(self.render(
                "order_placed_reseller",
                reseller.contact_email.clone(),
                language(&reseller.language_code),
                minijinja::context! {
                    provider_name => provider.display_name.clone(),
                    reseller_company => reseller.company_name.clone(),
                    partner_id => reseller.partner_id.clone(),
                    customer_company => order.customer_company_name.clone(),
                    lines,
                },
            )?);
        }
        Ok(emails)
    }

    fn assignment_email(
        &self,
        template: &'static str,
        subscription: Option<pb::Subscription>,
        reseller: Option<pb::ResellerContact>,
        customer_company: String,
        provider: super::profile::ProviderProfile,
    ) -> Result<Vec<NewNotification>, HandleError> {
        // Clearing the reseller of record or support contact tells no one.
        let Some(reseller) = reseller else {
            return Ok(Vec::new());
        };
        let subscription = subscription.unwrap_or_default();
        Ok(vec![self.render(
            template,
            reseller.contact_email.clone(),
            language(&reseller.language_code),
            minijinja::context! {
                provider_name => provider.display_name,
                reseller_company => reseller.company_name,
                partner_id => reseller.partner_id,
                customer_company,
                offer => subscription.offer_display_name,
                quantity => subscription.quantity,
            },
        )?])
    }
}

#[async_trait::async_trait]
impl EventHandler for SubscriptionEmails {
    fn event_types(&self) -> Vec<String> {
        vec![
            name_of::<pb::OrderPlaced>(),
            name_of::<pb::ResellerOfRecordChanged>(),
            name_of::<pb::SupportContactChanged>(),
        ]
    }

    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
    ) -> Result<(), HandleError> {
        let provider = provider_profile(txn, &event.tenant_id).await?;
        let event_type = event.event_type.as_str();
        let emails = if event_type == name_of::<pb::OrderPlaced>() {
            let payload: pb::OrderPlaced = decode_payload(event)?;
            self.order_emails(&payload, provider)?
        } else if event_type == name_of::<pb::ResellerOfRecordChanged>() {
            let payload: pb::ResellerOfRecordChanged = decode_payload(event)?;
            self.assignment_email(
                "reseller_of_record_assigned",
                payload.subscription,
                payload.reseller,
                payload.customer_company_name,
                provider,
            )?
        } else if event_type == name_of::<pb::SupportContactChanged>() {
            let payload: pb::SupportContactChanged = decode_payload(event)?;
            self.assignment_email(
                "support_contact_assigned",
                payload.subscription,
                payload.reseller,
                payload.customer_company_name,
                provider,
            )?
        } else {
            Vec::new()
        };
        record(txn, upstream::SUBSCRIPTION, event, emails).await
    }
}
