//! R15 and R16 between providers: another provider sees none of a provider's
//! carts, orders or subscriptions and cannot open a cart for its customer.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::subscription as pb;
use twotier_testkit::assert_error;

#[tokio::test]
async fn another_provider_sees_none_of_the_carts_orders_or_subscriptions() {
    let h = start().await;
    let customer = h.customer(PROVIDER, "adatum", "", true).await;
    let order = h
        .buy(PROVIDER, &customer, vec![line("m365-e5", 2, "")])
        .await;
    let mut other = h.subscriptions(&provider_admin(OTHER_PROVIDER));
    assert_error(
        other
            .get_order(pb::GetOrderRequest {
                name: order.name.clone(),
            })
            .await,
        Code::NotFound,
        "PROVIDER_NOT_FOUND",
    );
    assert_error(
        other
            .get_cart(pb::GetCartRequest {
                name: order.cart.clone(),
            })
            .await,
        Code::NotFound,
        "PROVIDER_NOT_FOUND",
    );
    assert_error(
        other
            .list_subscriptions(pb::ListSubscriptionsRequest {
                parent: customer.clone(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        "PROVIDER_NOT_FOUND",
    );
    assert_error(
        other
            .get_subscription(pb::GetSubscriptionRequest {
                name: order.lines[0].subscription.clone(),
            })
            .await,
        Code::NotFound,
        "PROVIDER_NOT_FOUND",
    );
    let foreign_cart = pb::CreateCartRequest {
        parent: format!("providers/{OTHER_PROVIDER}"),
        cart: Some(pb::Cart {
            customer: customer.clone(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    assert_error(
        other.create_cart(foreign_cart).await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    let disguised = pb::CreateCartRequest {
        parent: format!("providers/{OTHER_PROVIDER}"),
        cart: Some(pb::Cart {
            customer: customer.replace("contoso", OTHER_PROVIDER),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    assert_error(
        other.create_cart(disguised).await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    assert!(
        other
            .list_orders(pb::ListOrdersRequest {
                parent: format!("providers/{OTHER_PROVIDER}"),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .orders
            .is_empty()
    );
}
