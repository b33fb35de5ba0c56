//! The cart's rules, and its state machine under any sequence of commands.

use proptest::prelude::*;

use super::*;
use crate::domain::catalog::tests::offer;

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn line(offer_id: &str, quantity: i32) -> LineItem {
    LineItem {
        id: String::new(),
        offer_id: offer_id.into(),
        quantity,
        term: Term::Annual,
        billing_cycle: BillingCycle::Monthly,
        reseller_partner_id: None,
    }
}

/// Checkout as Alice, the subscriptions cancellable for the default window.
trait Buy {
    /// Checks the cart out at `at` as reviewed at `version`.
    fn buy(
        &mut self,
        at: DateTime<Utc>,
        version: i64,
        offers: &HashMap<String, Offer>,
    ) -> Result<Order, CartError>;
}

impl Buy for Cart {
    fn buy(
        &mut self,
        at: DateTime<Utc>,
        version: i64,
        offers: &HashMap<String, Offer>,
    ) -> Result<Order, CartError> {
        self.checkout(at, "alice", version, offers, CancellationWindow::DEFAULT)
    }
}

fn offers(list: &[Offer]) -> HashMap<String, Offer> {
    list.iter().map(|o| (o.id.clone(), o.clone())).collect()
}

fn cart() -> Cart {
    Cart::new("contoso", "providers/contoso/customers/adatum", now())
}

/// An attested cart holding one line of `basic`.
fn ready(basic: &Offer) -> Cart {
    let mut cart = cart();
    cart.add_line(line("basic", 5), Some(basic)).unwrap();
    assert!(cart.attest("alice", now()).unwrap().is_changed());
    cart
}

#[test]
fn a_new_cart_is_open_empty_and_unattested() {
    let cart = cart();
    assert_eq!(cart.state, CartState::Open);
    assert!(cart.lines.is_empty() && cart.attestation.is_none());
    assert_eq!(cart.version, 1);
}

#[test]
fn a_line_names_a_catalog_offer_within_its_limits_and_terms() {
    let basic = offer("basic", 1, 300);
    let mut cart = cart();
    assert_eq!(
        cart.add_line(line("nope", 1), None),
        Err(CartError::Offer(OfferError::Unknown {
            field: "line_item.offer"
        }))
    );
    for quantity in [0, 301] {
        assert_eq!(
            cart.add_line(line("basic", quantity), Some(&basic)),
            Err(CartError::Offer(OfferError::QuantityOutOfRange {
                field: "line_item.quantity",
                min: 1,
                max: 300
            }))
        );
    }
    let monthly_billed_annually = LineItem {
        term: Term::Monthly,
        billing_cycle: BillingCycle::Annual,
        ..line("basic", 1)
    };
    assert_eq!(
        cart.add_line(monthly_billed_annually, Some(&basic)),
        Err(CartError::Offer(OfferError::BillingCycleNotOffered))
    );
    assert!(cart.lines.is_empty(), "refused lines are not added");
    let added = cart.add_line(line("basic", 300), Some(&basic)).unwrap();
    assert!(!added.id.is_empty(), "the cart names its lines");
}

#[test]
fn a_cart_holds_at_most_max_line_items() {
    let basic = offer("basic", 1, 300);
    let mut cart = cart();
    for _ in 0..MAX_LINE_ITEMS {
        cart.add_line(line("basic", 1), Some(&basic)).unwrap();
    }
    let full = cart.clone();
    assert_eq!(
        cart.add_line(line("basic", 1), Some(&basic)),
        Err(CartError::TooManyLineItems {
            max: MAX_LINE_ITEMS
        })
    );
    assert_eq!(cart, full);
}

