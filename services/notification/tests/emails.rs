//! R4 (send), R7, R20 and R21 end to end: events from the other services
//! become emails at a real SMTP server.

mod common;

use common::*;
use tonic::Code;
use twotier_platform::auth::Role;
use twotier_proto::notification as pb;
use twotier_proto::partnership as ppb;
use twotier_proto::subscription as spb;
use twotier_testkit::{SmtpSink, assert_error};

#[tokio::test]
async fn accepting_a_partnership_emails_the_provider_across_three_services() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).await;
    let h = start(sink.port()).await;
    h.onboard("en").await;
    let invitation = h.invite().await;
    h.accept(&invitation).await;

    let emails = wait_for_emails(&sink, 1).await;
    assert_eq!(emails.len(), 1);
    let email = &emails[0];
    assert_eq!(
        email.to, "alice@contoso.example",
        "the provider user who invited"
    );
    assert!(
        email
            .subject
            .contains("Fabrikam GmbH accepted your partnership request"),
        "{}",
        email.subject
    );
    assert!(email.body.contains("4567890"));

    let notifications = h.all_notifications().await;
    assert_eq!(notifications.len(), 1);
    let recorded = &notifications[0];
    assert_eq!(recorded.template, "partnership_accepted");
    assert_eq!(recorded.language_code, "en");
    assert_eq!(
        recorded.source_event.as_ref().unwrap().event_type,
        "twotier.partnership.v1.PartnershipAccepted"
    );
    twotier_testkit::wait_until("the notification is marked sent", DEADLINE, || async {
        h.all_notifications().await[0].status == pb::NotificationStatus::Sent as i32
    })
    .await;
    let read = h
        .notifications(&provider_admin())
        .get_notification(pb::GetNotificationRequest {
            name: recorded.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.attempts, 1);
    assert_eq!(read.delivery_attempts.len(), 1);
    assert_eq!(
        read.delivery_attempts[0].outcome,
        pb::DeliveryOutcome::Delivered as i32
    );
    assert!(
        email
            .message_id
            .contains(read.name.trim_start_matches("notifications/")),
        "the Message-ID names the notification"
    );
}

#[tokio::test]
async fn emails_follow_the_recipients_language() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).await;
    let h = start(sink.port()).await;
    h.list_provider("de").await;
    h.onboard("de").await;
    // The listing has reached the notification service before the acceptance
    // (one ordered log), so the provider's German preference is known.
    let invitation = h.invite().await;
    h.accept(&invitation).await;
    let customer = h.customer_for_reseller().await;
    let emails = wait_for_emails(&sink, 2).await;
    let accepted = emails
        .iter()
        .find(|e| e.to == "alice@contoso.example")
        .expect("provider email");
    assert!(
        accepted
            .subject
            .contains("hat Ihre Partnerschaftsanfrage angenommen"),
        "{}",
        accepted.subject
    );
    let delegated = emails
        .iter()
        .find(|e| e.to == "admin@fabrikam.example")
        .expect("reseller email");
    assert!(
        delegated.subject.contains("Neuer Kunde Adatum AG"),
        "{}",
        delegated.subject
    );
    assert!(delegated.body.contains("adatum.onmicrosoft.com"));
    let languages: Vec<_> = h
        .all_notifications()
        .await
        .iter()
        .map(|n| n.language_code.clone())
        .collect();
    assert_eq!(languages, vec!["de", "de"]);
    assert!(!customer.is_empty());
}

#[tokio::test]
async fn invitation_email_goes_out_with_its_link_exactly_as_edited() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).await;
    let h = start(sink.port()).await;
    let invitation = h.invite().await;
    let body = format!(
        "Hi Fabrikam,\n\nplease accept: {}\n\nAlice",
        invitation.invitation_link
    );
    h.partnerships()
        .send_invitation_email(ppb::SendInvitationEmailRequest {
            invitation: invitation.invitation.unwrap().name,
            subject: "Let's partner".into(),
            body: body.clone(),
            request_id: String::new(),
        })
        .await
        .expect("send");
    let emails = wait_for_emails(&sink, 1).await;
    assert_eq!(emails[0].to, "admin@fabrikam.example");
    assert_eq!(emails[0].subject, "Let's partner");
    assert!(
        emails[0].body.contains(&invitation.invitation_link),
        "the invitation link is in the email"
    );
}

