//! R15 with the customer service down: checkout fails fast with UNAVAILABLE
//! and changes neither the cart nor the orders.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::subscription as pb;
use twotier_testkit::assert_error;

#[tokio::test]
async fn customer_service_down_makes_checkout_unavailable_and_changes_nothing() {
    let mut h = start().await;
    let customer = h.customer(PROVIDER, "adatum", "", true).await;
    let cart = h
        .cart(PROVIDER, &customer, vec![line("m365-e5", 2, "")])
        .await;
    h.stop("customer").await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let started = std::time::Instant::now();
    assert_error(
        client
            .checkout_cart(pb::CheckoutCartRequest {
                cart: cart.name.clone(),
                request_id: String::new(),
                etag: String::new(),
            })
            .await,
        Code::Unavailable,
        "DEPENDENCY_UNAVAILABLE",
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "fails within the deadline, no hang"
    );
    let unchanged = client
        .get_cart(pb::GetCartRequest { name: cart.name })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unchanged.state, pb::CartState::Open as i32);
    assert_eq!(unchanged.etag, cart.etag);
    let orders = client
        .list_orders(pb::ListOrdersRequest {
            parent: "providers/contoso".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(orders.orders.is_empty());
}
