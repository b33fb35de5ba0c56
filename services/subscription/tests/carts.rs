//! R14 and R15 through gRPC: a cart's line items are refused outside what
//! their offer allows (naming the offending field), edited and removed; edits
//! and cancels of one open cart made at the same time all succeed.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::subscription as pb;
use twotier_testkit::{assert_error, violated_fields};

#[tokio::test]
async fn line_items_outside_the_offer_are_refused_with_the_offending_field() {
    let h = start().await;
    let customer = h.customer(PROVIDER, "adatum", "", true).await;
    let cart = h.cart(PROVIDER, &customer, vec![]).await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let add = |line: pb::LineItem| pb::AddLineItemRequest {
        cart: cart.name.clone(),
        line_item: Some(line),
    };

    for quantity in [0, 301] {
        let status = assert_error(
            client
                .add_line_item(add(line("m365-business-basic", quantity, "")))
                .await,
            Code::InvalidArgument,
            "QUANTITY_OUT_OF_RANGE",
        );
        assert_eq!(violated_fields(&status), vec!["line_item.quantity"]);
    }
    let mut azure_annual = line("azure-plan", 1, "");
    azure_annual.term = pb::Term::Annual.into();
    assert_error(
        client.add_line_item(add(azure_annual)).await,
        Code::InvalidArgument,
        "TERM_NOT_OFFERED",
    );
    let status = assert_error(
        client
            .add_line_item(add(line("no-such-offer", 1, "")))
            .await,
        Code::InvalidArgument,
        "UNKNOWN_OFFER",
    );
    assert_eq!(violated_fields(&status), vec!["line_item.offer"]);
    let mut unknown_term = line("m365-business-basic", 1, "12ab");
    unknown_term.term = 7;
    let status = assert_error(
        client.add_line_item(add(unknown_term)).await,
        Code::InvalidArgument,
        "INVALID_LINE_ITEM",
    );
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(
        fields,
        vec!["line_item.reseller_partner_id", "line_item.term"]
    );

    let added = client
        .add_line_item(add(line("m365-business-basic", 300, "")))
        .await
        .expect("at the limit")
        .into_inner();
    let line_id = added.line_items[0].line_item_id.clone();
    let mut changed = line("m365-business-basic", 5, "");
    changed.line_item_id = line_id.clone();
    let updated = client
        .update_line_item(pb::UpdateLineItemRequest {
            cart: cart.name.clone(),
            line_item: Some(changed),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.line_items[0].quantity, 5);
    let removed = client
        .remove_line_item(pb::RemoveLineItemRequest {
            cart: cart.name.clone(),
            line_item_id: line_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(removed.line_items.is_empty());
    assert_error(
        client
            .remove_line_item(pb::RemoveLineItemRequest {
                cart: cart.name.clone(),
                line_item_id: line_id,
            })
            .await,
        Code::NotFound,
        "LINE_ITEM_NOT_FOUND",
    );
}

/// R15 names a line by offer, quantity and reseller alone: a term or
/// billing cycle left unspecified is the offer's default, and an update
/// that leaves them open keeps the line's.
#[tokio::test]
async fn r15_a_line_of_offer_and_quantity_alone_takes_the_offers_term_and_cycle() {
    let h = start().await;
    let customer = h.customer(PROVIDER, "adatum", "", true).await;
    let cart = h.cart(PROVIDER, &customer, vec![]).await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let bare = |offer: &str, quantity| pb::LineItem {
        offer: format!("offers/{offer}"),
        quantity,
        ..Default::default()
    };

    let added = client
        .add_line_item(pb::AddLineItemRequest {
            cart: cart.name.clone(),
            line_item: Some(bare("azure-plan", 1)),
        })
        .await
        .expect("offer and quantity are a line")
        .into_inner();
    let azure = &added.line_items[0];
    assert_eq!(azure.term(), pb::Term::Monthly);
    assert_eq!(azure.billing_cycle(), pb::BillingCycle::Monthly);

    let annual = client
        .add_line_item(pb::AddLineItemRequest {
            cart: cart.name.clone(),
            line_item: Some(line("m365-business-basic", 5, "")),
        })
        .await
        .unwrap()
        .into_inner();
    let annual_id = annual.line_items[1].line_item_id.clone();
    let mut more = bare("m365-business-basic", 9);
    more.line_item_id = annual_id;
    let updated = client
        .update_line_item(pb::UpdateLineItemRequest {
            cart: cart.name.clone(),
            line_item: Some(more),
        })
        .await
        .unwrap()
        .into_inner();
    let kept = &updated.line_items[1];
    assert_eq!(kept.quantity, 9);
    assert_eq!(
        kept.term(),
        pb::Term::Annual,
        "the update keeps the line's term"
    );
    assert_eq!(kept.billing_cycle(), pb::BillingCycle::Monthly);
}

/// Edits of an open cart made at the same time all apply, and cancelling a
/// cart twice at once is harmless for both callers.
#[tokio::test]
async fn concurrent_line_additions_all_apply_and_concurrent_cancels_both_succeed() {
    let h = start().await;
    let customer = h.customer(PROVIDER, "adatum", "", true).await;
    let cart = h
        .cart(PROVIDER, &customer, vec![line("m365-e5", 2, "")])
        .await;
    let offers = [
        "m365-business-basic",
        "m365-business-standard",
        "m365-business-premium",
    ];
    let additions: Vec<_> = offers
        .iter()
        .map(|offer| {
            let mut client = h.subscriptions(&provider_admin(PROVIDER));
            let request = pb::AddLineItemRequest {
                cart: cart.name.clone(),
                line_item: Some(line(offer, 3, "")),
            };
            tokio::spawn(async move { client.add_line_item(request).await })
        })
        .collect();
    for addition in additions {
        addition.await.unwrap().expect("every addition applies");
    }
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let edited = client
        .get_cart(pb::GetCartRequest {
            name: cart.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(edited.line_items.len(), 1 + offers.len());

    let cancels: Vec<_> = (0..2)
        .map(|_| {
            let mut client = h.subscriptions(&provider_admin(PROVIDER));
            let request = pb::CancelCartRequest {
                cart: cart.name.clone(),
            };
            tokio::spawn(async move { client.cancel_cart(request).await })
        })
        .collect();
    for cancel in cancels {
        let cancelled = cancel.await.unwrap().expect("cancelling twice is harmless");
        assert_eq!(
            cancelled.into_inner().state,
            pb::CartState::Cancelled as i32
        );
    }
}
