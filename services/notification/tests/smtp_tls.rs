//! R21 over an encrypted SMTP connection: with STARTTLS (the default mode)
//! and with TLS from the first byte, an email reaches a server whose
//! certificate chains to the CA in `TWOTIER_SMTP_CA_FILE`; a server whose
//! certificate chains to no trusted CA gets nothing, and the email stays
//! pending with its failed attempts recorded. A server that requires a
//! login takes the email after one with the configured credentials; one it
//! refuses leaves the email pending.

mod common;

use common::*;
use twotier_proto::notification as pb;
use twotier_proto::notification::notification_service_client::NotificationServiceClient;
use twotier_proto::partnership as ppb;
use twotier_testkit::pki::{CertFiles, TestCa};
use twotier_testkit::{Bearer, SmtpSink, System};

/// The four services, the notification service sending to `sink` on
/// `localhost` (the name its certificate carries) in `mode`, trusting the
/// CA in `ca_file` when given, with the `extra` settings.
async fn start_secured(
    sink: &SmtpSink,
    mode: &str,
    ca_file: Option<&str>,
    extra: &[(&'static str, &str)],
) -> Harness {
    let port = sink.port().to_string();
    let mut env = vec![
        ("notification", "TWOTIER_SMTP_HOST", "localhost"),
        ("notification", "TWOTIER_SMTP_PORT", port.as_str()),
        ("notification", "TWOTIER_SMTP_TLS", mode),
        ("notification", "TWOTIER_MAIL_RETRY_MAX_BACKOFF", "300ms"),
        ("notification", "TWOTIER_MAIL_POLL_INTERVAL", "100ms"),
    ];
    if let Some(ca_file) = ca_file {
        env.push(("notification", "TWOTIER_SMTP_CA_FILE", ca_file));
    }
    env.extend(
        extra
            .iter()
            .map(|(name, value)| ("notification", *name, *value)),
    );
    Harness {
        system: System::all(&env).await,
        smtp_port: sink.port(),
    }
}

/// A certificate for `localhost` from a test CA, and that CA's file for
/// `TWOTIER_SMTP_CA_FILE`, written under `dir`.
fn relay_certificate(dir: &std::path::Path) -> (CertFiles, std::path::PathBuf) {
    let ca = TestCa::new("mail relay CA");
    let cert = ca.issue(&["localhost"]).write(dir, "relay");
    (cert, ca.write(dir, "relay-ca"))
}

/// A server of the configured CA that takes mail after STARTTLS and a
/// login as `mailer` with `s3cret pass`, and the services sending to it
/// with the password `password`.
async fn start_with_login(password: &str) -> (tempfile::TempDir, SmtpSink, Harness) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, ca_file) = relay_certificate(dir.path());
    let sink = SmtpSink::start_with_login(dir.path(), &cert, "mailer", "s3cret pass").await;
    let login = [
        ("TWOTIER_SMTP_USERNAME", "mailer"),
        ("TWOTIER_SMTP_PASSWORD", password),
    ];
    let h = start_secured(&sink, "starttls", ca_file.to_str(), &login).await;
    (dir, sink, h)
}

/// Asks for one invitation email; the invitation's link.
async fn request_invitation_email(h: &Harness) -> String {
    let invitation = h.invite().await;
    h.partnerships()
        .send_invitation_email(ppb::SendInvitationEmailRequest {
            invitation: invitation.invitation.unwrap().name,
            subject: "Let's partner".into(),
            body: format!("please accept: {}", invitation.invitation_link),
            request_id: String::new(),
        })
        .await
        .expect("send");
    invitation.invitation_link
}

async fn email_arrives_over(implicit_tls: bool, mode: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, ca_file) = relay_certificate(dir.path());
    let sink = SmtpSink::start_secured(dir.path(), &cert, implicit_tls).await;
    let h = start_secured(&sink, mode, ca_file.to_str(), &[]).await;

    let link = request_invitation_email(&h).await;
    let emails = wait_for_emails(&sink, 1).await;
    assert_eq!(emails[0].to, "admin@fabrikam.example");
    assert!(emails[0].body.contains(&link));
}

#[tokio::test]
async fn an_email_goes_out_after_starttls_to_a_server_of_the_configured_ca() {
    email_arrives_over(false, "starttls").await;
}

#[tokio::test]
async fn an_email_goes_out_over_tls_from_the_first_byte_to_a_server_of_the_configured_ca() {
    email_arrives_over(true, "tls").await;
}

#[tokio::test]
async fn a_server_whose_certificate_no_trusted_ca_signed_gets_nothing_and_the_email_stays_pending()
{
    let dir = tempfile::tempdir().unwrap();
    let untrusted = TestCa::new("someone else's CA");
    let cert = untrusted.issue(&["localhost"]).write(dir.path(), "relay");
    let sink = SmtpSink::start_secured(dir.path(), &cert, false).await;
    let h = start_secured(&sink, "starttls", None, &[]).await;

    request_invitation_email(&h).await;
    let notification = pending_after_failed_attempts(&h).await;
    assert!(
        notification
            .last_error
            .to_lowercase()
            .contains("certificate"),
        "the failure names the certificate: {}",
        notification.last_error
    );
    assert!(sink.messages().is_empty(), "nothing reached the server");
}

#[tokio::test]
async fn an_email_goes_out_after_starttls_and_a_login_with_the_configured_credentials() {
    let (_dir, sink, h) = start_with_login("s3cret pass").await;

    let link = request_invitation_email(&h).await;
    let emails = wait_for_emails(&sink, 1).await;
    assert!(emails[0].body.contains(&link));
}

#[tokio::test]
async fn a_login_the_server_refuses_sends_nothing_and_the_email_stays_pending() {
    let (_dir, sink, h) = start_with_login("an old password").await;

    request_invitation_email(&h).await;
    // A refused login is the configuration's fault, not the email's: it
    // goes out once the credentials are fixed.
    let notification = pending_after_failed_attempts(&h).await;
    assert!(
        notification.last_error.contains("535"),
        "the failure carries the server's refusal: {}",
        notification.last_error
    );
    assert!(
        !notification.last_error.contains("an old password"),
        "the password is not recorded"
    );
    assert!(sink.messages().is_empty(), "nothing reached the server");
}

/// The one notification once two of its attempts failed.
async fn pending_after_failed_attempts(h: &Harness) -> pb::Notification {
    let notifications = NotificationServiceClient::with_interceptor(
        h.channel("notification"),
        Bearer::new(&provider_admin()),
    );
    let attempts = || {
        let mut notifications = notifications.clone();
        async move {
            let listed = notifications
                .list_notifications(pb::ListNotificationsRequest::default())
                .await
                .expect("list")
                .into_inner()
                .notifications
                .into_iter()
                .next()?;
            let read = notifications
                .get_notification(pb::GetNotificationRequest { name: listed.name })
                .await
                .expect("get")
                .into_inner();
            Some(read)
        }
    };
    twotier_testkit::wait_until("two failed attempts", DEADLINE, || async {
        attempts()
            .await
            .is_some_and(|n| n.delivery_attempts.len() >= 2)
    })
    .await;
    let notification = attempts().await.expect("the notification");
    assert_eq!(notification.status(), pb::NotificationStatus::Pending);
    notification
}
