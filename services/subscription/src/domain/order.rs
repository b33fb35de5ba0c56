//! R15: an order, the immutable record of one checkout.

use chrono::{DateTime, Utc};

use super::Subscription;

/// A placed order: what was bought, never changed afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// UUIDv7.
    pub id: String,
    /// The provider's tenant id.
    pub provider_id: String,
    /// The customer's resource name.
    pub customer: String,
    /// The cart it was placed from (one order per cart).
    pub cart_id: String,
    /// `sub` of who placed it.
    pub placed_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// One line per cart line, in the cart's order.
    pub lines: Vec<OrderLine>,
}

/// One bought line: the subscription it created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    /// The offer's name at the time of purchase.
    pub offer_display_name: String,
    /// The subscription created for the line.
    pub subscription: Subscription,
}
