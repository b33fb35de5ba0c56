//! The domain's types as the resources of the public contract, and the
//! contract's inputs as domain types: the one place where the two meet.

use twotier_partners::ResellerEntry;
use twotier_partners::eligibility;
use twotier_platform::names::{self, etag};
use twotier_platform::time::timestamp;
use twotier_platform::{Error, Violations};
use twotier_proto::subscription as pb;

use crate::domain::{
    BillingCycle, Cart, CartState, LineItem, LineRequest, Offer, Order, OrderLine, Subscription,
    SubscriptionState, Term,
};

pub fn offer_name(id: &str) -> String {
    format!("offers/{id}")
}

pub fn cart_name(provider_id: &str, id: &str) -> String {
    format!("providers/{provider_id}/carts/{id}")
}

pub fn order_name(provider_id: &str, id: &str) -> String {
    format!("providers/{provider_id}/orders/{id}")
}

pub fn subscription_name(customer: &str, id: &str) -> String {
    format!("{customer}/subscriptions/{id}")
}

/// The version an etag names; `None` for no etag (no check). An etag this
/// service never issued names version 0, which no resource has (they
/// start at 1), so it is stale like any other.
pub fn expected_version(supplied: &str) -> Option<i64> {
    if supplied.is_empty() {
        return None;
    }
    let named = supplied
        .strip_prefix("W/\"")
        .and_then(|rest| rest.strip_suffix('"'))
        .and_then(|version| version.parse::<i64>().ok())
        .filter(|version| etag(*version) == supplied);
    Some(named.unwrap_or(0))
}

fn term(term: Term) -> pb::Term {
    match term {
        Term::Monthly => pb::Term::Monthly,
        Term::Annual => pb::Term::Annual,
    }
}

fn billing_cycle(cycle: BillingCycle) -> pb::BillingCycle {
    match cycle {
        BillingCycle::Monthly => pb::BillingCycle::Monthly,
        BillingCycle::Annual => pb::BillingCycle::Annual,
    }
}

pub fn subscription_state(state: SubscriptionState) -> pb::SubscriptionState {
    match state {
        SubscriptionState::Active => pb::SubscriptionState::Active,
        SubscriptionState::Suspended => pb::SubscriptionState::Suspended,
        SubscriptionState::Cancelled => pb::SubscriptionState::Cancelled,
    }
}

/// The field of a line's reseller of record.
const PARTNER_FIELD: &str = "line_item.reseller_partner_id";

/// A requested line item, checked for form (its offer judges the rest and
/// settles a term or billing cycle left unspecified); its id is the
/// request's (empty for a new line).
pub fn line_input(line: &pb::LineItem) -> Result<LineRequest, Error> {
    let mut violations = Violations::new();
    let offer = names::parse::<1>(&line.offer, &["offers", "*"]);
    if offer.is_none() {
        violations.add("line_item.offer", "must look like offers/{offer_id}");
    }
    let term = match pb::Term::try_from(line.term) {
        Ok(pb::Term::Unspecified) => Ok(None),
        Ok(pb::Term::Monthly) => Ok(Some(Term::Monthly)),
        Ok(pb::Term::Annual) => Ok(Some(Term::Annual)),
        Err(_) => Err(()),
    };
    if term.is_err() {
        violations.add(
            "line_item.term",
            "must be TERM_MONTHLY, TERM_ANNUAL or unspecified (the offer's default)",
        );
    }
    let billing_cycle = match pb::BillingCycle::try_from(line.billing_cycle) {
        Ok(pb::BillingCycle::Unspecified) => Ok(None),
        Ok(pb::BillingCycle::Monthly) => Ok(Some(BillingCycle::Monthly)),
        Ok(pb::BillingCycle::Annual) => Ok(Some(BillingCycle::Annual)),
        Err(_) => Err(()),
    };
    if billing_cycle.is_err() {
        violations.add(
            "line_item.billing_cycle",
            "must be BILLING_CYCLE_MONTHLY, BILLING_CYCLE_ANNUAL or unspecified (the offer's default)",
        );
    }
    // R24: a malformed reseller alone is refused as `VerifyPartnerId`
    // refuses it; with other bad fields it is one violation among them.
    let partner = if line.reseller_partner_id.is_empty() {
        Ok(())
    } else {
        eligibility::well_formed(&line.reseller_partner_id)
    };
    if let Err(malformed) = partner {
        if violations.is_empty() {
            return Err(malformed.chosen_in(PARTNER_FIELD).into());
        }
        violations.add(PARTNER_FIELD, malformed.to_string());
    }
    violations.into_result("INVALID_LINE_ITEM")?;
    match (offer, term, billing_cycle) {
        (Some([offer_id]), Ok(term), Ok(billing_cycle)) => Ok(LineRequest {
            id: line.line_item_id.clone(),
            offer_id: offer_id.to_owned(),
            quantity: line.quantity,
            term,
            billing_cycle,
            reseller_partner_id: Some(line.reseller_partner_id.clone()).filter(|id| !id.is_empty()),
        }),
        _ => Err(Error::Internal("validated line item lost a field".into())),
    }
}

