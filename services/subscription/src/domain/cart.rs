//! R15: a cart for one customer: open while its lines are edited, then
//! ordered (by checkout) or cancelled, and never changed again.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use twotier_platform::change::{self, Change};

use super::{
    BillingCycle, CancellationWindow, CartError, Offer, OfferError, Order, OrderLine, Subscription,
    Term,
};

/// Most line items a cart holds: review verifies every reseller of record
/// and checkout creates a subscription per line, so an unbounded cart would
/// be an unbounded amount of work for one call.
pub const MAX_LINE_ITEMS: usize = 100;

/// Where a cart is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CartState {
    /// Lines can be added, changed and removed.
    Open,
    /// Checked out into this order.
    Ordered {
        /// The order's id.
        order_id: String,
    },
    /// Dropped whole.
    Cancelled,
}

/// Who confirmed acting as indirect provider for the cart, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation {
    /// `sub` of who attested.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// One line item: an offer, a licence quantity and its terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineItem {
    /// UUIDv7 given by the cart, so lines order by addition.
    pub id: String,
    /// The offer id.
    pub offer_id: String,
    /// Licences.
    pub quantity: i32,
    /// Term.
    pub term: Term,
    /// Billing cycle.
    pub billing_cycle: BillingCycle,
    /// Reseller of record, if any.
    pub reseller_partner_id: Option<String>,
}

/// A line as asked for, before its offer settles what it leaves open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRequest {
    /// The line's id (empty for a new line).
    pub id: String,
    /// The offer id.
    pub offer_id: String,
    /// Licences.
    pub quantity: i32,
    /// Term, if chosen.
    pub term: Option<Term>,
    /// Billing cycle, if chosen.
    pub billing_cycle: Option<BillingCycle>,
    /// Reseller of record, if any.
    pub reseller_partner_id: Option<String>,
}

impl LineRequest {
    /// The line on `offer` (`None`: not in the catalog, which the cart then
    /// refuses): what it leaves open is what `current` (the line it
    /// replaces) has on the same offer, else the offer's default
    /// ([`Offer::terms_for`]).
    pub fn resolve(self, offer: Option<&Offer>, current: Option<&LineItem>) -> LineItem {
        let kept = current.filter(|line| line.offer_id == self.offer_id);
        let term = self.term.or(kept.map(|line| line.term));
        let billing_cycle = self.billing_cycle.or(kept
            .filter(|line| Some(line.term) == term)
            .map(|line| line.billing_cycle));
        let (term, billing_cycle) = match offer {
            Some(offer) => offer.terms_for(term, billing_cycle),
            None => (
                term.unwrap_or(Term::Monthly),
                billing_cycle.unwrap_or(BillingCycle::Monthly),
            ),
        };
        LineItem {
            id: self.id,
            offer_id: self.offer_id,
            quantity: self.quantity,
            term,
            billing_cycle,
            reseller_partner_id: self.reseller_partner_id,
        }
    }
}

/// A provider's cart for one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cart {
    /// UUIDv7.
    pub id: String,
    /// The provider's tenant id.
    pub provider_id: String,
    /// The customer's resource name.
    pub customer: String,
    /// Open, ordered or cancelled.
    pub state: CartState,
    /// The indirect-provider attestation, once given.
    pub attestation: Option<Attestation>,
    /// Its lines, in the order they were added.
    pub lines: Vec<LineItem>,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change (stamped by the store with each write).
    pub updated_at: DateTime<Utc>,
    /// Optimistic concurrency version, bumped by the store with each write.
    /// Edits of an open cart are not guarded by it (concurrent edits all
    /// apply); checkout is, by the version it reviewed.
    pub version: i64,
}

/// What cancelling did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancellation {
    /// The open cart is now cancelled.
    Cancelled,
    /// It was cancelled already: cancelling twice is harmless.
    AlreadyCancelled,
}

impl LineItem {
    /// The line's offer (from `offer`, looked up by the line's offer id) if
    /// it exists and allows the line's quantity: what review checks of
    /// every line, since the line may have been added under other limits.
    pub fn check<'o>(&self, offer: Option<&'o Offer>) -> Result<&'o Offer, CartError> {
        let offer = offer.ok_or(OfferError::Unknown {
            field: "line_item.offer",
        })?;
        offer.check_quantity(self.quantity, "line_item.quantity")?;
        Ok(offer)
    }

    /// A line as it may be put into a cart with `offer`.
    fn check_with(&self, offer: Option<&Offer>) -> Result<(), CartError> {
        let offer = self.check(offer)?;
        Ok(offer.check_terms(self.term, self.billing_cycle)?)
    }
}

/// R12: a purchase needs the customer's agreement on record.
pub fn check_customer_agreement(accepted: bool) -> Result<(), CartError> {
    if accepted {
        return Ok(());
    }
    Err(CartError::CustomerAgreementMissing)
}

impl Cart {
    /// A new, empty, open cart for `customer`.
    pub fn new(provider_id: &str, customer: &str, now: DateTime<Utc>) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            provider_id: provider_id.to_owned(),
            customer: customer.to_owned(),
            state: CartState::Open,
            attestation: None,
            lines: Vec::new(),
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// Refuses anything but an open cart.
    pub fn ensure_open(&self) -> Result<(), CartError> {
        match self.state {
            CartState::Open => Ok(()),
            CartState::Ordered { .. } => Err(CartError::AlreadyOrdered),
            CartState::Cancelled => Err(CartError::Cancelled),
        }
    }

