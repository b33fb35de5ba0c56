//! The subscription log (R20): an order placed tells the provider and each
//! reseller of record on it; a reseller made reseller of record or support
//! contact is told so; the reseller of record hears of each lifecycle
//! change of its subscriptions (R28).

use sea_orm::DatabaseTransaction;
use twotier_outbox::{HandleError, Handles};
use twotier_proto::events::EventEnvelope;
use twotier_proto::subscription as pb;

use super::Emails;
use crate::domain::{
    Assignment, AssignmentRole, LifecycleChange, LifecycleNotice, Order, OrderLine, ResellerContact,
};
use crate::store::provider_profile;

/// Handles the subscription log.
pub struct SubscriptionEvents {
    emails: Emails,
}

impl SubscriptionEvents {
    pub(super) fn new(emails: Emails) -> Self {
        Self { emails }
    }

    async fn assigned(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        role: AssignmentRole,
        subscription: Option<pb::Subscription>,
        reseller: Option<pb::ResellerContact>,
        customer_company: String,
    ) -> Result<(), HandleError> {
        let subscription = subscription.unwrap_or_default();
        let assignment = Assignment {
            role,
            reseller: reseller.map(contact),
            customer_company,
            offer: subscription.offer_display_name,
            quantity: subscription.quantity,
        };
        let provider = provider_profile::load(txn, &event.tenant_id).await?;
        self.emails
            .record(txn, event, assignment.emails(&provider))
            .await
    }

    /// R28: tells the reseller of record of a lifecycle change.
    async fn lifecycle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        change: LifecycleChange,
        subscription: Option<pb::Subscription>,
        reseller_of_record: Option<pb::ResellerContact>,
        customer_company: String,
    ) -> Result<(), HandleError> {
        let subscription = subscription.unwrap_or_default();
        let notice = LifecycleNotice {
            change,
            reseller_of_record: reseller_of_record.map(contact),
            customer_company,
            offer: subscription.offer_display_name,
            quantity: subscription.quantity,
        };
        let provider = provider_profile::load(txn, &event.tenant_id).await?;
        self.emails
            .record(txn, event, notice.emails(&provider))
            .await
    }
}

fn contact(reseller: pb::ResellerContact) -> ResellerContact {
    ResellerContact {
        partner_id: reseller.partner_id,
        company_name: reseller.company_name,
        contact_email: reseller.contact_email,
        language_code: reseller.language_code,
    }
}

#[async_trait::async_trait]
impl Handles<pb::OrderPlaced> for SubscriptionEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        payload: pb::OrderPlaced,
    ) -> Result<(), HandleError> {
        let placed = payload.order.unwrap_or_default();
        let order = Order {
            name: placed.name,
            customer_company: payload.customer_company_name,
            placed_by_email: payload.placed_by_email,
            lines: placed
                .lines
                .into_iter()
                .map(|line| OrderLine {
                    quantity: line.quantity,
                    offer: line.offer_display_name,
                    reseller_partner_id: line.reseller_partner_id,
                })
                .collect(),
            resellers_of_record: payload
                .resellers_of_record
                .into_iter()
                .map(contact)
                .collect(),
        };
        let provider = provider_profile::load(txn, &event.tenant_id).await?;
        self.emails
            .record(txn, event, order.emails(&provider))
            .await
    }
}

#[async_trait::async_trait]
impl Handles<pb::ResellerOfRecordChanged> for SubscriptionEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        payload: pb::ResellerOfRecordChanged,
    ) -> Result<(), HandleError> {
        let role = AssignmentRole::ResellerOfRecord;
        let (subscription, reseller) = (payload.subscription, payload.reseller);
        self.assigned(
            txn,
            event,
            role,
            subscription,
            reseller,
            payload.customer_company_name,
        )
        .await
    }
}

#[async_trait::async_trait]
impl Handles<pb::SupportContactChanged> for SubscriptionEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        payload: pb::SupportContactChanged,
    ) -> Result<(), HandleError> {
        let role = AssignmentRole::SupportContact;
        let (subscription, reseller) = (payload.subscription, payload.reseller);
        self.assigned(
            txn,
            event,
            role,
            subscription,
            reseller,
            payload.customer_company_name,
        )
        .await
    }
}

#[async_trait::async_trait]
impl Handles<pb::SubscriptionSuspended> for SubscriptionEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        payload: pb::SubscriptionSuspended,
    ) -> Result<(), HandleError> {
        let change = LifecycleChange::Suspended;
        let (subscription, reseller) = (payload.subscription, payload.reseller_of_record);
        let company = payload.customer_company_name;
        self.lifecycle(txn, event, change, subscription, reseller, company)
            .await
    }
}

#[async_trait::async_trait]
impl Handles<pb::SubscriptionReactivated> for SubscriptionEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        payload: pb::SubscriptionReactivated,
    ) -> Result<(), HandleError> {
        let change = LifecycleChange::Reactivated;
        let (subscription, reseller) = (payload.subscription, payload.reseller_of_record);
        let company = payload.customer_company_name;
        self.lifecycle(txn, event, change, subscription, reseller, company)
            .await
    }
}

#[async_trait::async_trait]
impl Handles<pb::SubscriptionCancelled> for SubscriptionEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        payload: pb::SubscriptionCancelled,
    ) -> Result<(), HandleError> {
        let change = LifecycleChange::Cancelled;
        let (subscription, reseller) = (payload.subscription, payload.reseller_of_record);
        let company = payload.customer_company_name;
        self.lifecycle(txn, event, change, subscription, reseller, company)
            .await
    }
}

#[async_trait::async_trait]
impl Handles<pb::AutoRenewChanged> for SubscriptionEvents {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
        payload: pb::AutoRenewChanged,
    ) -> Result<(), HandleError> {
        let on = payload
            .subscription
            .as_ref()
            .is_some_and(|subscription| subscription.auto_renew);
        let change = LifecycleChange::AutoRenew(on);
        let (subscription, reseller) = (payload.subscription, payload.reseller_of_record);
        let company = payload.customer_company_name;
        self.lifecycle(txn, event, change, subscription, reseller, company)
            .await
    }
}
