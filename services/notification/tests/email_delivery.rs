//! R20 and R21 under faults, at a real SMTP server: with every event
//! delivered twice each email still goes out once, and while the SMTP server
//! is down notifications stay pending with their failed attempts recorded
//! until all of them go out.

mod common;

use common::*;
use twotier_proto::notification as pb;
use twotier_proto::partnership as ppb;
use twotier_testkit::SmtpSink;

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
