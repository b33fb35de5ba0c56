//! R17 (licence quantity), R18 (reseller of record), R19 (support contact),
//! R6 (what an active partnership lets a provider do with a subscription)
//! and R7's effect on subscriptions, through gRPC.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::subscription as pb;
use twotier_testkit::{assert_error, violated_fields};

async fn bought(h: &Harness, reseller: &str) -> (String, pb::Subscription) {
    let customer = h.customer(PROVIDER, "adatum", reseller, true).await;
    let order = h
        .buy(
            PROVIDER,
            &customer,
            vec![line("m365-business-basic", 10, reseller)],
        )
        .await;
    let subscription = h
        .subscriptions(&provider_admin(PROVIDER))
        .get_subscription(pb::GetSubscriptionRequest {
            name: order.lines[0].subscription.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    (customer, subscription)
}

#[tokio::test]
async fn licence_quantity_changes_within_limits_with_a_current_etag() {
    let h = start().await;
    let (_, subscription) = bought(&h, "").await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let change = |quantity: i32, etag: &str| pb::ChangeLicenseQuantityRequest {
        name: subscription.name.clone(),
        quantity,
        etag: etag.into(),
    };

    let changed = client
        .change_license_quantity(change(42, &subscription.etag))
        .await
        .expect("change")
        .into_inner();
    assert_eq!(changed.quantity, 42);
    assert_ne!(changed.etag, subscription.etag);
    let status = assert_error(
        client
            .change_license_quantity(change(301, &changed.etag))
            .await,
        Code::InvalidArgument,
        "QUANTITY_OUT_OF_RANGE",
    );
    assert_eq!(violated_fields(&status), vec!["quantity"]);
    assert_error(
        client
            .change_license_quantity(change(7, &subscription.etag))
            .await,
        Code::Aborted,
        "ETAG_MISMATCH",
    );
    let current = client
        .get_subscription(pb::GetSubscriptionRequest {
            name: subscription.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(current.quantity, 42, "refused changes changed nothing");
    let events = h.events(3).await;
    let changes: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == "twotier.subscription.v1.LicenseQuantityChanged")
        .collect();
    assert_eq!(changes.len(), 1);
    let payload: pb::LicenseQuantityChanged =
        changes[0].payload.as_ref().unwrap().to_msg().unwrap();
    assert_eq!(payload.previous_quantity, 10);
    // Without an etag the change applies to the subscription as it is.
    let unguarded = client
        .change_license_quantity(change(7, ""))
        .await
        .expect("an etag is optional")
        .into_inner();
    assert_eq!(unguarded.quantity, 7);
}

#[tokio::test]
async fn reseller_of_record_is_a_partner_or_any_verified_partner_id() {
    let h = start().await;
    h.onboard(RESELLER, RESELLER_TENANT, "Fabrikam", true).await;
    h.onboard("7654321", "tailspin", "Tailspin", true).await;
    h.onboard("2222222", "lapsed", "Lapsed Co", false).await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let (_, subscription) = bought(&h, "").await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let change = |partner_id: &str, etag: &str| pb::ChangeResellerOfRecordRequest {
        name: subscription.name.clone(),
        reseller_partner_id: partner_id.into(),
        etag: etag.into(),
    };

    let partner = client
        .change_reseller_of_record(change(RESELLER, &subscription.etag))
        .await
        .expect("a partner")
        .into_inner();
    assert_eq!(partner.reseller_partner_id, RESELLER);
    let other = client
        .change_reseller_of_record(change("7654321", &partner.etag))
        .await
        .expect("a verified non-partner")
        .into_inner();
    assert_eq!(other.reseller_partner_id, "7654321");
    assert_error(
        client
            .change_reseller_of_record(change("2222222", &other.etag))
            .await,
        Code::FailedPrecondition,
        "PARTNER_MPA_NOT_ACTIVE",
    );
    assert_error(
        client
            .change_reseller_of_record(change("9999999", &other.etag))
            .await,
        Code::NotFound,
        "PARTNER_ID_NOT_FOUND",
    );
    let status = assert_error(
        client
            .change_reseller_of_record(change("12", &other.etag))
            .await,
        Code::InvalidArgument,
        "PARTNER_ID_MALFORMED",
    );
    assert_eq!(violated_fields(&status), vec!["reseller_partner_id"]);
    let cleared = client
        .change_reseller_of_record(change("", &other.etag))
        .await
        .expect("clear")
        .into_inner();
    assert!(cleared.reseller_partner_id.is_empty());

    let events = h.events(4).await;
    let changes: Vec<pb::ResellerOfRecordChanged> = events
        .iter()
        .filter(|e| e.event_type == "twotier.subscription.v1.ResellerOfRecordChanged")
        .map(|e| e.payload.as_ref().unwrap().to_msg().unwrap())
        .collect();
    assert_eq!(changes.len(), 3);
    assert_eq!(
        changes[0].reseller.as_ref().unwrap().contact_email,
        "admin@fabrikam.example"
    );
    assert!(changes[2].reseller.is_none());
}

#[tokio::test]
async fn support_contact_must_be_an_active_partner_and_removal_refuses_it_at_once_but_keeps_what_subscriptions_have()
 {
    let h = start().await;
    h.onboard(RESELLER, RESELLER_TENANT, "Fabrikam", true).await;
    h.onboard("7654321", "tailspin", "Tailspin", true).await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let (customer, subscription) = bought(&h, RESELLER).await;
    let other = h
        .buy(
            PROVIDER,
            &customer,
            vec![line("m365-business-basic", 5, "")],
        )
        .await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let set = |name: &str, partner_id: &str, etag: &str| pb::SetSupportContactRequest {
        name: name.into(),
        support_contact_partner_id: partner_id.into(),
        etag: etag.into(),
    };

    assert_error(
        client
            .set_support_contact(set(&subscription.name, "7654321", &subscription.etag))
            .await,
        Code::FailedPrecondition,
        "SUPPORT_CONTACT_NOT_PARTNER",
    );
    let supported = client
        .set_support_contact(set(&subscription.name, RESELLER, &subscription.etag))
        .await
        .expect("partner as support contact")
        .into_inner();
    assert_eq!(supported.support_contact_partner_id, RESELLER);
    assert_eq!(supported.reseller_partner_id, RESELLER);

    h.remove_partnership(PROVIDER, RESELLER).await;
    // At once, without waiting for the removal to reach the subscription
    // service's projection (R24: as fresh as `VerifyPartnerId`).
    assert_error(
        client
            .set_support_contact(set(&other.lines[0].subscription, RESELLER, ""))
            .await,
        Code::FailedPrecondition,
        "SUPPORT_CONTACT_NOT_PARTNER",
    );
    let current = client
        .get_subscription(pb::GetSubscriptionRequest {
            name: subscription.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        current.reseller_partner_id, RESELLER,
        "the reseller of record stays"
    );
    assert_eq!(
        current.support_contact_partner_id, RESELLER,
        "the support contact stays"
    );
    assert_eq!(current.etag, supported.etag, "nothing changed");
    // R25: designating the support contact it has is no change, even now.
    let kept = client
        .set_support_contact(set(&subscription.name, RESELLER, &current.etag))
        .await
        .expect("the same support contact is no change")
        .into_inner();
    assert_eq!(kept, current);
    let listed = client
        .list_subscriptions(pb::ListSubscriptionsRequest {
            parent: customer,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.subscriptions.contains(&current), "{listed:?}");
}

#[tokio::test]
async fn reseller_admin_reads_the_subscriptions_of_its_delegated_customers_only() {
    let h = start().await;
    h.onboard(RESELLER, RESELLER_TENANT, "Fabrikam", true).await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let (delegated, subscription) = bought(&h, RESELLER).await;
    let other_customer = h.customer(PROVIDER, "tailwind", "", true).await;
    h.buy(PROVIDER, &other_customer, vec![line("m365-e5", 1, "")])
        .await;

    let mut reseller = h.subscriptions(&reseller_admin(RESELLER_TENANT));
    let listed = reseller
        .list_subscriptions(pb::ListSubscriptionsRequest {
            parent: delegated,
            ..Default::default()
        })
        .await
        .expect("delegated")
        .into_inner();
    assert_eq!(listed.subscriptions.len(), 1);
    reseller
        .get_subscription(pb::GetSubscriptionRequest {
            name: subscription.name.clone(),
        })
        .await
        .expect("reads it");
    assert_error(
        reseller
            .list_subscriptions(pb::ListSubscriptionsRequest {
                parent: other_customer,
                ..Default::default()
            })
            .await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    assert_error(
        reseller
            .change_license_quantity(pb::ChangeLicenseQuantityRequest {
                name: subscription.name,
                quantity: 5,
                etag: subscription.etag,
            })
            .await,
        Code::PermissionDenied,
        "ROLE_NOT_ALLOWED",
    );
}

#[tokio::test]
async fn a_provider_listing_the_subscriptions_of_no_such_customer_hears_not_found() {
    let h = start().await;
    let customer = h.customer(PROVIDER, "adatum", "", true).await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let listed = client
        .list_subscriptions(pb::ListSubscriptionsRequest {
            parent: customer,
            ..Default::default()
        })
        .await
        .expect("a customer with nothing bought yet")
        .into_inner();
    assert!(listed.subscriptions.is_empty());
    assert_error(
        client
            .list_subscriptions(pb::ListSubscriptionsRequest {
                parent: format!("providers/{PROVIDER}/customers/no-such-customer"),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
}
