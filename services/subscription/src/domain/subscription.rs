//! R16-R19: a customer's subscription, its licence quantity, reseller of
//! record and support contact.

use chrono::{DateTime, Utc};

use super::{BillingCycle, LineItem, Offer, OfferError, SubscriptionError, Term};

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
    /// The subscription a checkout creates for `line` of order `order_id`.
    pub(super) fn purchased(
        provider_id: &str,
        customer: &str,
        order_id: &str,
        line: &LineItem,
        now: DateTime<Utc>,
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
    /// subscription's own; `None`: no longer in the catalog); the previous
    /// quantity.
    pub fn change_quantity(
        &mut self,
        quantity: i32,
        expected: Option<i64>,
        offer: Option<&Offer>,
    ) -> Result<i32, SubscriptionError> {
        self.ensure_version(expected)?;
        let offer = offer.ok_or(OfferError::Unknown { field: "offer" })?;
        offer.check_quantity(quantity, "quantity")?;
        Ok(std::mem::replace(&mut self.quantity, quantity))
    }

    /// R18: names (or clears) the reseller of record, a PartnerID that
    /// passed R3; the previous one.
    pub fn change_reseller_of_record(
        &mut self,
        partner_id: Option<String>,
        expected: Option<i64>,
    ) -> Result<Option<String>, SubscriptionError> {
        self.ensure_version(expected)?;
        Ok(std::mem::replace(&mut self.reseller_of_record, partner_id))
    }

    /// R19: designates (or clears) the support contact; the previous one.
    pub fn set_support_contact(
        &mut self,
        contact: Option<SupportContact>,
        expected: Option<i64>,
    ) -> Result<Option<String>, SubscriptionError> {
        self.ensure_version(expected)?;
        let partner_id = contact.map(|contact| contact.0);
        Ok(std::mem::replace(&mut self.support_contact, partner_id))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::catalog::tests::offer;

    fn subscription(quantity: i32, version: i64) -> Subscription {
        let now = Utc::now();
        Subscription {
            id: "s1".into(),
            provider_id: "contoso".into(),
            customer: "providers/contoso/customers/adatum".into(),
            order_id: "o1".into(),
            offer_id: "basic".into(),
            quantity,
            term: Term::Annual,
            billing_cycle: BillingCycle::Monthly,
            reseller_of_record: None,
            support_contact: None,
            created_at: now,
            updated_at: now,
            version,
        }
    }

    #[test]
    fn quantity_changes_within_the_offers_limits_and_reports_the_previous_one() {
        let basic = offer("basic", 1, 300);
        let mut current = subscription(10, 3);
        assert_eq!(current.change_quantity(42, Some(3), Some(&basic)), Ok(10));
        assert_eq!(current.quantity, 42);
        assert_eq!(
            current.change_quantity(301, Some(3), Some(&basic)),
            Err(SubscriptionError::Offer(OfferError::QuantityOutOfRange {
                field: "quantity",
                min: 1,
                max: 300
            }))
        );
        assert_eq!(current.quantity, 42);
    }

    #[test]
    fn a_change_from_a_stale_version_is_refused_before_its_values_are_judged() {
        let basic = offer("basic", 1, 300);
        let mut current = subscription(10, 3);
        let before = current.clone();
        assert_eq!(
            current.change_quantity(301, Some(2), Some(&basic)),
            Err(SubscriptionError::Stale)
        );
        assert_eq!(
            current.change_reseller_of_record(Some("1234567".into()), Some(4)),
            Err(SubscriptionError::Stale)
        );
        assert_eq!(
            current.change_quantity(5, Some(3), None),
            Err(SubscriptionError::Offer(OfferError::Unknown {
                field: "offer"
            }))
        );
        assert_eq!(current, before);
        assert_eq!(current.change_quantity(5, None, Some(&basic)), Ok(10));
    }

    #[test]
    fn the_reseller_of_record_is_named_and_cleared() {
        let mut current = subscription(10, 1);
        assert_eq!(
            current.change_reseller_of_record(Some("1234567".into()), Some(1)),
            Ok(None)
        );
        assert_eq!(
            current.change_reseller_of_record(None, Some(1)),
            Ok(Some("1234567".into()))
        );
        assert_eq!(current.reseller_of_record, None);
    }

    #[test]
    fn only_an_active_partner_can_be_designated_support_contact() {
        assert_eq!(
            SupportContact::designate("7654321", false),
            Err(SubscriptionError::SupportContactNotPartner(
                "7654321".into()
            ))
        );
        let contact = SupportContact::designate("4567890", true).unwrap();
        assert_eq!(contact.partner_id(), "4567890");
        let mut current = subscription(10, 1);
        assert_eq!(
            current.set_support_contact(Some(contact), Some(1)),
            Ok(None)
        );
        assert_eq!(current.support_contact.as_deref(), Some("4567890"));
        assert_eq!(
            current.set_support_contact(None, None),
            Ok(Some("4567890".into()))
        );
    }

    #[derive(Debug, Clone)]
    enum Change {
        Quantity(i32),
        Reseller(Option<String>),
        Support(Option<String>, bool),
    }

    fn change() -> impl Strategy<Value = Change> {
        let partner = proptest::option::of("[0-9]{7}");
        prop_oneof![
            (-5..320i32).prop_map(Change::Quantity),
            partner.clone().prop_map(Change::Reseller),
            (partner, any::<bool>()).prop_map(|(p, active)| Change::Support(p, active)),
        ]
    }

    proptest! {
        /// Whatever is asked with whichever version: a refused change
        /// leaves the subscription as it was, a change from another version
        /// is always refused, the quantity never leaves the offer's limits,
        /// the support contact is only ever an active partner, and an
        /// accepted change touches only its own field.
        #[test]
        fn changes_keep_the_subscription_within_its_rules(
            start in 1..=300i32,
            version in 1..5i64,
            steps in proptest::collection::vec((change(), proptest::option::of(0..6i64)), 0..24),
        ) {
            let basic = offer("basic", 1, 300);
            let mut current = subscription(start, version);
            for (change, expected) in steps {
                let before = current.clone();
                let stale = expected.is_some_and(|v| v != current.version);
                let outcome = match change.clone() {
                    Change::Quantity(quantity) => current
                        .change_quantity(quantity, expected, Some(&basic))
                        .map(|_| ()),
                    Change::Reseller(partner_id) => current
                        .change_reseller_of_record(partner_id, expected)
                        .map(|_| ()),
                    Change::Support(partner_id, active) => {
                        let contact = partner_id
                            .as_deref()
                            .map(|p| SupportContact::designate(p, active))
                            .transpose();
                        contact.and_then(|c| current.set_support_contact(c, expected).map(|_| ()))
                    }
                };
                if stale {
                    let refused_before = matches!(
                        (&change, &outcome),
                        (Change::Support(Some(_), false), Err(SubscriptionError::SupportContactNotPartner(_)))
                    );
                    prop_assert!(refused_before || outcome == Err(SubscriptionError::Stale));
                }
                if outcome.is_err() {
                    prop_assert_eq!(&current, &before);
                    continue;
                }
                prop_assert!((1..=300).contains(&current.quantity));
                prop_assert_eq!(current.version, before.version);
                let mut others = current.clone();
                match change {
                    Change::Quantity(q) => {
                        prop_assert_eq!(current.quantity, q);
                        others.quantity = before.quantity;
                    }
                    Change::Reseller(p) => {
                        prop_assert_eq!(&current.reseller_of_record, &p);
                        others.reseller_of_record = before.reseller_of_record.clone();
                    }
                    Change::Support(p, active) => {
                        prop_assert!(p.is_none() || active);
                        prop_assert_eq!(&current.support_contact, &p);
                        others.support_contact = before.support_contact.clone();
                    }
                }
                prop_assert_eq!(others, before);
            }
        }
    }
}