#[test]
fn lines_are_changed_and_removed_by_id() {
    let basic = offer("basic", 1, 300);
    let mut cart = cart();
    let id = cart
        .add_line(line("basic", 3), Some(&basic))
        .unwrap()
        .id
        .clone();
    let changed = LineItem {
        id: id.clone(),
        ..line("basic", 7)
    };
    let previous = cart.update_line(changed.clone(), Some(&basic)).unwrap();
    assert_eq!(previous.changed().map(|l| l.quantity), Some(3));
    assert_eq!(cart.lines[0].quantity, 7);
    // R25: the line as it is is no change.
    assert_eq!(
        cart.update_line(changed, Some(&basic)),
        Ok(twotier_platform::change::Change::Unchanged)
    );
    let missing = LineItem {
        id: "other".into(),
        ..line("basic", 7)
    };
    assert_eq!(
        cart.update_line(missing, Some(&basic)),
        Err(CartError::LineItemNotFound("other".into()))
    );
    assert_eq!(cart.remove_line(&id).map(|l| l.quantity), Ok(7));
    assert_eq!(
        cart.remove_line(&id),
        Err(CartError::LineItemNotFound(id.clone()))
    );
}

#[test]
fn checkout_needs_a_line_then_the_attestation() {
    let basic = offer("basic", 1, 300);
    let catalog = offers(std::slice::from_ref(&basic));
    let mut empty = cart();
    assert!(empty.attest("alice", now()).unwrap().is_changed());
    assert_eq!(empty.buy(now(), 1, &catalog), Err(CartError::Empty));
    let mut unattested = cart();
    unattested.add_line(line("basic", 1), Some(&basic)).unwrap();
    assert_eq!(unattested.check_ready(), Err(CartError::NotAttested));
    assert_eq!(
        unattested.buy(now(), 1, &catalog),
        Err(CartError::NotAttested)
    );
    assert_eq!(unattested.state, CartState::Open);
}

#[test]
fn checkout_buys_only_the_version_that_was_reviewed() {
    let basic = offer("basic", 1, 300);
    let mut cart = ready(&basic);
    let before = cart.clone();
    assert_eq!(
        cart.buy(now(), cart.version + 1, &offers(&[basic])),
        Err(CartError::Stale)
    );
    assert_eq!(cart, before);
    assert_eq!(cart.ensure_version(None), Ok(()));
    assert_eq!(cart.ensure_version(Some(2)), Err(CartError::Stale));
}

#[test]
fn checkout_orders_the_cart_with_a_subscription_per_line() {
    let basic = offer("basic", 1, 300);
    let e5 = offer("e5", 1, 100_000);
    let mut cart = ready(&basic);
    let reseller = LineItem {
        reseller_partner_id: Some("4567890".into()),
        ..line("e5", 25)
    };
    cart.add_line(reseller, Some(&e5)).unwrap();
    let at = now();
    let order = cart.buy(at, cart.version, &offers(&[basic, e5])).unwrap();
    assert_eq!(
        cart.state,
        CartState::Ordered {
            order_id: order.id.clone()
        }
    );
    assert_eq!(
        (order.cart_id.as_str(), order.placed_by.as_str()),
        (cart.id.as_str(), "alice")
    );
    assert_eq!(order.lines.len(), 2);
    let bought = &order.lines[1];
    assert_eq!(bought.offer_display_name, "Offer e5");
    let subscription = &bought.subscription;
    assert_eq!(
        (subscription.quantity, subscription.offer_id.as_str()),
        (25, "e5")
    );
    assert_eq!(subscription.reseller_of_record.as_deref(), Some("4567890"));
    assert_eq!(subscription.support_contact, None);
    assert_eq!(
        (subscription.order_id.as_str(), subscription.version),
        (order.id.as_str(), 1)
    );
    assert_eq!(subscription.customer, cart.customer);
    assert_eq!(subscription.created_at, at);
    assert_ne!(order.lines[0].subscription.id, subscription.id);
}