#[tokio::test]
async fn orders_and_assignments_email_the_provider_and_the_reseller() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).await;
    let h = start(sink.port()).await;
    h.onboard("en").await;
    let invitation = h.invite().await;
    h.accept(&invitation).await;
    let customer = h.customer_for_reseller().await;
    let order = h.order(&customer).await;
    // accepted + customer created + order (provider) + order (reseller)
    let emails = wait_for_emails(&sink, 4).await;
    let to_provider: Vec<_> = emails
        .iter()
        .filter(|e| e.to == "alice@contoso.example")
        .collect();
    let to_reseller: Vec<_> = emails
        .iter()
        .filter(|e| e.to == "admin@fabrikam.example")
        .collect();
    assert!(
        to_provider
            .iter()
            .any(|e| e.subject == "Order placed for Adatum AG"
                && e.body.contains("12 x Microsoft 365 Business Premium"))
    );
    assert!(to_reseller.iter().any(|e| {
        e.subject
            .contains("reseller of record on an order for Adatum AG")
    }));

    let mut subscriptions = h.subscriptions();
    let subscription = subscriptions
        .get_subscription(spb::GetSubscriptionRequest {
            name: order.lines[0].subscription.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let supported = subscriptions
        .set_support_contact(spb::SetSupportContactRequest {
            name: subscription.name.clone(),
            support_contact_partner_id: RESELLER.into(),
            etag: subscription.etag,
        })
        .await
        .expect("support contact")
        .into_inner();
    subscriptions
        .change_reseller_of_record(spb::ChangeResellerOfRecordRequest {
            name: subscription.name.clone(),
            reseller_partner_id: RESELLER.into(),
            etag: supported.etag,
        })
        .await
        .expect("reseller of record");
    let emails = wait_for_emails(&sink, 6).await;
    let subjects: Vec<_> = emails
        .iter()
        .filter(|e| e.to == "admin@fabrikam.example")
        .map(|e| e.subject.clone())
        .collect();
    assert!(
        subjects.iter().any(|s| s
            == "You are now the support contact for Microsoft 365 Business Premium at Adatum AG"),
        "{subjects:?}"
    );
    assert!(
        subjects.iter().any(|s| s
            == "You are now reseller of record for Microsoft 365 Business Premium at Adatum AG"),
        "{subjects:?}"
    );
}

#[tokio::test]
async fn removing_a_partnership_sends_no_termination_notice() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).await;
    let h = start(sink.port()).await;
    h.onboard("en").await;
    let invitation = h.invite().await;
    h.accept(&invitation).await;
    let customer = h.customer_for_reseller().await;
    wait_for_emails(&sink, 2).await;

    h.remove_partnership().await;
    // A later notifiable event on the same log proves the removal was handled
    // (the log is consumed in order).
    let later = h.invite().await;
    h.partnerships()
        .send_invitation_email(ppb::SendInvitationEmailRequest {
            invitation: later.invitation.unwrap().name,
            subject: String::new(),
            body: later.invitation_link.clone(),
            request_id: String::new(),
        })
        .await
        .expect("send");
    let emails = wait_for_emails(&sink, 3).await;
    assert_eq!(emails.len(), 3);
    assert!(
        emails
            .iter()
            .any(|e| e.body.contains(&later.invitation_link))
    );

    let removed = h
        .notifications(&operator())
        .list_notifications(pb::ListNotificationsRequest {
            event_type: "twotier.partnership.v1.PartnershipRemoved".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        removed.notifications.is_empty(),
        "no notification exists for the removal"
    );
    assert_eq!(
        h.all_notifications().await.len(),
        3,
        "nothing to the reseller or the customer"
    );
    assert!(!customer.is_empty());
}

#[tokio::test]
async fn cursor_rewound_so_every_event_is_delivered_twice_still_sends_one_email_each() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).await;
    let mut h = start(sink.port()).await;
    h.onboard("en").await;
    let invitation = h.invite().await;
    h.accept(&invitation).await;
    h.customer_for_reseller().await;
    wait_for_emails(&sink, 2).await;

    // Fault: the consumer forgets how far it got, so every event arrives again.
    h.stop_notification().await;
    let db = twotier_platform::db::connect(&h.notification_db().url, 2)
        .await
        .unwrap();
    use sea_orm::ConnectionTrait;
    let rewound = db
        .execute_unprepared("UPDATE consumer_cursor SET position = 0")
        .await
        .unwrap()
        .rows_affected();
    assert!(rewound >= 2, "cursors of several upstreams were rewound");
    drop(db);
    h.start_notification().await;
    // Wait until the redelivered log has been consumed again: a new event
    // after the old ones arrives.
    let later = h.invite().await;
    h.partnerships()
        .send_invitation_email(ppb::SendInvitationEmailRequest {
            invitation: later.invitation.unwrap().name,
            subject: String::new(),
            body: later.invitation_link,
            request_id: String::new(),
        })
        .await
        .unwrap();
    let emails = wait_for_emails(&sink, 3).await;
    assert_eq!(
        emails.len(),
        3,
        "one email per notifiable event, none repeated"
    );
    assert_eq!(h.all_notifications().await.len(), 3);
}

