//! Other services down or out of reach: R15's checkout with the customer
//! service down fails fast with UNAVAILABLE and changes neither the cart
//! nor the orders; R19's support contact with the partnership log out of
//! reach is answered as transient, not as "not a partner".

mod common;

use common::*;
use tonic::Code;
use twotier_proto::subscription as pb;
use twotier_testkit::{ChaosProxy, System, assert_error, flows, wait_until};

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

#[tokio::test]
async fn partnership_log_unreachable_makes_support_contact_unavailable_not_refused() {
    let mut system = System::start(&["partnership", "customer"], &[]).await;
    let proxy = ChaosProxy::start(system.server("partnership").addr).await;
    let through_proxy = format!("http://{}", proxy.addr);
    system
        .add(
            "subscription",
            &[("TWOTIER_PARTNERSHIP_ENDPOINT", &through_proxy)],
        )
        .await;
    let h = Harness { system };
    h.onboard(RESELLER, RESELLER_TENANT, "Fabrikam", true).await;
    h.onboard("7654321", "tailspin", "Tailspin", true).await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let customer = h.customer(PROVIDER, "adatum", RESELLER, true).await;
    let order = h
        .buy(
            PROVIDER,
            &customer,
            vec![line("m365-business-basic", 10, RESELLER)],
        )
        .await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let subscription = client
        .get_subscription(pb::GetSubscriptionRequest {
            name: order.lines[0].subscription.clone(),
        })
        .await
        .unwrap()
        .into_inner();

    proxy.cut();
    flows::partner(h.channel("partnership"), PROVIDER, "tailspin").await;
    let request = pb::SetSupportContactRequest {
        name: subscription.name.clone(),
        support_contact_partner_id: "7654321".into(),
        etag: subscription.etag.clone(),
    };
    assert_error(
        client.set_support_contact(request.clone()).await,
        Code::Unavailable,
        "DEPENDENCY_UNAVAILABLE",
    );
    let unchanged = client
        .get_subscription(pb::GetSubscriptionRequest {
            name: subscription.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unchanged.etag, subscription.etag, "nothing changed");

    proxy.restore();
    wait_until(
        "the support contact is set once the partnership log is reachable",
        std::time::Duration::from_secs(30),
        || {
            let mut client = client.clone();
            let request = request.clone();
            async move { client.set_support_contact(request).await.is_ok() }
        },
    )
    .await;
}
