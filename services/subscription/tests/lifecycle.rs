//! R26 (suspend and reactivate), R27 (the cancellation window) and R28
//! (auto-renew; each lifecycle change with etag rules and an event naming
//! the reseller of record to tell), through gRPC. The emails themselves
//! are shown by `notification/tests/lifecycle_emails.rs`.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::events::EventEnvelope;
use twotier_proto::subscription as pb;
use twotier_testkit::assert_error;

/// A subscription of 10 licences bought with Fabrikam as reseller of
/// record.
async fn bought(h: &Harness) -> pb::Subscription {
    h.bought_with_reseller().await.1
}

fn quantity(subscription: &pb::Subscription, quantity: i32) -> pb::ChangeLicenseQuantityRequest {
    pb::ChangeLicenseQuantityRequest {
        name: subscription.name.clone(),
        quantity,
        etag: subscription.etag.clone(),
    }
}

fn suspend(subscription: &pb::Subscription) -> pb::SuspendSubscriptionRequest {
    pb::SuspendSubscriptionRequest {
        name: subscription.name.clone(),
        etag: subscription.etag.clone(),
    }
}

fn cancel(subscription: &pb::Subscription) -> pb::CancelSubscriptionRequest {
    pb::CancelSubscriptionRequest {
        name: subscription.name.clone(),
        etag: subscription.etag.clone(),
    }
}

fn of_type<'a>(events: &'a [EventEnvelope], name: &str) -> Vec<&'a EventEnvelope> {
    let full = format!("twotier.subscription.v1.{name}");
    events.iter().filter(|e| e.event_type == full).collect()
}