    /// Refuses a caller who read another version (`None`: it named none).
    pub fn ensure_version(&self, expected: Option<i64>) -> Result<(), CartError> {
        match expected {
            Some(version) if version != self.version => Err(CartError::Stale),
            _ => Ok(()),
        }
    }

    /// Adds `line` (which gets a new id) if its offer (`None`: not in the
    /// catalog) allows it and the cart has room; the line as added.
    pub fn add_line(
        &mut self,
        mut line: LineItem,
        offer: Option<&Offer>,
    ) -> Result<LineItem, CartError> {
        self.ensure_open()?;
        line.check_with(offer)?;
        if self.lines.len() >= MAX_LINE_ITEMS {
            return Err(CartError::TooManyLineItems {
                max: MAX_LINE_ITEMS,
            });
        }
        line.id = uuid::Uuid::now_v7().to_string();
        self.lines.push(line.clone());
        Ok(line)
    }

    /// Replaces the line with `line`'s id, if its offer (`None`: not in
    /// the catalog) allows it; the line before. The line as it is already
    /// is no change (R25).
    pub fn update_line(
        &mut self,
        line: LineItem,
        offer: Option<&Offer>,
    ) -> Result<Change<LineItem>, CartError> {
        self.ensure_open()?;
        line.check_with(offer)?;
        let Some(current) = self.lines.iter_mut().find(|l| l.id == line.id) else {
            return Err(CartError::LineItemNotFound(line.id));
        };
        Ok(change::replace(current, line))
    }

    /// Removes the line `line_id`.
    pub fn remove_line(&mut self, line_id: &str) -> Result<LineItem, CartError> {
        self.ensure_open()?;
        let Some(index) = self.lines.iter().position(|l| l.id == line_id) else {
            return Err(CartError::LineItemNotFound(line_id.to_owned()));
        };
        Ok(self.lines.remove(index))
    }

    /// Records that `by` acts as indirect provider for this cart. A cart
    /// attested already stays as it was (R25: who attested and when, and
    /// its etag); the attestation is made once.
    pub fn attest(&mut self, by: &str, now: DateTime<Utc>) -> Result<Change<()>, CartError> {
        self.ensure_open()?;
        if self.attestation.is_some() {
            return Ok(Change::Unchanged);
        }
        self.attestation = Some(Attestation {
            by: by.to_owned(),
            at: now,
        });
        Ok(Change::Changed(()))
    }

    /// "Cancel": drops the whole cart, unless it was ordered.
    pub fn cancel(&mut self) -> Result<Cancellation, CartError> {
        match self.state {
            CartState::Open => {
                self.state = CartState::Cancelled;
                Ok(Cancellation::Cancelled)
            }
            CartState::Cancelled => Ok(Cancellation::AlreadyCancelled),
            CartState::Ordered { .. } => Err(CartError::AlreadyOrdered),
        }
    }

    /// What review asks of the cart itself before asking other services:
    /// open, not empty, attested.
    pub fn check_ready(&self) -> Result<(), CartError> {
        self.ensure_open()?;
        if self.lines.is_empty() {
            return Err(CartError::Empty);
        }
        if self.attestation.is_none() {
            return Err(CartError::NotAttested);
        }
        Ok(())
    }

    /// The distinct resellers of record of its lines, by PartnerID.
    pub fn resellers_of_record(&self) -> BTreeSet<&str> {
        self.lines
            .iter()
            .filter_map(|line| line.reseller_partner_id.as_deref())
            .collect()
    }

    /// "Purchase": the order, with one subscription per line, of the cart
    /// as it was reviewed at `reviewed_version` (with `offers` the offers
    /// of its lines, by id), each cancellable for `window` (R27). The cart
    /// is then ordered.
    pub fn checkout(
        &mut self,
        now: DateTime<Utc>,
        placed_by: &str,
        reviewed_version: i64,
        offers: &HashMap<String, Offer>,
        window: CancellationWindow,
    ) -> Result<Order, CartError> {
        self.ensure_open()?;
        // The cart changed between review and now: what was reviewed is not
        // what would be bought.
        self.ensure_version(Some(reviewed_version))?;
        self.check_ready()?;
        let order_id = uuid::Uuid::now_v7().to_string();
        let lines = self
            .lines
            .iter()
            .map(|line| {
                let offer = line.check(offers.get(&line.offer_id))?;
                Ok(OrderLine {
                    offer_display_name: offer.display_name.clone(),
                    subscription: Subscription::purchased(
                        &self.provider_id,
                        &self.customer,
                        &order_id,
                        line,
                        now,
                        window,
                    ),
                })
            })
            .collect::<Result<Vec<_>, CartError>>()?;
        self.state = CartState::Ordered {
            order_id: order_id.clone(),
        };
        Ok(Order {
            id: order_id,
            provider_id: self.provider_id.clone(),
            customer: self.customer.clone(),
            cart_id: self.id.clone(),
            placed_by: placed_by.to_owned(),
            created_at: now,
            lines,
        })
    }
}

#[cfg(test)]
mod tests;
