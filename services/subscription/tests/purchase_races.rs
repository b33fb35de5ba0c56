//! R15 under concurrency: checkouts retried at once with one request id buy
//! once, and a checkout racing a cancel of the same cart has exactly one
//! winner.

mod common;

use common::*;
use twotier_platform::upstream::reason_of;
use twotier_proto::subscription as pb;

#[tokio::test]
async fn sixteen_concurrent_checkouts_with_one_request_id_buy_once() {
    let h = start().await;
    let customer = h.customer(PROVIDER, "adatum", "", true).await;
    let cart = h
        .cart(
            PROVIDER,
            &customer,
            vec![line("m365-business-standard", 3, "")],
        )
        .await;
    let attempts: Vec<_> = (0..16)
        .map(|_| {
            let mut client = h.subscriptions(&provider_admin(PROVIDER));
            let request = pb::CheckoutCartRequest {
                cart: cart.name.clone(),
                request_id: "buy-once".into(),
                etag: String::new(),
            };
            tokio::spawn(async move {
                client
                    .checkout_cart(request)
                    .await
                    .map(|r| r.into_inner().name)
            })
        })
        .collect();
    let mut names = Vec::new();
    for attempt in attempts {
        names.push(
            attempt
                .await
                .unwrap()
                .expect("each retry answers with the order"),
        );
    }
    names.dedup();
    assert_eq!(names.len(), 1, "one order");
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let orders = client
        .list_orders(pb::ListOrdersRequest {
            parent: "providers/contoso".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(orders.orders.len(), 1);
    let subscriptions = client
        .list_subscriptions(pb::ListSubscriptionsRequest {
            parent: customer,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(subscriptions.subscriptions.len(), 1, "one subscription");
}

/// A checkout racing a cancel of the same cart: whatever the interleaving,
/// exactly one of them wins and the cart, the orders and the loser's error
/// all agree on which.
#[tokio::test]
async fn checkout_racing_cancel_of_one_cart_has_exactly_one_winner() {
    let h = start().await;
    let customer = h.customer(PROVIDER, "adatum", "", true).await;
    let mut ordered = 0;
    for _ in 0..16 {
        let cart = h
            .cart(PROVIDER, &customer, vec![line("m365-e5", 2, "")])
            .await;
        let mut buyer = h.subscriptions(&provider_admin(PROVIDER));
        let mut canceller = h.subscriptions(&provider_admin(PROVIDER));
        let checkout = pb::CheckoutCartRequest {
            cart: cart.name.clone(),
            request_id: String::new(),
            etag: String::new(),
        };
        let cancel = pb::CancelCartRequest {
            cart: cart.name.clone(),
        };
        let (bought, cancelled) = tokio::join!(
            tokio::spawn(async move { buyer.checkout_cart(checkout).await }),
            tokio::spawn(async move { canceller.cancel_cart(cancel).await }),
        );
        let (bought, cancelled) = (bought.unwrap(), cancelled.unwrap());
        let winner = match (&bought, &cancelled) {
            (Ok(_), Err(lost)) => {
                assert_eq!(
                    reason_of(lost).as_deref(),
                    Some("CART_ALREADY_ORDERED"),
                    "{lost:?}"
                );
                pb::CartState::Ordered
            }
            (Err(lost), Ok(_)) => {
                assert_eq!(
                    reason_of(lost).as_deref(),
                    Some("CART_CANCELLED"),
                    "{lost:?}"
                );
                pb::CartState::Cancelled
            }
            both => panic!("exactly one must win: {both:?}"),
        };
        let mut client = h.subscriptions(&provider_admin(PROVIDER));
        let after = client
            .get_cart(pb::GetCartRequest { name: cart.name })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(after.state, winner as i32);
        if winner == pb::CartState::Ordered {
            ordered += 1;
        }
    }
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let orders = client
        .list_orders(pb::ListOrdersRequest {
            parent: format!("providers/{PROVIDER}"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(orders.orders.len(), ordered, "an order per won checkout");
}
