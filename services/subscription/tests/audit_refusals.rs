//! R29 through gRPC: a command refused by a check made before its
//! transaction (a checkout's review, R3 asked of the partnership service)
//! is in the audit trail with its reason, as a refusal decided inside the
//! transaction is, and a refusal is recorded once.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::audit::AuditRecord;
use twotier_proto::subscription as pb;
use twotier_testkit::{assert_error, audit_records};

/// The provider's records of `rpc` on `resource` (any, when empty).
async fn recorded(h: &Harness, resource: &str, rpc: &str) -> Vec<AuditRecord> {
    audit_records(
        h.channel("subscription"),
        &provider_admin(PROVIDER),
        resource,
        rpc,
    )
    .await
}

#[tokio::test]
async fn a_checkout_refused_by_its_review_is_recorded_with_its_reason() {
    let h = start().await;
    let customer = h.customer(PROVIDER, "noagreement", "", false).await;
    let cart = h
        .cart(PROVIDER, &customer, vec![line("m365-e5", 1, "")])
        .await;
    assert_error(
        h.subscriptions(&provider_admin(PROVIDER))
            .checkout_cart(pb::CheckoutCartRequest {
                cart: cart.name.clone(),
                request_id: "buy-1".into(),
                etag: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        "CUSTOMER_AGREEMENT_MISSING",
    );
    let records = recorded(&h, &cart.name, "CheckoutCart").await;
    assert_eq!(records.len(), 1, "{records:#?}");
    let record = &records[0];
    assert_eq!(record.outcome, "CUSTOMER_AGREEMENT_MISSING");
    assert_eq!(record.code, "FAILED_PRECONDITION");
    assert_eq!(record.request_id, "buy-1");
    assert_eq!(record.resource_tenant_id, PROVIDER);
    let actor = record.actor.as_ref().expect("actor");
    assert_eq!(actor.tenant_id, PROVIDER);
}

#[tokio::test]
async fn refusals_before_and_inside_the_transaction_are_each_recorded_once() {
    let h = start().await;
    let (_, subscription) = h.bought_with_reseller().await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    // Before the transaction: R3, asked of the partnership service.
    assert_error(
        client
            .change_reseller_of_record(pb::ChangeResellerOfRecordRequest {
                name: subscription.name.clone(),
                reseller_partner_id: "9999999".into(),
                etag: subscription.etag.clone(),
            })
            .await,
        Code::NotFound,
        "PARTNER_ID_NOT_FOUND",
    );
    // Inside it: the subscription changed since its etag was read.
    assert_error(
        client
            .change_reseller_of_record(pb::ChangeResellerOfRecordRequest {
                name: subscription.name.clone(),
                reseller_partner_id: String::new(),
                etag: "W/\"99\"".into(),
            })
            .await,
        Code::Aborted,
        "ETAG_MISMATCH",
    );
    let mut outcomes: Vec<_> = recorded(&h, &subscription.name, "ChangeResellerOfRecord")
        .await
        .into_iter()
        .map(|record| (record.outcome, record.code))
        .collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        vec![
            ("ETAG_MISMATCH".to_owned(), "ABORTED".to_owned()),
            ("PARTNER_ID_NOT_FOUND".to_owned(), "NOT_FOUND".to_owned()),
        ]
    );
}

#[tokio::test]
async fn another_providers_refused_attempt_leaves_nothing_in_this_providers_trail() {
    let h = start().await;
    let (_, subscription) = h.bought_with_reseller().await;
    let mut intruder = h.subscriptions(&provider_admin(OTHER_PROVIDER));
    assert!(
        intruder
            .change_reseller_of_record(pb::ChangeResellerOfRecordRequest {
                name: subscription.name.clone(),
                reseller_partner_id: String::new(),
                etag: subscription.etag.clone(),
            })
            .await
            .is_err()
    );
    assert!(
        intruder
            .suspend_subscription(pb::SuspendSubscriptionRequest {
                name: subscription.name.clone(),
                etag: subscription.etag.clone(),
            })
            .await
            .is_err()
    );
    let records = recorded(&h, "", "").await;
    let intruders: Vec<_> = records
        .iter()
        .filter(|record| {
            record
                .actor
                .as_ref()
                .is_some_and(|actor| actor.tenant_id == OTHER_PROVIDER)
        })
        .collect();
    assert!(intruders.is_empty(), "{intruders:#?}");
}

#[tokio::test]
async fn input_refusals_are_recorded_once_each_even_for_a_made_up_name() {
    let h = start().await;
    let (_, subscription) = h.bought_with_reseller().await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    // Refused as read (a stale etag), then before anything is read (a
    // malformed PartnerID).
    assert_error(
        client
            .change_reseller_of_record(pb::ChangeResellerOfRecordRequest {
                name: subscription.name.clone(),
                reseller_partner_id: RESELLER.into(),
                etag: "W/\"99\"".into(),
            })
            .await,
        Code::Aborted,
        "ETAG_MISMATCH",
    );
    assert_error(
        client
            .change_reseller_of_record(pb::ChangeResellerOfRecordRequest {
                name: subscription.name.clone(),
                reseller_partner_id: "12".into(),
                etag: subscription.etag.clone(),
            })
            .await,
        Code::InvalidArgument,
        "PARTNER_ID_MALFORMED",
    );
    let records = recorded(&h, &subscription.name, "ChangeResellerOfRecord").await;
    let outcomes: Vec<&str> = records.iter().map(|r| r.outcome.as_str()).collect();
    // Newest first.
    assert_eq!(outcomes, ["PARTNER_ID_MALFORMED", "ETAG_MISMATCH"]);
    let codes: Vec<&str> = records.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["INVALID_ARGUMENT", "ABORTED"]);

    // A name longer than any real one is refused and still recorded, cut
    // to what the record holds.
    let made_up = format!("providers/{PROVIDER}/customers/{}", "x".repeat(1000));
    assert_error(
        client
            .suspend_subscription(pb::SuspendSubscriptionRequest {
                name: made_up.clone(),
                etag: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "INVALID_RESOURCE_NAME",
    );
    let suspend = recorded(&h, "", "SuspendSubscription").await;
    assert_eq!(suspend.len(), 1, "{suspend:#?}");
    assert_eq!(suspend[0].resource, made_up[..300]);
    assert_eq!(suspend[0].outcome, "INVALID_RESOURCE_NAME");
}

// R29: a created cart's record is found by the cart's name.
#[tokio::test]
async fn a_created_cart_is_recorded_under_its_own_name() {
    let h = start().await;
    let customer = h.customer(PROVIDER, "adatum", "", true).await;
    let cart =
        twotier_testkit::flows::empty_cart(h.channel("subscription"), PROVIDER, &customer).await;
    let records = recorded(&h, &cart.name, "CreateCart").await;
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0].outcome, "OK");
}
