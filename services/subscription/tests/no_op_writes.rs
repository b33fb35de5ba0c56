//! R25: a write that changes nothing (the reseller of record or support
//! contact it has, the licence quantity it has, the lifecycle state it is
//! in, a cart line as it is) succeeds, keeps the etag and logs no event;
//! a stale etag is still refused. (No event means no email: the
//! notification service only mails what the log carries.)

mod common;

use common::*;
use tonic::Code;
use twotier_proto::subscription as pb;
use twotier_testkit::assert_error;

/// R25
#[tokio::test]
async fn writing_the_current_values_keeps_the_etag_and_logs_nothing() {
    let h = start().await;
    let (_, bought) = h.bought_with_reseller().await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let name = bought.name.clone();
    let reader = client.clone();
    let get = || {
        let mut client = reader.clone();
        let name = name.clone();
        async move {
            client
                .get_subscription(pb::GetSubscriptionRequest { name })
                .await
                .unwrap()
                .into_inner()
        }
    };
    let supported = client
        .set_support_contact(pb::SetSupportContactRequest {
            name: name.clone(),
            support_contact_partner_id: RESELLER.into(),
            etag: bought.etag,
        })
        .await
        .expect("support contact")
        .into_inner();
    // SubscriptionCreated, OrderPlaced, SupportContactChanged.
    assert_eq!(h.events(3).await.len(), 3);

    let same_reseller = client
        .change_reseller_of_record(pb::ChangeResellerOfRecordRequest {
            name: name.clone(),
            reseller_partner_id: RESELLER.into(),
            etag: supported.etag.clone(),
        })
        .await
        .expect("the same reseller of record")
        .into_inner();
    assert_eq!(
        same_reseller, supported,
        "nothing changed, not even the etag"
    );
    let same_contact = client
        .set_support_contact(pb::SetSupportContactRequest {
            name: name.clone(),
            support_contact_partner_id: RESELLER.into(),
            etag: supported.etag.clone(),
        })
        .await
        .expect("the same support contact")
        .into_inner();
    assert_eq!(same_contact, supported);
    let same_quantity = client
        .change_license_quantity(pb::ChangeLicenseQuantityRequest {
            name: name.clone(),
            quantity: 10,
            etag: supported.etag.clone(),
        })
        .await
        .expect("the same quantity")
        .into_inner();
    assert_eq!(same_quantity, supported);
    let still_active = client
        .reactivate_subscription(pb::ReactivateSubscriptionRequest {
            name: name.clone(),
            etag: supported.etag.clone(),
        })
        .await
        .expect("reactivating an active subscription")
        .into_inner();
    assert_eq!(still_active, supported);
    let still_renewing = client
        .set_auto_renew(pb::SetAutoRenewRequest {
            name: name.clone(),
            auto_renew: true,
            etag: supported.etag.clone(),
        })
        .await
        .expect("auto-renew as it is")
        .into_inner();
    assert_eq!(still_renewing, supported);
    // A no-op from a stale version is still refused.
    assert_error(
        client
            .change_reseller_of_record(pb::ChangeResellerOfRecordRequest {
                name: name.clone(),
                reseller_partner_id: RESELLER.into(),
                etag: "W/\"1\"".into(),
            })
            .await,
        Code::Aborted,
        "ETAG_MISMATCH",
    );
    assert_eq!(get().await, supported);

    // One real change later, the log holds it and nothing of the no-ops.
    let suspended = client
        .suspend_subscription(pb::SuspendSubscriptionRequest {
            name: name.clone(),
            etag: supported.etag.clone(),
        })
        .await
        .expect("suspend")
        .into_inner();
    let again = client
        .suspend_subscription(pb::SuspendSubscriptionRequest {
            name: name.clone(),
            etag: suspended.etag.clone(),
        })
        .await
        .expect("suspending twice")
        .into_inner();
    assert_eq!(again, suspended);
    client
        .set_auto_renew(pb::SetAutoRenewRequest {
            name: name.clone(),
            auto_renew: false,
            etag: suspended.etag.clone(),
        })
        .await
        .expect("a last real change");
    let types: Vec<String> = h
        .events(5)
        .await
        .into_iter()
        .map(|e| {
            e.event_type
                .trim_start_matches("twotier.subscription.v1.")
                .to_owned()
        })
        .collect();
    assert_eq!(
        types,
        [
            "SubscriptionCreated",
            "OrderPlaced",
            "SupportContactChanged",
            "SubscriptionSuspended",
            "AutoRenewChanged"
        ]
    );
}

