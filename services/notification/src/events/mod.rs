//! Handlers of the upstream logs. Each upstream has one registration, the
//! only list of the event types it handles and subscribes to; which emails
//! an event causes is the domain's to say.

mod customer;
mod partnership;
mod subscription;

use std::sync::Arc;

use chrono::Utc;
use sea_orm::DatabaseTransaction;
use twotier_outbox::{HandleError, Handlers};
use twotier_proto::events::EventEnvelope;
use twotier_proto::{customer as cpb, partnership as ppb, subscription as spb};

pub use customer::CustomerEvents;
pub use partnership::PartnershipEvents;
pub use subscription::SubscriptionEvents;

use crate::domain::{Email, EventSource, Templates};
use crate::store::notification::{self as notifications, Origin};

/// Upstream log names, as cursor keys.
pub mod upstream {
    pub const PARTNERSHIP: &str = "partnership";
    pub const CUSTOMER: &str = "customer";
    pub const SUBSCRIPTION: &str = "subscription";
}

/// The partnership log: listings (how to address a provider), invitation
/// emails and acceptances. Not removals: they email no one (R7).
pub fn partnership(templates: &Arc<Templates>) -> Handlers<PartnershipEvents> {
    Handlers::new(PartnershipEvents::new(Emails::new(
        upstream::PARTNERSHIP,
        templates,
    )))
    .on::<ppb::ProviderListingChanged>()
    .on::<ppb::InvitationEmailRequested>()
    .on::<ppb::PartnershipAccepted>()
}

/// The customer log: customers created for a reseller, reseller
/// relationship requests to send and their acceptance (R22).
pub fn customer(templates: &Arc<Templates>) -> Handlers<CustomerEvents> {
    Handlers::new(CustomerEvents::new(Emails::new(
        upstream::CUSTOMER,
        templates,
    )))
    .on::<cpb::CustomerCreated>()
    .on::<cpb::ResellerRelationshipEmailRequested>()
    .on::<cpb::ResellerRelationshipAccepted>()
}

/// The subscription log: orders, resellers made reseller of record or
/// support contact, and lifecycle changes (R28).
pub fn subscription(templates: &Arc<Templates>) -> Handlers<SubscriptionEvents> {
    Handlers::new(SubscriptionEvents::new(Emails::new(
        upstream::SUBSCRIPTION,
        templates,
    )))
    .on::<spb::OrderPlaced>()
    .on::<spb::ResellerOfRecordChanged>()
    .on::<spb::SupportContactChanged>()
    .on::<spb::SubscriptionSuspended>()
    .on::<spb::SubscriptionReactivated>()
    .on::<spb::SubscriptionCancelled>()
    .on::<spb::AutoRenewChanged>()
}

/// Renders the emails an event of one upstream causes and records them in
/// the consumer's transaction.
struct Emails {
    upstream: &'static str,
    templates: Arc<Templates>,
}

impl Emails {
    fn new(upstream: &'static str, templates: &Arc<Templates>) -> Self {
        Self {
            upstream,
            templates: templates.clone(),
        }
    }

    async fn record(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        emails: Vec<Email>,
    ) -> Result<(), HandleError> {
        let mut rendered = Vec::with_capacity(emails.len());
        for email in emails {
            if email.recipient.is_empty() {
                tracing::warn!(template = email.template.name(), event_id = %event.event_id, "no recipient address known; email recorded as failed");
            }
            let email = self
                .templates
                .render(email)
                .map_err(|e| HandleError::Rejected(e.to_string()))?;
            rendered.push(email);
        }
        let (traceparent, tracestate) = twotier_platform::telemetry::current_trace_context();
        let origin = Origin {
            tenant_id: event.tenant_id.clone(),
            source: EventSource {
                upstream: self.upstream.to_owned(),
                event_id: event.event_id.clone(),
                event_type: event.event_type.clone(),
                position: event.position,
            },
            traceparent,
            tracestate,
            at: Utc::now(),
        };
        notifications::record(txn, &origin, rendered).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use prost::Name;
    use twotier_outbox::EventHandler;

    use super::*;

    fn subscribed(handler: &dyn EventHandler) -> BTreeSet<String> {
        handler.event_types().into_iter().collect()
    }

    fn names(types: &[String]) -> BTreeSet<String> {
        types.iter().cloned().collect()
    }

    #[test]
    fn a_partnership_removal_is_not_even_subscribed_to() {
        let templates = Arc::new(Templates::new());
        let types = subscribed(&partnership(&templates));
        assert!(!types.contains(&ppb::PartnershipRemoved::full_name()), "R7");
        assert_eq!(
            types,
            names(&[
                ppb::ProviderListingChanged::full_name(),
                ppb::InvitationEmailRequested::full_name(),
                ppb::PartnershipAccepted::full_name(),
            ])
        );
    }

    #[test]
    fn each_upstream_subscribes_to_the_events_that_cause_emails() {
        let templates = Arc::new(Templates::new());
        assert_eq!(
            subscribed(&customer(&templates)),
            names(&[
                cpb::CustomerCreated::full_name(),
                cpb::ResellerRelationshipEmailRequested::full_name(),
                cpb::ResellerRelationshipAccepted::full_name(),
            ])
        );
        assert_eq!(
            subscribed(&subscription(&templates)),
            names(&[
                spb::OrderPlaced::full_name(),
                spb::ResellerOfRecordChanged::full_name(),
                spb::SupportContactChanged::full_name(),
                spb::SubscriptionSuspended::full_name(),
                spb::SubscriptionReactivated::full_name(),
                spb::SubscriptionCancelled::full_name(),
                spb::AutoRenewChanged::full_name(),
            ])
        );
    }
}
