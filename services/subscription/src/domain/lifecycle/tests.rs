//! R26-R28 as a state machine: unit tests of each transition, and a
//! property test over any sequence of lifecycle commands and edits, early
//! or late in the cancellation window.

use chrono::TimeDelta;
use proptest::prelude::*;
use twotier_platform::change::Change;

use super::*;
use crate::domain::catalog::tests::offer;
use crate::domain::subscription::tests::subscription;
use crate::domain::{OfferError, SupportContact};

use SubscriptionState::{Active, Cancelled, Suspended};

#[test]
fn the_window_ends_its_length_after_purchase() {
    let bought = Utc::now();
    assert_eq!(
        CancellationWindow::default().deadline(bought),
        bought + TimeDelta::days(7)
    );
    assert_eq!(
        CancellationWindow::new(TimeDelta::zero()).deadline(bought),
        bought
    );
    assert_eq!(
        CancellationWindow::DEFAULT.length(),
        std::time::Duration::from_secs(7 * 24 * 3600)
    );
    assert_eq!(
        CancellationWindow::new(TimeDelta::MAX).deadline(bought),
        DateTime::<Utc>::MAX_UTC
    );
}

/// R26
#[test]
fn a_suspended_subscription_keeps_quantity_and_reseller_until_reactivated() {
    let basic = offer("basic", 1, 300);
    let mut current = subscription(10, 1);
    let now = Utc::now();
    assert_eq!(current.suspend(Some(1)), Ok(Change::Changed(Active)));
    assert_eq!(current.suspend(Some(1)), Ok(Change::Unchanged));
    assert_eq!(
        current.change_quantity(20, Some(1), Some(&basic), now),
        Err(SubscriptionError::Suspended {
            what: "licence quantity"
        })
    );
    // A quantity no offer allows is wrong whatever the state.
    assert_eq!(
        current.change_quantity(-5, Some(1), Some(&basic), now),
        Err(SubscriptionError::Offer(OfferError::QuantityOutOfRange {
            field: "quantity",
            min: 1,
            max: 300
        }))
    );
    assert_eq!(
        current.change_reseller_of_record(Some("4567890".into()), Some(1)),
        Err(SubscriptionError::Suspended {
            what: "reseller of record"
        })
    );
    // Support and renewal can still be arranged.
    let contact = SupportContact::designate("4567890", true).unwrap();
    assert!(current.set_support_contact(Some(contact), None).is_ok());
    assert_eq!(
        current.set_auto_renew(false, None),
        Ok(Change::Changed(true))
    );
    assert_eq!(current.reactivate(Some(1)), Ok(Change::Changed(Suspended)));
    assert_eq!(current.reactivate(Some(1)), Ok(Change::Unchanged));
    assert_eq!(
        current.change_quantity(20, Some(1), Some(&basic), now),
        Ok(Change::Changed(10))
    );
}

/// R27
#[test]
fn cancelling_is_possible_within_the_window_only_and_is_final() {
    let basic = offer("basic", 1, 300);
    let mut late = subscription(10, 1);
    let after = late.cancellation_deadline + TimeDelta::seconds(1);
    assert_eq!(
        late.cancel(Some(1), after),
        Err(SubscriptionError::CancellationWindowClosed {
            deadline: late.cancellation_deadline
        })
    );
    assert_eq!(late.state, Active);

    let mut current = subscription(10, 1);
    assert!(current.suspend(None).unwrap().is_changed());
    let at_deadline = current.cancellation_deadline;
    assert_eq!(
        current.cancel(Some(1), at_deadline),
        Ok(Change::Changed(Suspended))
    );
    assert!(
        !current.auto_renew,
        "a cancelled subscription renews no more"
    );
    assert_eq!(current.cancel(Some(1), after), Ok(Change::Unchanged));
    for refused in [
        current.suspend(None).map(|_| ()),
        current.reactivate(None).map(|_| ()),
        current.set_auto_renew(true, None).map(|_| ()),
        current
            .change_quantity(20, None, Some(&basic), at_deadline)
            .map(|_| ()),
        current
            .change_reseller_of_record(Some("4567890".into()), None)
            .map(|_| ()),
        current
            .set_support_contact(SupportContact::designate("4567890", true).ok(), None)
            .map(|_| ()),
    ] {
        assert_eq!(refused, Err(SubscriptionError::Cancelled));
    }
}

