//! A cart holds a bounded number of line items.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::subscription as pb;
use twotier_subscription::domain::MAX_LINE_ITEMS;
use twotier_testkit::assert_error;

#[tokio::test]
async fn a_full_cart_refuses_another_line_item_and_keeps_what_it_holds() {
    let h = start().await;
    let customer = h.customer(PROVIDER, "adatum", "", true).await;
    let lines = vec![line("m365-business-basic", 1, ""); MAX_LINE_ITEMS];
    let cart = h.cart(PROVIDER, &customer, lines).await;
    assert_eq!(cart.line_items.len(), MAX_LINE_ITEMS);
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    assert_error(
        client
            .add_line_item(pb::AddLineItemRequest {
                cart: cart.name.clone(),
                line_item: Some(line("m365-business-basic", 1, "")),
            })
            .await,
        Code::FailedPrecondition,
        "TOO_MANY_LINE_ITEMS",
    );
    let kept = client
        .get_cart(pb::GetCartRequest {
            name: cart.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(kept, cart, "the refused line changed nothing");
}
