//! R16-R19: a customer's subscription, its licence quantity, reseller of
//! record and support contact; R25: a change to the values it already has
//! is no change. Its lifecycle (R26-R28) is in [`super::lifecycle`].

use chrono::{DateTime, Utc};
use twotier_platform::change::{self, Change};

use super::{
    BillingCycle, CancellationWindow, LineItem, Offer, OfferError, SubscriptionError,
    SubscriptionState, Term,
};

/// One subscription of a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// UUIDv7.
    pub id: String,
    /// The provider's tenant id.
    pub provider_id: String,
    /// The customer's resource name.
    pub customer: String,
    /// The order that created it.
    pub order_id: String,
    /// The offer id.
    pub offer_id: String,
    /// Licences.
    pub quantity: i32,
    /// Term.
    pub term: Term,
    /// Billing cycle.
    pub billing_cycle: BillingCycle,
    /// R18: the reseller of record's PartnerID.
    pub reseller_of_record: Option<String>,
    /// R19: the support contact's PartnerID.
    pub support_contact: Option<String>,
    /// R26, R27: active, suspended or cancelled.
    pub state: SubscriptionState,
    /// R28: whether it renews at the end of its term.
    pub auto_renew: bool,
    /// R27: until when it may be cancelled and its quantity decreased.
    pub cancellation_deadline: DateTime<Utc>,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change (stamped by the store with each write).
    pub updated_at: DateTime<Utc>,
    /// Optimistic concurrency version (bumped by the store with each
    /// write); the etag callers send names it.
    pub version: i64,
}

/// R19: a reseller that may be named support contact, an active partner of
/// the subscription's provider. Only [`SupportContact::designate`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportContact(String);

impl SupportContact {
    /// `partner_id` as support contact, if it is an active partner.
    pub fn designate(partner_id: &str, active_partner: bool) -> Result<Self, SubscriptionError> {
        if !active_partner {
            return Err(SubscriptionError::SupportContactNotPartner(
                partner_id.to_owned(),
            ));
        }
        Ok(Self(partner_id.to_owned()))
    }

    /// Its PartnerID.
    pub fn partner_id(&self) -> &str {
        &self.0
    }
}

impl Subscription {
    /// The subscription a checkout at `now` creates for `line` of order
    /// `order_id`: active, renewing, cancellable for `window`.
    pub(super) fn purchased(
        provider_id: &str,
        customer: &str,
        order_id: &str,
        line: &LineItem,
        now: DateTime<Utc>,
        window: CancellationWindow,
    ) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            provider_id: provider_id.to_owned(),
            customer: customer.to_owned(),
            order_id: order_id.to_owned(),
            offer_id: line.offer_id.clone(),
            quantity: line.quantity,
            term: line.term,
            billing_cycle: line.billing_cycle,
            reseller_of_record: line.reseller_partner_id.clone(),
            support_contact: None,
            state: SubscriptionState::Active,
            auto_renew: true,
            cancellation_deadline: window.deadline(now),
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// Refuses a change by a caller who read another version (`None`: the
    /// caller named none).
    pub fn ensure_version(&self, expected: Option<i64>) -> Result<(), SubscriptionError> {
        match expected {
            Some(version) if version != self.version => Err(SubscriptionError::Stale),
            _ => Ok(()),
        }
    }

    /// R17: a new licence quantity within the limits of `offer` (the
    /// subscription's own; `None`: no longer in the catalog), at `now`; the
    /// previous quantity. Not while suspended or cancelled (R26); a
    /// decrease only within the cancellation window (R27). A quantity
    /// outside the offer's limits is refused before the state is judged:
    /// it is wrong whatever state the subscription is in.
    pub fn change_quantity(
        &mut self,
        quantity: i32,
        expected: Option<i64>,
        offer: Option<&Offer>,
        now: DateTime<Utc>,
    ) -> Result<Change<i32>, SubscriptionError> {
        self.ensure_version(expected)?;
        if quantity == self.quantity {
            return Ok(Change::Unchanged);
        }
        let offer = offer.ok_or(OfferError::Unknown { field: "offer" })?;
        offer.check_quantity(quantity, "quantity")?;
        self.ensure_changeable("licence quantity")?;
        if quantity < self.quantity && !self.within_cancellation_window(now) {
            return Err(SubscriptionError::QuantityDecreaseWindowClosed {
                deadline: self.cancellation_deadline,
            });
        }
        Ok(change::replace(&mut self.quantity, quantity))
    }

    /// Whether `partner_id` is the reseller of record already (a stale
    /// etag refused first): then naming it again changes nothing (R25),
    /// and the reseller is not judged again, even if it no longer passes
    /// R3 (R7 and R24 leave a subscription's reseller as it is). A change
    /// the subscription's state forbids (R26) is refused here too, before
    /// the reseller is judged: a suspended subscription says so whoever
    /// is named.
    pub fn has_reseller_of_record(
        &self,
        partner_id: Option<&str>,
        expected: Option<i64>,
    ) -> Result<bool, SubscriptionError> {
        self.ensure_version(expected)?;
        if self.reseller_of_record.as_deref() == partner_id {
            return Ok(true);
        }
        self.ensure_changeable("reseller of record")?;
        Ok(false)
    }

    /// Whether `partner_id` is the support contact already (a stale etag
    /// refused first): then designating it again changes nothing (R25),
    /// even after its partnership ended (R7 keeps it). A cancelled
    /// subscription's change is refused here, before the reseller is
    /// judged.
    pub fn has_support_contact(
        &self,
        partner_id: Option<&str>,
        expected: Option<i64>,
    ) -> Result<bool, SubscriptionError> {
        self.ensure_version(expected)?;
        if self.support_contact.as_deref() == partner_id {
            return Ok(true);
        }
        self.ensure_not_cancelled()?;
        Ok(false)
    }

    /// R18: names (or clears) the reseller of record, a PartnerID that
    /// passed R3; the previous one. Not while suspended or cancelled (R26).
    pub fn change_reseller_of_record(
        &mut self,
        partner_id: Option<String>,
        expected: Option<i64>,
    ) -> Result<Change<Option<String>>, SubscriptionError> {
        if self.has_reseller_of_record(partner_id.as_deref(), expected)? {
            return Ok(Change::Unchanged);
        }
        Ok(change::replace(&mut self.reseller_of_record, partner_id))
    }

    /// R19: designates (or clears) the support contact; the previous one.
    /// A suspended subscription keeps being supported; a cancelled one
    /// changes no more.
    pub fn set_support_contact(
        &mut self,
        contact: Option<SupportContact>,
        expected: Option<i64>,
    ) -> Result<Change<Option<String>>, SubscriptionError> {
        let partner_id = contact.map(|contact| contact.0);
        if self.has_support_contact(partner_id.as_deref(), expected)? {
            return Ok(Change::Unchanged);
        }
        Ok(change::replace(&mut self.support_contact, partner_id))
    }
}

#[cfg(test)]
pub(super) mod tests;
