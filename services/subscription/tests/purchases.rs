//! R14-R16 through the subscription service's gRPC interface: the catalog,
//! carts, review, checkout and its preconditions.

mod common;

use common::*;
use tonic::Code;
use twotier_platform::auth::Role;
use twotier_platform::upstream::reason_of;
use twotier_proto::subscription as pb;
use twotier_testkit::{assert_error, violated_fields};

#[tokio::test]
async fn catalog_has_realistic_offers_with_limits_terms_and_cycles() {
    let h = start().await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let offers = client
        .list_offers(pb::ListOffersRequest::default())
        .await
        .unwrap()
        .into_inner()
        .offers;
    assert!(offers.len() >= 8);
    let names: Vec<_> = offers.iter().map(|o| o.display_name.as_str()).collect();
    for expected in [
        "Microsoft 365 Business Basic",
        "Microsoft 365 Business Premium",
        "Microsoft 365 E5",
        "Azure plan",
        "Microsoft Teams Essentials",
    ] {
        assert!(names.contains(&expected), "{expected} is in the catalog");
    }
    let basic = client
        .get_offer(pb::GetOfferRequest {
            name: "offers/m365-business-basic".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((basic.min_licenses, basic.max_licenses), (1, 300));
    assert_eq!(
        basic.terms,
        vec![pb::Term::Monthly as i32, pb::Term::Annual as i32]
    );
    let paged = client
        .list_offers(pb::ListOffersRequest {
            page_size: 3,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(paged.offers.len(), 3);
    assert!(!paged.next_page_token.is_empty());
    assert_error(
        client
            .get_offer(pb::GetOfferRequest {
                name: "offers/nope".into(),
            })
            .await,
        Code::NotFound,
        "OFFER_NOT_FOUND",
    );
    let billing = twotier_testkit::token("bob", PROVIDER, &[Role::BillingAdmin]);
    assert_error(
        h.subscriptions(&billing)
            .list_offers(pb::ListOffersRequest::default())
            .await,
        Code::PermissionDenied,
        "ROLE_NOT_ALLOWED",
    );
}

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
    let mut unspecified = line("m365-business-basic", 1, "12ab");
    unspecified.term = 0;
    let status = assert_error(
        client.add_line_item(add(unspecified)).await,
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

    for (partner_id, reason) in [
        ("2222222", "PARTNER_MPA_NOT_ACTIVE"),
        ("9999999", "PARTNER_ID_NOT_FOUND"),
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
            Code::FailedPrecondition,
            reason,
        );
        assert_error(
            client.checkout_cart(checkout(&cart)).await,
            Code::FailedPrecondition,
            reason,
        );
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