#[test]
fn checkout_refuses_a_line_its_offer_no_longer_allows() {
    let basic = offer("basic", 1, 300);
    let mut cart = ready(&basic);
    let shrunk = offer("basic", 10, 20);
    assert_eq!(
        cart.buy(now(), cart.version, &offers(&[shrunk])),
        Err(CartError::Offer(OfferError::QuantityOutOfRange {
            field: "line_item.quantity",
            min: 10,
            max: 20
        }))
    );
    assert_eq!(
        cart.buy(now(), cart.version, &HashMap::new()),
        Err(CartError::Offer(OfferError::Unknown {
            field: "line_item.offer"
        }))
    );
    assert_eq!(cart.state, CartState::Open);
}

#[test]
fn cancelling_twice_is_harmless_and_an_ordered_cart_cannot_be_cancelled() {
    let basic = offer("basic", 1, 300);
    let mut cancelled = cart();
    assert_eq!(cancelled.cancel(), Ok(Cancellation::Cancelled));
    assert_eq!(cancelled.cancel(), Ok(Cancellation::AlreadyCancelled));
    assert_eq!(cancelled.state, CartState::Cancelled);
    assert_eq!(cancelled.attest("alice", now()), Err(CartError::Cancelled));
    let mut ordered = ready(&basic);
    ordered
        .buy(now(), ordered.version, &offers(&[basic]))
        .unwrap();
    assert_eq!(ordered.cancel(), Err(CartError::AlreadyOrdered));
    assert_eq!(ordered.check_ready(), Err(CartError::AlreadyOrdered));
}

#[test]
fn a_purchase_needs_the_customer_agreement() {
    assert_eq!(check_customer_agreement(true), Ok(()));
    assert_eq!(
        check_customer_agreement(false),
        Err(CartError::CustomerAgreementMissing)
    );
}

#[test]
fn resellers_of_record_are_listed_once_each_by_partner_id() {
    let basic = offer("basic", 1, 300);
    let mut cart = cart();
    for reseller in [Some("7654321"), None, Some("4567890"), Some("7654321")] {
        let with = LineItem {
            reseller_partner_id: reseller.map(str::to_owned),
            ..line("basic", 1)
        };
        cart.add_line(with, Some(&basic)).unwrap();
    }
    assert_eq!(
        cart.resellers_of_record().into_iter().collect::<Vec<_>>(),
        ["4567890", "7654321"]
    );
}

/// One command of a provider on a cart.
#[derive(Debug, Clone)]
enum Command {
    Add(usize, i32, Term, BillingCycle),
    Update(usize, usize, i32),
    Remove(usize),
    RemoveMissing,
    Attest,
    Cancel,
    Checkout { stale: bool },
}

fn command() -> impl Strategy<Value = Command> {
    let term = prop_oneof![Just(Term::Monthly), Just(Term::Annual)];
    let cycle = prop_oneof![Just(BillingCycle::Monthly), Just(BillingCycle::Annual)];
    prop_oneof![
        4 => (0..4usize, -2..310i32, term, cycle).prop_map(|(o, q, t, c)| Command::Add(o, q, t, c)),
        2 => (any::<usize>(), 0..4usize, -2..310i32).prop_map(|(l, o, q)| Command::Update(l, o, q)),
        1 => any::<usize>().prop_map(Command::Remove),
        1 => Just(Command::RemoveMissing),
        2 => Just(Command::Attest),
        1 => Just(Command::Cancel),
        2 => any::<bool>().prop_map(|stale| Command::Checkout { stale }),
    ]
}

/// The catalog of the property: offer 3 is not in it.
fn catalog() -> Vec<Offer> {
    let azure = Offer {
        terms: vec![Term::Monthly],
        billing_cycles: vec![BillingCycle::Monthly],
        ..offer("azure", 1, 1)
    };
    vec![offer("basic", 1, 300), azure, offer("e5", 1, 100_000)]
}

fn offer_id(index: usize) -> String {
    ["basic", "azure", "e5", "retired"][index].to_owned()
}

