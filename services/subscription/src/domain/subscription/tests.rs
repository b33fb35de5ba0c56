//! R17-R19 and R25 on one subscription, and its fields under any sequence
//! of changes.

use chrono::TimeDelta;
use proptest::prelude::*;

use super::*;
use crate::domain::catalog::tests::offer;

/// An active subscription bought just now, with a week's window.
pub(crate) fn subscription(quantity: i32, version: i64) -> Subscription {
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
        state: SubscriptionState::Active,
        auto_renew: true,
        cancellation_deadline: now + TimeDelta::days(7),
        created_at: now,
        updated_at: now,
        version,
    }
}

#[test]
fn quantity_changes_within_the_offers_limits_and_reports_the_previous_one() {
    let basic = offer("basic", 1, 300);
    let mut current = subscription(10, 3);
    let now = Utc::now();
    assert_eq!(
        current.change_quantity(42, Some(3), Some(&basic), now),
        Ok(Change::Changed(10))
    );
    assert_eq!(current.quantity, 42);
    assert_eq!(
        current.change_quantity(301, Some(3), Some(&basic), now),
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
    let now = Utc::now();
    assert_eq!(
        current.change_quantity(301, Some(2), Some(&basic), now),
        Err(SubscriptionError::Stale)
    );
    // R25: even a change to the current value from another version is stale.
    assert_eq!(
        current.change_quantity(10, Some(2), Some(&basic), now),
        Err(SubscriptionError::Stale)
    );
    assert_eq!(
        current.change_reseller_of_record(Some("1234567".into()), Some(4)),
        Err(SubscriptionError::Stale)
    );
    assert_eq!(
        current.change_quantity(5, Some(3), None, now),
        Err(SubscriptionError::Offer(OfferError::Unknown {
            field: "offer"
        }))
    );
    assert_eq!(current, before);
    assert_eq!(
        current.change_quantity(5, None, Some(&basic), now),
        Ok(Change::Changed(10))
    );
}

#[test]
fn the_reseller_of_record_is_named_and_cleared() {
    let mut current = subscription(10, 1);
    assert_eq!(
        current.change_reseller_of_record(Some("1234567".into()), Some(1)),
        Ok(Change::Changed(None))
    );
    assert_eq!(
        current.change_reseller_of_record(None, Some(1)),
        Ok(Change::Changed(Some("1234567".into())))
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
        Ok(Change::Changed(None))
    );
    assert_eq!(current.support_contact.as_deref(), Some("4567890"));
    assert_eq!(
        current.set_support_contact(None, None),
        Ok(Change::Changed(Some("4567890".into())))
    );
}

/// R25: the values a subscription has already are no change, whatever
/// its state.
#[test]
fn setting_the_current_values_changes_nothing() {
    let basic = offer("basic", 1, 300);
    let mut current = subscription(10, 1);
    current.reseller_of_record = Some("4567890".into());
    current.support_contact = Some("4567890".into());
    for state in [
        SubscriptionState::Active,
        SubscriptionState::Suspended,
        SubscriptionState::Cancelled,
    ] {
        current.state = state;
        let before = current.clone();
        let contact = SupportContact::designate("4567890", true).unwrap();
        let late = current.cancellation_deadline + TimeDelta::days(30);
        assert_eq!(
            current.change_quantity(10, Some(1), Some(&basic), late),
            Ok(Change::Unchanged)
        );
        assert_eq!(
            current.change_reseller_of_record(Some("4567890".into()), Some(1)),
            Ok(Change::Unchanged)
        );
        assert_eq!(
            current.set_support_contact(Some(contact), Some(1)),
            Ok(Change::Unchanged)
        );
        assert_eq!(current, before, "{state:?}");
    }
}

/// R25 before R24: whether a reseller change would change anything is
/// known before the reseller is judged, a stale etag refused first.
#[test]
fn naming_the_reseller_a_subscription_has_is_known_before_the_reseller_is_judged() {
    let mut current = subscription(10, 3);
    current.reseller_of_record = Some("4567890".into());
    current.support_contact = Some("7654321".into());
    for expected in [None, Some(3)] {
        assert_eq!(
            current.has_reseller_of_record(Some("4567890"), expected),
            Ok(true)
        );
        assert_eq!(
            current.has_support_contact(Some("7654321"), expected),
            Ok(true)
        );
        assert_eq!(
            current.has_reseller_of_record(Some("7654321"), expected),
            Ok(false)
        );
        assert_eq!(current.has_support_contact(None, expected), Ok(false));
    }
    assert_eq!(
        current.has_reseller_of_record(Some("4567890"), Some(2)),
        Err(SubscriptionError::Stale)
    );
    assert_eq!(
        current.has_support_contact(Some("7654321"), Some(2)),
        Err(SubscriptionError::Stale)
    );
    current.reseller_of_record = None;
    assert_eq!(current.has_reseller_of_record(None, None), Ok(true));
}

/// R26 before R24: a change the subscription's state forbids is refused
/// before the reseller is judged; naming the one it has stays a no-op.
#[test]
fn a_reseller_change_a_suspended_or_cancelled_subscription_forbids_is_refused_first() {
    let mut current = subscription(10, 3);
    current.reseller_of_record = Some("4567890".into());
    current.support_contact = Some("7654321".into());
    current.state = SubscriptionState::Suspended;
    assert!(matches!(
        current.has_reseller_of_record(Some("9999999"), None),
        Err(SubscriptionError::Suspended { .. })
    ));
    assert_eq!(
        current.has_reseller_of_record(Some("4567890"), None),
        Ok(true)
    );
    assert_eq!(
        current.has_support_contact(Some("9999999"), None),
        Ok(false),
        "a suspended subscription keeps being supported"
    );
    current.state = SubscriptionState::Cancelled;
    assert!(current.has_support_contact(Some("9999999"), None).is_err());
    assert!(current.has_reseller_of_record(None, None).is_err());
    assert_eq!(current.has_support_contact(Some("7654321"), None), Ok(true));
}

#[derive(Debug, Clone)]
enum Edit {
    Quantity(i32),
    Reseller(Option<String>),
    Support(Option<String>, bool),
}

fn edit() -> impl Strategy<Value = Edit> {
    let partner = proptest::option::of("[0-9]{7}");
    prop_oneof![
        (-5..320i32).prop_map(Edit::Quantity),
        partner.clone().prop_map(Edit::Reseller),
        (partner, any::<bool>()).prop_map(|(p, active)| Edit::Support(p, active)),
    ]
}

proptest! {
    /// Whatever is asked with whichever version of an active subscription
    /// within its window: a refused change leaves the subscription as it
    /// was, a change from another version is always refused, the quantity
    /// never leaves the offer's limits, the support contact is only ever an
    /// active partner, an accepted change touches only its own field, and
    /// "unchanged" is answered exactly when the value was there already.
    #[test]
    fn changes_keep_the_subscription_within_its_rules(
        start in 1..=300i32,
        version in 1..5i64,
        steps in proptest::collection::vec((edit(), proptest::option::of(0..6i64)), 0..24),
    ) {
        let basic = offer("basic", 1, 300);
        let mut current = subscription(start, version);
        let now = Utc::now();
        for (edit, expected) in steps {
            let before = current.clone();
            let stale = expected.is_some_and(|v| v != current.version);
            let outcome = match edit.clone() {
                Edit::Quantity(quantity) => current
                    .change_quantity(quantity, expected, Some(&basic), now)
                    .map(|c| c.is_changed()),
                Edit::Reseller(partner_id) => current
                    .change_reseller_of_record(partner_id, expected)
                    .map(|c| c.is_changed()),
                Edit::Support(partner_id, active) => {
                    let contact = partner_id
                        .as_deref()
                        .map(|p| SupportContact::designate(p, active))
                        .transpose();
                    contact.and_then(|c| current.set_support_contact(c, expected).map(|c| c.is_changed()))
                }
            };
            if stale {
                let refused_before = matches!(
                    (&edit, &outcome),
                    (Edit::Support(Some(_), false), Err(SubscriptionError::SupportContactNotPartner(_)))
                );
                prop_assert!(refused_before || outcome == Err(SubscriptionError::Stale));
            }
            let Ok(changed) = outcome else {
                prop_assert_eq!(&current, &before);
                continue;
            };
            prop_assert_eq!(changed, current != before);
            prop_assert!((1..=300).contains(&current.quantity));
            prop_assert_eq!(current.version, before.version);
            let mut others = current.clone();
            match edit {
                Edit::Quantity(q) => {
                    prop_assert_eq!(current.quantity, q);
                    others.quantity = before.quantity;
                }
                Edit::Reseller(p) => {
                    prop_assert_eq!(&current.reseller_of_record, &p);
                    others.reseller_of_record = before.reseller_of_record.clone();
                }
                Edit::Support(p, active) => {
                    prop_assert!(p.is_none() || active);
                    prop_assert_eq!(&current.support_contact, &p);
                    others.support_contact = before.support_contact.clone();
                }
            }
            prop_assert_eq!(others, before);
        }
    }
}
