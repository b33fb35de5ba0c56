//! The dispatcher's gathering wait (`TWOTIER_MAIL_GATHER`): emails recorded
//! close together go out in one round, one claim for all of them.

mod common;

use common::*;
use twotier_proto::notification as pb;
use twotier_testkit::{SmtpSink, System};

#[tokio::test]
async fn emails_recorded_within_the_gathering_wait_are_claimed_in_one_round() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).await;
    let port = sink.port().to_string();
    let mut env = twotier_testkit::smtp::notification_env(&port).to_vec();
    // Only a recorded email wakes the dispatcher (no poll within the
    // test), and it then waits long enough for the second email.
    env.extend([
        ("notification", "TWOTIER_MAIL_POLL_INTERVAL", "1h"),
        ("notification", "TWOTIER_MAIL_GATHER", "5s"),
    ]);
    let h = Harness {
        system: System::all(&env).await,
        smtp_port: sink.port(),
    };
    h.onboard("en").await;
    let invitation = h.invite().await;

    // Two emails, recorded a moment apart: the accepted partnership's and
    // the new customer's.
    h.accept(&invitation).await;
    h.customer_for_reseller().await;

    let emails = wait_for_emails(&sink, 2).await;
    assert_eq!(emails.len(), 2);
    // The outcomes are written after the SMTP server has the emails.
    twotier_testkit::wait_until("both outcomes recorded", DEADLINE, || async {
        h.all_notifications()
            .await
            .iter()
            .all(|n| n.status() == pb::NotificationStatus::Sent)
    })
    .await;
    let mut first_attempts = Vec::new();
    for listed in h.all_notifications().await {
        let notification = h
            .notifications(&operator())
            .get_notification(pb::GetNotificationRequest { name: listed.name })
            .await
            .expect("the notification")
            .into_inner();
        assert_eq!(notification.status(), pb::NotificationStatus::Sent);
        let [attempt] = &notification.delivery_attempts[..] else {
            panic!("one attempt each: {notification:?}");
        };
        first_attempts.push(attempt.attempt_time.expect("attempted at"));
    }
    assert_eq!(first_attempts.len(), 2);
    // A round's claim stamps each attempt it starts with the same instant.
    assert_eq!(
        first_attempts[0], first_attempts[1],
        "both emails claimed in one round"
    );
}