/// R26, R28
#[tokio::test]
async fn a_suspended_subscription_keeps_quantity_and_reseller_until_reactivated() {
    let h = start().await;
    let bought = bought(&h).await;
    assert_eq!(bought.state, pb::SubscriptionState::Active as i32);
    assert!(bought.auto_renew);
    let mut client = h.subscriptions(&provider_admin(PROVIDER));

    let suspended = client
        .suspend_subscription(suspend(&bought))
        .await
        .expect("suspend")
        .into_inner();
    assert_eq!(suspended.state, pb::SubscriptionState::Suspended as i32);
    assert_ne!(suspended.etag, bought.etag);
    assert_error(
        client
            .change_license_quantity(quantity(&suspended, 20))
            .await,
        Code::FailedPrecondition,
        "SUBSCRIPTION_SUSPENDED",
    );
    // A quantity no offer allows is the caller's mistake in any state.
    let status = assert_error(
        client
            .change_license_quantity(quantity(&suspended, -5))
            .await,
        Code::InvalidArgument,
        "QUANTITY_OUT_OF_RANGE",
    );
    assert_eq!(twotier_testkit::violated_fields(&status), ["quantity"]);
    assert_error(
        client
            .change_reseller_of_record(pb::ChangeResellerOfRecordRequest {
                name: suspended.name.clone(),
                reseller_partner_id: String::new(),
                etag: suspended.etag.clone(),
            })
            .await,
        Code::FailedPrecondition,
        "SUBSCRIPTION_SUSPENDED",
    );
    // The suspension is the answer whoever is named: no PartnerID is
    // judged for a change the subscription cannot take (R26 before R24).
    assert_error(
        client
            .change_reseller_of_record(pb::ChangeResellerOfRecordRequest {
                name: suspended.name.clone(),
                reseller_partner_id: "9999999".into(),
                etag: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        "SUBSCRIPTION_SUSPENDED",
    );
    // Etag rules: a stale one is aborted, none at all is accepted.
    assert_error(
        client
            .reactivate_subscription(pb::ReactivateSubscriptionRequest {
                name: bought.name.clone(),
                etag: bought.etag.clone(),
            })
            .await,
        Code::Aborted,
        "ETAG_MISMATCH",
    );
    let reactivated = client
        .reactivate_subscription(pb::ReactivateSubscriptionRequest {
            name: bought.name.clone(),
            etag: String::new(),
        })
        .await
        .expect("reactivate")
        .into_inner();
    assert_eq!(reactivated.state, pb::SubscriptionState::Active as i32);
    let grown = client
        .change_license_quantity(quantity(&reactivated, 20))
        .await
        .expect("active again")
        .into_inner();
    assert_eq!(grown.quantity, 20);
    assert_eq!(grown.reseller_partner_id, RESELLER);

    // Only the provider, and only its own.
    assert_error(
        h.subscriptions(&reseller_admin(RESELLER_TENANT))
            .suspend_subscription(suspend(&grown))
            .await,
        Code::PermissionDenied,
        "ROLE_NOT_ALLOWED",
    );
    assert_error(
        h.subscriptions(&provider_admin(OTHER_PROVIDER))
            .suspend_subscription(suspend(&grown))
            .await,
        Code::NotFound,
        "PROVIDER_NOT_FOUND",
    );

    let events = h.events(5).await;
    let suspensions = of_type(&events, "SubscriptionSuspended");
    assert_eq!(suspensions.len(), 1);
    let payload: pb::SubscriptionSuspended =
        suspensions[0].payload.as_ref().unwrap().to_msg().unwrap();
    assert_eq!(payload.subscription.unwrap().etag, suspended.etag);
    let reseller = payload.reseller_of_record.expect("the reseller to tell");
    assert_eq!(reseller.contact_email, "admin@fabrikam.example");
    assert!(!payload.customer_company_name.is_empty());
    assert_eq!(of_type(&events, "SubscriptionReactivated").len(), 1);
}

/// R27, R28
#[tokio::test]
async fn a_subscription_is_cancelled_within_its_window_and_then_changes_no_more() {
    let h = start().await;
    let bought = bought(&h).await;
    let created = bought.create_time.unwrap().seconds;
    let deadline = bought.cancellation_deadline.unwrap().seconds;
    assert_eq!(deadline - created, 7 * 24 * 3600, "the default window");
    let mut client = h.subscriptions(&provider_admin(PROVIDER));

    let fewer = client
        .change_license_quantity(quantity(&bought, 5))
        .await
        .expect("a decrease within the window")
        .into_inner();
    let cancelled = client
        .cancel_subscription(cancel(&fewer))
        .await
        .expect("cancel")
        .into_inner();
    assert_eq!(cancelled.state, pb::SubscriptionState::Cancelled as i32);
    assert!(!cancelled.auto_renew, "it renews no more");
    for refused in [
        client
            .change_license_quantity(quantity(&cancelled, 6))
            .await
            .map(|_| ()),
        client
            .suspend_subscription(suspend(&cancelled))
            .await
            .map(|_| ()),
        client
            .set_auto_renew(pb::SetAutoRenewRequest {
                name: cancelled.name.clone(),
                auto_renew: true,
                etag: cancelled.etag.clone(),
            })
            .await
            .map(|_| ()),
        // No PartnerID is judged for a change a cancelled subscription
        // cannot take: an unknown one hears of the cancellation too.
        client
            .change_reseller_of_record(pb::ChangeResellerOfRecordRequest {
                name: cancelled.name.clone(),
                reseller_partner_id: "9999999".into(),
                etag: String::new(),
            })
            .await
            .map(|_| ()),
        client
            .set_support_contact(pb::SetSupportContactRequest {
                name: cancelled.name.clone(),
                support_contact_partner_id: "9999999".into(),
                etag: String::new(),
            })
            .await
            .map(|_| ()),
    ] {
        assert_error(refused, Code::FailedPrecondition, "SUBSCRIPTION_CANCELLED");
    }
    let again = client
        .cancel_subscription(cancel(&cancelled))
        .await
        .expect("cancelling twice changes nothing")
        .into_inner();
    assert_eq!(again, cancelled);

    let events = h.events(4).await;
    let cancellations = of_type(&events, "SubscriptionCancelled");
    assert_eq!(cancellations.len(), 1);
    let payload: pb::SubscriptionCancelled =
        cancellations[0].payload.as_ref().unwrap().to_msg().unwrap();
    assert_eq!(payload.previous_state, pb::SubscriptionState::Active as i32);
    assert!(payload.reseller_of_record.is_some());
}

/// R27: `TWOTIER_SUBSCRIPTION_CANCELLATION_WINDOW` sets the window; after
/// it, cancelling and decreasing are refused with the deadline named.
#[tokio::test]
async fn after_the_window_cancelling_and_decreasing_are_refused_with_the_deadline() {
    let h = start_with(&[(
        "subscription",
        "TWOTIER_SUBSCRIPTION_CANCELLATION_WINDOW",
        "0s",
    )])
    .await;
    let bought = bought(&h).await;
    assert_eq!(bought.cancellation_deadline, bought.create_time);
    let mut client = h.subscriptions(&provider_admin(PROVIDER));

    let status = assert_error(
        client.cancel_subscription(cancel(&bought)).await,
        Code::FailedPrecondition,
        "CANCELLATION_WINDOW_CLOSED",
    );
    let deadline = bought.cancellation_deadline.unwrap();
    let named = chrono::DateTime::from_timestamp(deadline.seconds, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert!(status.message().contains(&named), "{}", status.message());
    let status = assert_error(
        client.change_license_quantity(quantity(&bought, 5)).await,
        Code::FailedPrecondition,
        "QUANTITY_DECREASE_WINDOW_CLOSED",
    );
    assert!(status.message().contains(&named), "{}", status.message());
    let more = client
        .change_license_quantity(quantity(&bought, 15))
        .await
        .expect("an increase is always possible")
        .into_inner();
    assert_eq!(more.quantity, 15);
    assert_eq!(more.state, pb::SubscriptionState::Active as i32);
}

/// R28
#[tokio::test]
async fn auto_renew_is_turned_off_and_on_each_change_logged_for_the_reseller() {
    let h = start().await;
    let bought = bought(&h).await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let set = |auto_renew: bool, etag: &str| pb::SetAutoRenewRequest {
        name: bought.name.clone(),
        auto_renew,
        etag: etag.into(),
    };

    let off = client
        .set_auto_renew(set(false, &bought.etag))
        .await
        .expect("off")
        .into_inner();
    assert!(!off.auto_renew);
    assert_error(
        client.set_auto_renew(set(true, &bought.etag)).await,
        Code::Aborted,
        "ETAG_MISMATCH",
    );
    let on = client
        .set_auto_renew(set(true, &off.etag))
        .await
        .expect("on")
        .into_inner();
    assert!(on.auto_renew);

    let events = h.events(4).await;
    let changes: Vec<pb::AutoRenewChanged> = of_type(&events, "AutoRenewChanged")
        .iter()
        .map(|e| e.payload.as_ref().unwrap().to_msg().unwrap())
        .collect();
    assert_eq!(changes.len(), 2);
    let settings: Vec<bool> = changes
        .iter()
        .map(|c| c.subscription.as_ref().unwrap().auto_renew)
        .collect();
    assert_eq!(settings, vec![false, true]);
    assert!(changes.iter().all(|c| c.reseller_of_record.is_some()));
}

/// R25, R26, R17: calls without an etag made at the same time apply one
/// after the other: each succeeds (the later ones as no-ops or on the state
/// the earlier left), none fails a version guard it never asked for.
#[tokio::test]
async fn concurrent_changes_without_an_etag_all_succeed_and_apply_once_each() {
    let h = start().await;
    let bought = bought(&h).await;
    let suspensions = (0..8).map(|_| {
        let mut client = h.subscriptions(&provider_admin(PROVIDER));
        let request = pb::SuspendSubscriptionRequest {
            name: bought.name.clone(),
            etag: String::new(),
        };
        tokio::spawn(async move { client.suspend_subscription(request).await })
    });
    for outcome in suspensions.collect::<Vec<_>>() {
        let suspended = outcome
            .await
            .expect("joined")
            .expect("every suspension succeeds")
            .into_inner();
        assert_eq!(suspended.state, pb::SubscriptionState::Suspended as i32);
    }
    let reactivated = h
        .subscriptions(&provider_admin(PROVIDER))
        .reactivate_subscription(pb::ReactivateSubscriptionRequest {
            name: bought.name.clone(),
            etag: String::new(),
        })
        .await
        .expect("reactivate")
        .into_inner();
    let increases = (0..8).map(|_| {
        let mut client = h.subscriptions(&provider_admin(PROVIDER));
        let request = pb::ChangeLicenseQuantityRequest {
            etag: String::new(),
            ..quantity(&reactivated, 20)
        };
        tokio::spawn(async move { client.change_license_quantity(request).await })
    });
    for outcome in increases.collect::<Vec<_>>() {
        let changed = outcome
            .await
            .expect("joined")
            .expect("every change succeeds");
        assert_eq!(changed.into_inner().quantity, 20);
    }
    let events = h.events(3).await;
    assert_eq!(of_type(&events, "SubscriptionSuspended").len(), 1);
    assert_eq!(of_type(&events, "LicenseQuantityChanged").len(), 1);
}