/// R27
#[test]
fn the_quantity_decreases_only_within_the_window_but_may_grow_after_it() {
    let basic = offer("basic", 1, 300);
    let mut current = subscription(10, 1);
    let within = current.cancellation_deadline - TimeDelta::hours(1);
    let after = current.cancellation_deadline + TimeDelta::hours(1);
    assert_eq!(
        current.change_quantity(8, None, Some(&basic), within),
        Ok(Change::Changed(10))
    );
    assert_eq!(
        current.change_quantity(5, None, Some(&basic), after),
        Err(SubscriptionError::QuantityDecreaseWindowClosed {
            deadline: current.cancellation_deadline
        })
    );
    assert_eq!(
        current.change_quantity(12, None, Some(&basic), after),
        Ok(Change::Changed(8))
    );
}

/// R28
#[test]
fn auto_renew_turns_on_and_off_and_the_same_setting_changes_nothing() {
    let mut current = subscription(10, 2);
    assert_eq!(current.set_auto_renew(true, Some(2)), Ok(Change::Unchanged));
    assert_eq!(
        current.set_auto_renew(false, Some(1)),
        Err(SubscriptionError::Stale)
    );
    assert_eq!(
        current.set_auto_renew(false, Some(2)),
        Ok(Change::Changed(true))
    );
    assert_eq!(
        current.set_auto_renew(true, Some(2)),
        Ok(Change::Changed(false))
    );
}

#[derive(Debug, Clone)]
enum Command {
    Suspend,
    Reactivate,
    Cancel,
    AutoRenew(bool),
    Quantity(i32),
    Reseller(Option<String>),
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        Just(Command::Suspend),
        Just(Command::Reactivate),
        Just(Command::Cancel),
        any::<bool>().prop_map(Command::AutoRenew),
        (1..=300i32).prop_map(Command::Quantity),
        proptest::option::of("[0-9]{7}").prop_map(Command::Reseller),
    ]
}

proptest! {
    /// Any sequence of commands at any time around the deadline: a
    /// refusal changes nothing; "unchanged" means nothing changed; a
    /// cancelled subscription never changes again and is reached only
    /// within the window; a suspended one never changes quantity or
    /// reseller of record; the quantity only decreases within the window;
    /// the version is the store's to bump, never the domain's.
    #[test]
    fn the_lifecycle_holds_under_any_sequence_of_commands(
        steps in proptest::collection::vec((command(), -3..3i64, any::<bool>()), 0..32),
    ) {
        let basic = offer("basic", 1, 300);
        let mut current = subscription(10, 1);
        let deadline = current.cancellation_deadline;
        for (command, hours, with_etag) in steps {
            let now = deadline + TimeDelta::hours(hours);
            let expected = with_etag.then_some(current.version);
            let before = current.clone();
            let outcome = match command.clone() {
                Command::Suspend => current.suspend(expected).map(|c| c.is_changed()),
                Command::Reactivate => current.reactivate(expected).map(|c| c.is_changed()),
                Command::Cancel => current.cancel(expected, now).map(|c| c.is_changed()),
                Command::AutoRenew(on) => current.set_auto_renew(on, expected).map(|c| c.is_changed()),
                Command::Quantity(q) => current
                    .change_quantity(q, expected, Some(&basic), now)
                    .map(|c| c.is_changed()),
                Command::Reseller(p) => current
                    .change_reseller_of_record(p, expected)
                    .map(|c| c.is_changed()),
            };
            prop_assert_eq!(current.version, before.version);
            let Ok(changed) = outcome else {
                prop_assert_eq!(&current, &before);
                continue;
            };
            prop_assert_eq!(changed, current != before);
            if before.state == Cancelled {
                prop_assert_eq!(&current, &before);
            }
            if current.state == Cancelled && before.state != Cancelled {
                prop_assert!(now <= deadline);
                prop_assert!(!current.auto_renew);
            }
            if before.state == Suspended {
                prop_assert_eq!(current.quantity, before.quantity);
                prop_assert_eq!(&current.reseller_of_record, &before.reseller_of_record);
            }
            if current.quantity < before.quantity {
                prop_assert!(now <= deadline);
            }
            prop_assert_eq!(current.cancellation_deadline, deadline);
        }
    }
}
