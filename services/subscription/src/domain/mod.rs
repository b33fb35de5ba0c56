//! The rules of R14-R19 and R25-R28 as plain types: the offer catalog,
//! carts and their checkout, orders and subscriptions with their
//! lifecycle. Nothing here does IO; the api room loads these types from
//! the store, asks them to decide, and saves what they decided.

mod cart;
mod catalog;
mod error;
mod lifecycle;
mod order;
mod subscription;

pub use cart::{
    Attestation, Cancellation, Cart, CartState, LineItem, LineRequest, MAX_LINE_ITEMS,
    check_customer_agreement,
};
pub use catalog::{BillingCycle, Offer, Term};
pub use error::{CartError, OfferError, OrderError, PartyError, SubscriptionError};
pub use lifecycle::{CancellationWindow, SubscriptionState};
pub use order::{Order, OrderLine};
pub use subscription::{Subscription, SupportContact};