proptest! {
    /// Whatever a provider does in whatever order: an ordered or
    /// cancelled cart never changes again, a refused command changes
    /// nothing, every line stays within its offer's limits and the cart
    /// within its size, and checkout succeeds only for an open, attested
    /// cart with at least one line, at the version reviewed, buying exactly
    /// its lines.
    #[test]
    fn the_cart_state_machine_keeps_its_rules(
        prefill in 0..=MAX_LINE_ITEMS,
        commands in proptest::collection::vec(command(), 0..40),
    ) {
        let list = catalog();
        let by_id = offers(&list);
        let mut cart = cart();
        for _ in 0..prefill {
            cart.add_line(line("basic", 1), Some(&list[0])).unwrap();
        }
        for command in commands {
            let before = cart.clone();
            let offer_of = |index: usize| by_id.get(&offer_id(index));
            let outcome: Result<Option<Order>, CartError> = match command.clone() {
                Command::Add(o, quantity, term, billing_cycle) => {
                    let new = LineItem { term, billing_cycle, ..line(&offer_id(o), quantity) };
                    cart.add_line(new, offer_of(o)).map(|_| None)
                }
                Command::Update(l, o, quantity) => {
                    let id = before.lines.get(l % before.lines.len().max(1))
                        .map_or_else(|| "none".to_owned(), |line| line.id.clone());
                    let changed = LineItem { id, ..line(&offer_id(o), quantity) };
                    cart.update_line(changed, offer_of(o)).map(|_| None)
                }
                Command::Remove(l) => {
                    let id = before.lines.get(l % before.lines.len().max(1))
                        .map_or_else(|| "none".to_owned(), |line| line.id.clone());
                    cart.remove_line(&id).map(|_| None)
                }
                Command::RemoveMissing => cart.remove_line("missing").map(|_| None),
                Command::Attest => cart.attest("alice", now()).map(|_| None),
                Command::Cancel => cart.cancel().map(|_| None),
                Command::Checkout { stale } => {
                    let version = cart.version + i64::from(stale);
                    cart.buy(now(), version, &by_id).map(Some)
                }
            };
            if before.state != CartState::Open {
                prop_assert_eq!(&cart, &before, "{:?} changed a closed cart", command);
                let harmless = matches!(command, Command::Cancel) && before.state == CartState::Cancelled;
                prop_assert_eq!(outcome.is_ok(), harmless);
            }
            if outcome.is_err() {
                prop_assert_eq!(&cart, &before, "a refused {:?} changed the cart", command);
            }
            prop_assert!(cart.lines.len() <= MAX_LINE_ITEMS);
            for line in &cart.lines {
                let offer = by_id.get(&line.offer_id);
                prop_assert!(offer.is_some_and(|o| (o.min_licenses..=o.max_licenses).contains(&line.quantity)));
                prop_assert!(offer.is_some_and(|o| o.check_terms(line.term, line.billing_cycle).is_ok()));
            }
            if let Command::Checkout { stale } = command {
                let allowed = before.check_ready().is_ok() && !stale;
                prop_assert_eq!(outcome.is_ok(), allowed, "{:?}", outcome);
            }
            if let Ok(Some(order)) = outcome {
                prop_assert_eq!(&cart.state, &CartState::Ordered { order_id: order.id.clone() });
                prop_assert_eq!(order.lines.len(), before.lines.len());
                for (bought, line) in order.lines.iter().zip(&before.lines) {
                    let subscription = &bought.subscription;
                    prop_assert_eq!(&subscription.offer_id, &line.offer_id);
                    prop_assert_eq!(subscription.quantity, line.quantity);
                    prop_assert_eq!(&subscription.reseller_of_record, &line.reseller_partner_id);
                }
            }
        }
    }
}

#[test]
fn attesting_an_attested_cart_again_changes_nothing() {
    let basic = offer("basic", 1, 300);
    let mut cart = ready(&basic);
    let attested = cart.clone();
    let later = now() + chrono::TimeDelta::seconds(5);
    assert_eq!(cart.attest("bob", later), Ok(Change::Unchanged));
    assert_eq!(cart, attested, "who attested and when stay as they were");
}