#[tokio::test]
async fn smtp_down_keeps_notifications_pending_and_all_go_out_when_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let h = start(port).await;
    h.onboard("en").await;
    let invitation = h.invite().await;
    h.accept(&invitation).await;
    h.customer_for_reseller().await;
    twotier_testkit::wait_until(
        "two notifications failed at least once",
        DEADLINE,
        || async {
            let all = h.all_notifications().await;
            all.len() == 2 && all.iter().all(|n| n.attempts >= 2)
        },
    )
    .await;
    for notification in h.all_notifications().await {
        assert_eq!(
            notification.status,
            pb::NotificationStatus::Pending as i32,
            "never lost, never given up"
        );
        assert!(!notification.last_error.is_empty());
        let read = h
            .notifications(&operator())
            .get_notification(pb::GetNotificationRequest {
                name: notification.name,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(
            read.delivery_attempts
                .iter()
                .all(|a| a.outcome == pb::DeliveryOutcome::TransientFailure as i32)
        );
    }

    let sink = SmtpSink::start_on(dir.path(), port).await;
    let emails = wait_for_emails(&sink, 2).await;
    assert_eq!(emails.len(), 2);
    twotier_testkit::wait_until("both marked sent", DEADLINE, || async {
        h.all_notifications()
            .await
            .iter()
            .all(|n| n.status == pb::NotificationStatus::Sent as i32)
    })
    .await;
}

#[tokio::test]
async fn notifications_are_listed_by_filter_and_scoped_to_the_callers_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).await;
    let h = start(sink.port()).await;
    h.onboard("en").await;
    let invitation = h.invite().await;
    h.accept(&invitation).await;
    h.customer_for_reseller().await;
    wait_for_emails(&sink, 2).await;
    let mut operator_client = h.notifications(&operator());
    let to_reseller = operator_client
        .list_notifications(pb::ListNotificationsRequest {
            recipient: "admin@fabrikam.example".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .notifications;
    assert_eq!(to_reseller.len(), 1);
    assert_eq!(to_reseller[0].template, "customer_created_for_reseller");
    let by_event = operator_client
        .list_notifications(pb::ListNotificationsRequest {
            event_type: "twotier.customer.v1.CustomerCreated".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .notifications;
    assert_eq!(by_event.len(), 1);
    twotier_testkit::wait_until("all sent", DEADLINE, || async {
        h.all_notifications()
            .await
            .iter()
            .all(|n| n.status == pb::NotificationStatus::Sent as i32)
    })
    .await;
    let pending = operator_client
        .list_notifications(pb::ListNotificationsRequest {
            status: pb::NotificationStatus::Pending.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .notifications;
    assert!(pending.is_empty());
    let page = operator_client
        .list_notifications(pb::ListNotificationsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.notifications.len(), 1);
    assert!(!page.next_page_token.is_empty());

    let provider = h
        .notifications(&provider_admin())
        .list_notifications(pb::ListNotificationsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        provider.notifications.len(),
        2,
        "the provider sees its tenant's notifications"
    );
    let stranger = twotier_testkit::token("nora", "northwind", &[Role::GlobalAdmin]);
    let mut other = h.notifications(&stranger);
    assert!(
        other
            .list_notifications(pb::ListNotificationsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .notifications
            .is_empty()
    );
    assert_error(
        other
            .get_notification(pb::GetNotificationRequest {
                name: to_reseller[0].name.clone(),
            })
            .await,
        Code::NotFound,
        "NOTIFICATION_NOT_FOUND",
    );
    let reseller = h.notifications(&reseller_admin());
    let mut reseller = reseller;
    assert_error(
        reseller
            .list_notifications(pb::ListNotificationsRequest::default())
            .await,
        Code::PermissionDenied,
        "ROLE_NOT_ALLOWED",
    );
}
