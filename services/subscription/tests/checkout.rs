//! R15 and R16 through gRPC: review shows the verified reseller and changes
//! nothing; checkout places one order with a subscription per line; each unmet
//! precondition (empty, unattested, no customer agreement, reseller not
//! eligible, cancelled, stale etag, already ordered) is refused and buys
//! nothing.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::subscription as pb;
use twotier_testkit::assert_error;

#[tokio::test]
async fn purchase_reviews_verified_resellers_and_creates_one_order_with_a_subscription_per_line() {
    let h = start().await;
    h.onboard(RESELLER, RESELLER_TENANT, "Fabrikam GmbH", true)
        .await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let customer = h.customer(PROVIDER, "adatum", RESELLER, true).await;
    let cart = h
        .cart(
            PROVIDER,
            &customer,
            vec![
                line("m365-business-premium", 25, RESELLER),
                line("teams-essentials", 10, ""),
            ],
        )
        .await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));

    let review = client
        .review_cart(pb::ReviewCartRequest {
            cart: cart.name.clone(),
        })
        .await
        .expect("review")
        .into_inner();
    assert_eq!(review.lines.len(), 2);
    assert_eq!(review.lines[0].reseller_partner_id, RESELLER);
    assert_eq!(
        review.lines[0].reseller_company_name, "Fabrikam GmbH",
        "the review shows the verified reseller"
    );
    assert_eq!(
        review.lines[0].offer_display_name,
        "Microsoft 365 Business Premium"
    );
    assert!(review.lines[1].reseller_company_name.is_empty());
    let unchanged = client
        .get_cart(pb::GetCartRequest {
            name: cart.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unchanged.etag, cart.etag, "review changes nothing");

    let order = client
        .checkout_cart(pb::CheckoutCartRequest {
            cart: cart.name.clone(),
            request_id: "buy-1".into(),
            etag: cart.etag.clone(),
        })
        .await
        .expect("checkout")
        .into_inner();
    assert_eq!(order.customer, customer);
    assert_eq!(order.lines.len(), 2);
    assert_eq!(order.lines[0].reseller_partner_id, RESELLER);
    let subscriptions = client
        .list_subscriptions(pb::ListSubscriptionsRequest {
            parent: customer.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .subscriptions;
    assert_eq!(
        subscriptions.len(),
        2,
        "they appear in the customer's subscription list"
    );
    assert_eq!(subscriptions[0].quantity, 25);
    assert_eq!(subscriptions[0].reseller_partner_id, RESELLER);
    assert_eq!(
        subscriptions
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>(),
        order
            .lines
            .iter()
            .map(|l| l.subscription.clone())
            .collect::<Vec<_>>()
    );
    let ordered = client
        .get_cart(pb::GetCartRequest {
            name: cart.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ordered.state, pb::CartState::Ordered as i32);
    assert_eq!(ordered.order, order.name);
    assert_eq!(
        client
            .get_order(pb::GetOrderRequest {
                name: order.name.clone()
            })
            .await
            .unwrap()
            .into_inner(),
        order
    );

    let events = h.events(3).await;
    let placed: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == "twotier.subscription.v1.OrderPlaced")
        .collect();
    assert_eq!(placed.len(), 1);
    let payload: pb::OrderPlaced = placed[0].payload.as_ref().unwrap().to_msg().unwrap();
    assert_eq!(payload.placed_by_email, "alice@contoso.example");
    assert_eq!(payload.resellers_of_record.len(), 1);
    assert_eq!(
        payload.resellers_of_record[0].contact_email,
        "admin@fabrikam.example"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == "twotier.subscription.v1.SubscriptionCreated")
            .count(),
        2
    );
}

#[tokio::test]
async fn checkout_refuses_each_unmet_precondition_and_buys_nothing() {
    let h = start().await;
    h.onboard(RESELLER, RESELLER_TENANT, "Fabrikam", true).await;
    h.onboard("2222222", "lapsed", "Lapsed Co", false).await;
    let without_agreement = h.customer(PROVIDER, "noagreement", "", false).await;
    let customer = h.customer(PROVIDER, "adatum", "", true).await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let checkout = |cart: &pb::Cart| pb::CheckoutCartRequest {
        cart: cart.name.clone(),
        request_id: String::new(),
        etag: String::new(),
    };

    let empty = h.cart(PROVIDER, &customer, vec![]).await;
    assert_error(
        client.checkout_cart(checkout(&empty)).await,
        Code::FailedPrecondition,
        "CART_EMPTY",
    );

    let unattested = client
        .create_cart(pb::CreateCartRequest {
            parent: "providers/contoso".into(),
            cart: Some(pb::Cart {
                customer: customer.clone(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    client
        .add_line_item(pb::AddLineItemRequest {
            cart: unattested.name.clone(),
            line_item: Some(line("m365-e5", 1, "")),
        })
        .await
        .unwrap();
    assert_error(
        client.checkout_cart(checkout(&unattested)).await,
        Code::FailedPrecondition,
        "INDIRECT_PROVIDER_NOT_ATTESTED",
    );
    assert_error(
        client
            .attest_indirect_provider(pb::AttestIndirectProviderRequest {
                cart: unattested.name.clone(),
                acts_as_indirect_provider: false,
            })
            .await,
        Code::InvalidArgument,
        "INDIRECT_PROVIDER_NOT_CONFIRMED",
    );

    let no_agreement = h
        .cart(PROVIDER, &without_agreement, vec![line("m365-e5", 1, "")])
        .await;
    assert_error(
        client
            .review_cart(pb::ReviewCartRequest {
                cart: no_agreement.name.clone(),
            })
            .await,
        Code::FailedPrecondition,
        "CUSTOMER_AGREEMENT_MISSING",
    );
    assert_error(
        client.checkout_cart(checkout(&no_agreement)).await,
        Code::FailedPrecondition,
        "CUSTOMER_AGREEMENT_MISSING",
    );

    // R24: refused as `VerifyPartnerId` refuses them.
    for (partner_id, code, reason) in [
        (
            "2222222",
            Code::FailedPrecondition,
            "PARTNER_MPA_NOT_ACTIVE",
        ),
        ("9999999", Code::NotFound, "PARTNER_ID_NOT_FOUND"),
    ] {
        let cart = h
            .cart(PROVIDER, &customer, vec![line("m365-e5", 1, partner_id)])
            .await;
        assert_error(
            client
                .review_cart(pb::ReviewCartRequest {
                    cart: cart.name.clone(),
                })
                .await,
            code,
            reason,
        );
        assert_error(client.checkout_cart(checkout(&cart)).await, code, reason);
    }

    let cancelled = h
        .cart(PROVIDER, &customer, vec![line("m365-e5", 1, "")])
        .await;
    let dropped = client
        .cancel_cart(pb::CancelCartRequest {
            cart: cancelled.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(dropped.state, pb::CartState::Cancelled as i32);
    assert_error(
        client.checkout_cart(checkout(&cancelled)).await,
        Code::FailedPrecondition,
        "CART_CANCELLED",
    );
    assert_error(
        client
            .add_line_item(pb::AddLineItemRequest {
                cart: cancelled.name.clone(),
                line_item: Some(line("m365-e5", 1, "")),
            })
            .await,
        Code::FailedPrecondition,
        "CART_CANCELLED",
    );

    let orders = client
        .list_orders(pb::ListOrdersRequest {
            parent: "providers/contoso".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(orders.orders.is_empty(), "nothing was bought");

    let good = h
        .cart(PROVIDER, &customer, vec![line("m365-e5", 1, RESELLER)])
        .await;
    let stale = pb::CheckoutCartRequest {
        etag: "W/\"1\"".into(),
        ..checkout(&good)
    };
    assert_error(
        client.checkout_cart(stale).await,
        Code::Aborted,
        "ETAG_MISMATCH",
    );
    client
        .checkout_cart(checkout(&good))
        .await
        .expect("first checkout");
    assert_error(
        client.checkout_cart(checkout(&good)).await,
        Code::FailedPrecondition,
        "CART_ALREADY_ORDERED",
    );
    assert_error(
        client
            .cancel_cart(pb::CancelCartRequest {
                cart: good.name.clone(),
            })
            .await,
        Code::FailedPrecondition,
        "CART_ALREADY_ORDERED",
    );
    let orders = client
        .list_orders(pb::ListOrdersRequest {
            parent: "providers/contoso".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(orders.orders.len(), 1);
}
