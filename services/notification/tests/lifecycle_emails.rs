//! R28 and R25 end to end: each lifecycle change of a subscription
//! (suspended, reactivated, auto-renew off, cancelled) emails its reseller
//! of record at a real SMTP server; a write that changes nothing (the same
//! reseller of record, the same support contact, suspending twice) emails
//! no one.

mod common;

use common::*;
use twotier_proto::subscription as spb;
use twotier_testkit::SmtpSink;

/// R25, R28
#[tokio::test]
async fn lifecycle_changes_email_the_reseller_of_record_and_no_op_writes_email_no_one() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).await;
    let h = start(sink.port()).await;
    let order = h.ordered_through_reseller().await;
    // accepted + customer created + order (provider) + order (reseller)
    wait_for_emails(&sink, 4).await;

    let mut subscriptions = h.subscriptions();
    let bought = subscriptions
        .get_subscription(spb::GetSubscriptionRequest {
            name: order.lines[0].subscription.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let name = bought.name.clone();
    // R25: the reseller of record it has already.
    let same = subscriptions
        .change_reseller_of_record(spb::ChangeResellerOfRecordRequest {
            name: name.clone(),
            reseller_partner_id: RESELLER.into(),
            etag: bought.etag.clone(),
        })
        .await
        .expect("same reseller of record")
        .into_inner();
    assert_eq!(same.etag, bought.etag);
    let supported = subscriptions
        .set_support_contact(spb::SetSupportContactRequest {
            name: name.clone(),
            support_contact_partner_id: RESELLER.into(),
            etag: bought.etag.clone(),
        })
        .await
        .expect("support contact")
        .into_inner();
    subscriptions
        .set_support_contact(spb::SetSupportContactRequest {
            name: name.clone(),
            support_contact_partner_id: RESELLER.into(),
            etag: supported.etag.clone(),
        })
        .await
        .expect("same support contact");
    let suspended = subscriptions
        .suspend_subscription(spb::SuspendSubscriptionRequest {
            name: name.clone(),
            etag: supported.etag.clone(),
        })
        .await
        .expect("suspend")
        .into_inner();
    subscriptions
        .suspend_subscription(spb::SuspendSubscriptionRequest {
            name: name.clone(),
            etag: suspended.etag.clone(),
        })
        .await
        .expect("suspending twice");
    let reactivated = subscriptions
        .reactivate_subscription(spb::ReactivateSubscriptionRequest {
            name: name.clone(),
            etag: suspended.etag.clone(),
        })
        .await
        .expect("reactivate")
        .into_inner();
    let not_renewing = subscriptions
        .set_auto_renew(spb::SetAutoRenewRequest {
            name: name.clone(),
            auto_renew: false,
            etag: reactivated.etag.clone(),
        })
        .await
        .expect("auto-renew off")
        .into_inner();
    subscriptions
        .cancel_subscription(spb::CancelSubscriptionRequest {
            name: name.clone(),
            etag: not_renewing.etag.clone(),
        })
        .await
        .expect("cancel");

    // + support contact + suspended + reactivated + auto-renew + cancelled
    let emails = wait_for_emails(&sink, 9).await;
    let subjects: Vec<_> = emails
        .iter()
        .filter(|e| e.to == "admin@fabrikam.example")
        .map(|e| e.subject.clone())
        .collect();
    let offer_at = "Microsoft 365 Business Premium at Adatum AG";
    for expected in [
        format!("{offer_at} was suspended"),
        format!("{offer_at} is active again"),
        format!("{offer_at} no longer renews automatically"),
        format!("{offer_at} was cancelled"),
    ] {
        assert!(subjects.contains(&expected), "{expected}: {subjects:?}");
    }
    // The log is handled in order: once the cancellation's email is
    // recorded, every earlier write's would be too.
    twotier_testkit::wait_until("the cancellation is recorded", DEADLINE, || async {
        h.all_notifications()
            .await
            .iter()
            .any(|n| n.template == "subscription_cancelled")
    })
    .await;
    let templates: Vec<String> = h
        .all_notifications()
        .await
        .into_iter()
        .map(|n| n.template)
        .collect();
    assert_eq!(templates.len(), 9, "no email for a no-op: {templates:?}");
    let sent = |template: &str| templates.iter().filter(|t| *t == template).count();
    assert_eq!(sent("reseller_of_record_assigned"), 0, "the same reseller");
    assert_eq!(sent("support_contact_assigned"), 1, "set once, then again");
    assert_eq!(sent("subscription_suspended"), 1, "suspended twice");
}
