//! R4 (send), R7 and R20 end to end: events from the other services become
//! emails at a real SMTP server, in the recipient's language: the accepted
//! partnership to the inviting provider user, the invitation email as edited,
//! new customers, orders, support contact and reseller of record changes; no
//! email when a partnership is removed.

mod common;

use common::*;
use twotier_proto::notification as pb;
use twotier_proto::partnership as ppb;
use twotier_proto::partnership::reseller_service_client::ResellerServiceClient;
use twotier_proto::subscription as spb;
use twotier_testkit::{Bearer, SmtpSink, flows};

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

/// A provider user whose token carries no email, of a provider with no
/// listing: nobody's address is known, so the acceptance's email cannot go
/// out, yet it is on record, failed with the reason, never tried (R21).
#[tokio::test]
async fn an_email_to_a_provider_with_no_known_address_is_recorded_as_failed() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).await;
    let h = start(sink.port()).await;
    h.onboard("en").await;
    let no_email = twotier_testkit::minter()
        .mint(
            "alice",
            PROVIDER,
            &[twotier_platform::auth::Role::GlobalAdmin],
            None,
            std::time::Duration::from_secs(600),
        )
        .expect("mint");
    let invitation = h
        .system
        .partnerships(&no_email)
        .request_partnership(ppb::RequestPartnershipRequest {
            parent: format!("providers/{PROVIDER}"),
            reseller_email: "admin@fabrikam.example".into(),
            language_code: "en".into(),
            request_id: String::new(),
        })
        .await
        .expect("invite")
        .into_inner();
    h.accept(&invitation).await;

    twotier_testkit::wait_until("the acceptance is on record", DEADLINE, || async {
        !h.all_notifications().await.is_empty()
    })
    .await;
    let notifications = h.all_notifications().await;
    assert_eq!(notifications.len(), 1, "{notifications:?}");
    let recorded = &notifications[0];
    assert_eq!(recorded.template, "partnership_accepted");
    assert_eq!(recorded.recipient, "");
    assert_eq!(recorded.status, pb::NotificationStatus::Failed as i32);
    assert_eq!(recorded.attempts, 0);
    assert!(recorded.next_attempt_time.is_none());
    assert!(
        recorded.last_error.contains("no recipient address"),
        "{}",
        recorded.last_error
    );
    assert!(sink.messages().is_empty(), "nothing was sent");
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
    let order = h.ordered_through_reseller().await;
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
    // Fabrikam is reseller of record from the order already: naming it
    // again would change nothing and email no one (R25), so it is cleared
    // (which tells no one) and named again.
    let cleared = subscriptions
        .change_reseller_of_record(spb::ChangeResellerOfRecordRequest {
            name: subscription.name.clone(),
            reseller_partner_id: String::new(),
            etag: supported.etag,
        })
        .await
        .expect("cleared")
        .into_inner();
    subscriptions
        .change_reseller_of_record(spb::ChangeResellerOfRecordRequest {
            name: subscription.name.clone(),
            reseller_partner_id: RESELLER.into(),
            etag: cleared.etag,
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
async fn resellers_of_record_sharing_an_address_each_get_their_order_email() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).await;
    let h = start(sink.port()).await;
    h.onboard("en").await;
    let invitation = h.invite().await;
    h.accept(&invitation).await;
    // A second reseller whose contact address is Fabrikam's.
    ResellerServiceClient::with_interceptor(
        h.channel("partnership"),
        Bearer::new(&twotier_testkit::operator()),
    )
    .onboard_reseller(ppb::OnboardResellerRequest {
        reseller: Some(ppb::Reseller {
            partner_id: "7654321".into(),
            tenant_id: "fabrikam-east".into(),
            company_name: "Fabrikam East".into(),
            contact_email: "admin@fabrikam.example".into(),
            country_code: "DE".into(),
            preferred_language: "en".into(),
            account_kind: ppb::AccountKind::Location.into(),
            mpa_active: true,
            ..Default::default()
        }),
        request_id: String::new(),
    })
    .await
    .expect("onboard the second reseller");
    let customer = h.customer_for_reseller().await;
    flows::buy(
        h.channel("subscription"),
        PROVIDER,
        &customer,
        vec![
            flows::line("m365-business-premium", 12, RESELLER),
            flows::line("m365-e5", 3, "7654321"),
        ],
    )
    .await;
    // accepted + customer created + order (provider) + order (each reseller)
    let emails = wait_for_emails(&sink, 5).await;
    let to_resellers: Vec<_> = emails
        .iter()
        .filter(|e| e.to == "admin@fabrikam.example" && e.subject.contains("reseller of record"))
        .collect();
    assert_eq!(to_resellers.len(), 2, "{emails:#?}");
    for partner_id in [RESELLER, "7654321"] {
        assert!(
            to_resellers.iter().any(|e| e.body.contains(partner_id)),
            "{partner_id} has its own email"
        );
    }
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