/// R25
#[tokio::test]
async fn updating_a_cart_line_to_what_it_is_keeps_the_carts_etag() {
    let h = start().await;
    let customer = h.customer(PROVIDER, "adatum", "", true).await;
    let cart = h
        .cart(
            PROVIDER,
            &customer,
            vec![line("m365-business-basic", 3, "")],
        )
        .await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let mut same = cart.line_items[0].clone();
    let unchanged = client
        .update_line_item(pb::UpdateLineItemRequest {
            cart: cart.name.clone(),
            line_item: Some(same.clone()),
        })
        .await
        .expect("the line as it is")
        .into_inner();
    assert_eq!(unchanged, cart, "the etag stays");
    same.quantity = 4;
    let changed = client
        .update_line_item(pb::UpdateLineItemRequest {
            cart: cart.name.clone(),
            line_item: Some(same),
        })
        .await
        .expect("a real change")
        .into_inner();
    assert_ne!(changed.etag, cart.etag);
    assert_eq!(changed.line_items[0].quantity, 4);
}

#[tokio::test]
async fn attesting_an_attested_cart_again_keeps_its_etag() {
    let h = start().await;
    let customer = h.customer(PROVIDER, "adatum", "", true).await;
    // `cart` attests the cart it makes.
    let cart = h
        .cart(
            PROVIDER,
            &customer,
            vec![line("m365-business-basic", 3, "")],
        )
        .await;
    let again = h
        .subscriptions(&provider_admin(PROVIDER))
        .attest_indirect_provider(pb::AttestIndirectProviderRequest {
            cart: cart.name.clone(),
            acts_as_indirect_provider: true,
        })
        .await
        .expect("attested again")
        .into_inner();
    assert_eq!(again, cart, "the etag, and who attested when, stay");
}

/// R25 before R24: naming the reseller of record a subscription already
/// has changes nothing, so it succeeds even once that reseller no longer
/// passes R3 (the subscription keeps it, as R7 keeps it after a removal);
/// a stale etag is refused before the reseller is judged.
#[tokio::test]
async fn the_reseller_a_subscription_has_is_no_change_even_after_it_lapsed() {
    let h = start().await;
    let (_, bought) = h.bought_with_reseller().await;
    twotier_testkit::flows::update_reseller(
        h.channel("partnership"),
        RESELLER,
        "mpa_active",
        |reseller| reseller.mpa_active = false,
    )
    .await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let same = client
        .change_reseller_of_record(pb::ChangeResellerOfRecordRequest {
            name: bought.name.clone(),
            reseller_partner_id: RESELLER.into(),
            etag: bought.etag.clone(),
        })
        .await
        .expect("the reseller it has is no change")
        .into_inner();
    assert_eq!(same, bought);
    // It changed nothing, yet it was a call: the trail has it (R29).
    let recorded = twotier_testkit::audit_records(
        h.channel("subscription"),
        &provider_admin(PROVIDER),
        &bought.name,
        "ChangeResellerOfRecord",
    )
    .await;
    assert_eq!(recorded.len(), 1, "{recorded:#?}");
    assert_eq!(recorded[0].outcome, "OK");
    assert_error(
        client
            .change_reseller_of_record(pb::ChangeResellerOfRecordRequest {
                name: bought.name.clone(),
                reseller_partner_id: RESELLER.into(),
                etag: "W/\"999\"".into(),
            })
            .await,
        Code::Aborted,
        "ETAG_MISMATCH",
    );
    // Naming it anew is choosing it: R3 decides (R24).
    let cleared = client
        .change_reseller_of_record(pb::ChangeResellerOfRecordRequest {
            name: bought.name.clone(),
            reseller_partner_id: String::new(),
            etag: bought.etag.clone(),
        })
        .await
        .expect("cleared")
        .into_inner();
    assert_error(
        client
            .change_reseller_of_record(pb::ChangeResellerOfRecordRequest {
                name: bought.name.clone(),
                reseller_partner_id: RESELLER.into(),
                etag: cleared.etag.clone(),
            })
            .await,
        Code::FailedPrecondition,
        "PARTNER_MPA_NOT_ACTIVE",
    );
}