pub fn offer(offer: &Offer) -> pb::Offer {
    pb::Offer {
        name: offer_name(&offer.id),
        offer_id: offer.id.clone(),
        display_name: offer.display_name.clone(),
        description: offer.description.clone(),
        min_licenses: offer.min_licenses,
        max_licenses: offer.max_licenses,
        terms: offer.terms.iter().map(|t| term(*t).into()).collect(),
        billing_cycles: offer
            .billing_cycles
            .iter()
            .map(|c| billing_cycle(*c).into())
            .collect(),
    }
}

pub fn line_item(line: &LineItem) -> pb::LineItem {
    pb::LineItem {
        line_item_id: line.id.clone(),
        offer: offer_name(&line.offer_id),
        quantity: line.quantity,
        term: term(line.term).into(),
        billing_cycle: billing_cycle(line.billing_cycle).into(),
        reseller_partner_id: line.reseller_partner_id.clone().unwrap_or_default(),
    }
}

pub fn cart(cart: &Cart) -> pb::Cart {
    let (state, order) = match &cart.state {
        CartState::Open => (pb::CartState::Open, String::new()),
        CartState::Ordered { order_id } => (
            pb::CartState::Ordered,
            order_name(&cart.provider_id, order_id),
        ),
        CartState::Cancelled => (pb::CartState::Cancelled, String::new()),
    };
    pb::Cart {
        name: cart_name(&cart.provider_id, &cart.id),
        customer: cart.customer.clone(),
        line_items: cart.lines.iter().map(line_item).collect(),
        indirect_provider_attested: cart.attestation.is_some(),
        state: state.into(),
        order,
        create_time: Some(timestamp(cart.created_at)),
        update_time: Some(timestamp(cart.updated_at)),
        etag: etag(cart.version),
    }
}

pub fn subscription(subscription: &Subscription, offer_display_name: &str) -> pb::Subscription {
    pb::Subscription {
        name: subscription_name(&subscription.customer, &subscription.id),
        offer: offer_name(&subscription.offer_id),
        offer_display_name: offer_display_name.to_owned(),
        quantity: subscription.quantity,
        term: term(subscription.term).into(),
        billing_cycle: billing_cycle(subscription.billing_cycle).into(),
        reseller_partner_id: subscription.reseller_of_record.clone().unwrap_or_default(),
        support_contact_partner_id: subscription.support_contact.clone().unwrap_or_default(),
        order: order_name(&subscription.provider_id, &subscription.order_id),
        create_time: Some(timestamp(subscription.created_at)),
        update_time: Some(timestamp(subscription.updated_at)),
        etag: etag(subscription.version),
        state: subscription_state(subscription.state).into(),
        auto_renew: subscription.auto_renew,
        cancellation_deadline: Some(timestamp(subscription.cancellation_deadline)),
    }
}

/// A bought line as its subscription was created.
pub fn created_subscription(line: &OrderLine) -> pb::Subscription {
    subscription(&line.subscription, &line.offer_display_name)
}

pub fn order(order: &Order) -> pb::Order {
    pb::Order {
        name: order_name(&order.provider_id, &order.id),
        cart: cart_name(&order.provider_id, &order.cart_id),
        customer: order.customer.clone(),
        lines: order.lines.iter().map(order_line).collect(),
        placed_by: order.placed_by.clone(),
        create_time: Some(timestamp(order.created_at)),
    }
}

fn order_line(line: &OrderLine) -> pb::OrderLine {
    let subscription = &line.subscription;
    pb::OrderLine {
        offer: offer_name(&subscription.offer_id),
        offer_display_name: line.offer_display_name.clone(),
        quantity: subscription.quantity,
        term: term(subscription.term).into(),
        billing_cycle: billing_cycle(subscription.billing_cycle).into(),
        reseller_partner_id: subscription.reseller_of_record.clone().unwrap_or_default(),
        subscription: subscription_name(&subscription.customer, &subscription.id),
    }
}

/// An order as stored: its snapshot, the order as first answered.
pub fn stored_order(snapshot: &[u8]) -> Result<pb::Order, Error> {
    prost::Message::decode(snapshot)
        .map_err(|e| Error::Internal(format!("stored order does not decode: {e}")))
}

pub fn reseller_contact(reseller: ResellerEntry) -> pb::ResellerContact {
    pb::ResellerContact {
        partner_id: reseller.partner_id,
        company_name: reseller.company_name,
        contact_email: reseller.contact_email,
        language_code: reseller.preferred_language,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_name_versions_and_anything_else_names_none_a_resource_has() {
        assert_eq!(expected_version(""), None);
        assert_eq!(expected_version(&etag(7)), Some(7));
        for foreign in ["7", "W/\"+7\"", "W/\"07\"", "\"7\"", "W/\"x\""] {
            assert_eq!(expected_version(foreign), Some(0), "{foreign}");
        }
    }
}
