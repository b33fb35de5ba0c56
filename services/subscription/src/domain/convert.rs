//! Stored rows as the resources of the public contract.

use twotier_platform::names::etag;
use twotier_platform::time::timestamp;
use twotier_proto::subscription as pb;

use crate::store::entities::{cart, cart_line, offer, purchase_order, subscription};

/// Cart states as stored.
pub(crate) mod cart_state {
    pub const OPEN: &str = "open";
    pub const ORDERED: &str = "ordered";
    pub const CANCELLED: &str = "cancelled";
}

pub(crate) fn offer_name(id: &str) -> String {
    format!("offers/{id}")
}

pub(crate) fn cart_name(provider_id: &str, id: &str) -> String {
    format!("providers/{provider_id}/carts/{id}")
}

pub(crate) fn order_name(provider_id: &str, id: &str) -> String {
    format!("providers/{provider_id}/orders/{id}")
}

pub(crate) fn subscription_name(customer: &str, id: &str) -> String {
    format!("{customer}/subscriptions/{id}")
}

pub(crate) fn term(stored: &str) -> pb::Term {
    match stored {
        "monthly" => pb::Term::Monthly,
        "annual" => pb::Term::Annual,
        _ => pb::Term::Unspecified,
    }
}

pub(crate) fn term_key(term: pb::Term) -> &'static str {
    match term {
        pb::Term::Annual => "annual",
        _ => "monthly",
    }
}

pub(crate) fn billing_cycle(stored: &str) -> pb::BillingCycle {
    match stored {
        "monthly" => pb::BillingCycle::Monthly,
        "annual" => pb::BillingCycle::Annual,
        _ => pb::BillingCycle::Unspecified,
    }
}

pub(crate) fn billing_cycle_key(cycle: pb::BillingCycle) -> &'static str {
    match cycle {
        pb::BillingCycle::Annual => "annual",
        _ => "monthly",
    }
}

pub(crate) fn keys(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

pub(crate) fn offer(row: offer::Model) -> pb::Offer {
    pb::Offer {
        name: offer_name(&row.id),
        terms: keys(&row.terms).iter().map(|t| term(t).into()).collect(),
        billing_cycles: keys(&row.billing_cycles)
            .iter()
            .map(|c| billing_cycle(c).into())
            .collect(),
        offer_id: row.id,
        display_name: row.display_name,
        description: row.description,
        min_licenses: row.min_licenses,
        max_licenses: row.max_licenses,
    }
}

pub(crate) fn line_item(row: &cart_line::Model) -> pb::LineItem {
    pb::LineItem {
        line_item_id: row.id.clone(),
        offer: offer_name(&row.offer_id),
        quantity: row.quantity,
        term: term(&row.term).into(),
        billing_cycle: billing_cycle(&row.billing_cycle).into(),
        reseller_partner_id: row.reseller_partner_id.clone().unwrap_or_default(),
    }
}

pub(crate) fn cart(row: cart::Model, lines: &[cart_line::Model]) -> pb::Cart {
    let state = match row.state.as_str() {
        cart_state::ORDERED => pb::CartState::Ordered,
        cart_state::CANCELLED => pb::CartState::Cancelled,
        _ => pb::CartState::Open,
    };
    pb::Cart {
        name: cart_name(&row.provider_id, &row.id),
        line_items: lines.iter().map(line_item).collect(),
        indirect_provider_attested: row.attested_at.is_some(),
        state: state.into(),
        order: row
            .order_id
            .as_deref()
            .map(|id| order_name(&row.provider_id, id))
            .unwrap_or_default(),
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
        etag: etag(row.version),
        customer: row.customer,
    }
}

pub(crate) fn subscription(row: subscription::Model, offer_display_name: &str) -> pb::Subscription {
    pb::Subscription {
        name: subscription_name(&row.customer, &row.id),
        offer: offer_name(&row.offer_id),
        offer_display_name: offer_display_name.to_owned(),
        quantity: row.quantity,
        term: term(&row.term).into(),
        billing_cycle: billing_cycle(&row.billing_cycle).into(),
        reseller_partner_id: row.reseller_partner_id.unwrap_or_default(),
        support_contact_partner_id: row.support_contact_partner_id.unwrap_or_default(),
        order: order_name(&row.provider_id, &row.order_id),
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
        etag: etag(row.version),
    }
}

pub(crate) fn order(row: purchase_order::Model, lines: Vec<pb::OrderLine>) -> pb::Order {
    pb::Order {
        name: order_name(&row.provider_id, &row.id),
        cart: cart_name(&row.provider_id, &row.cart_id),
        customer: row.customer,
        lines,
        placed_by: row.placed_by,
        create_time: Some(timestamp(row.created_at)),
    }
}

pub(crate) fn order_line(subscription: &pb::Subscription) -> pb::OrderLine {
    pb::OrderLine {
        offer: subscription.offer.clone(),
        offer_display_name: subscription.offer_display_name.clone(),
        quantity: subscription.quantity,
        term: subscription.term,
        billing_cycle: subscription.billing_cycle,
        reseller_partner_id: subscription.reseller_partner_id.clone(),
        subscription: subscription.name.clone(),
    }
}
