//! R21 through gRPC: the delivery record lists notifications by recipient,
//! event type and status, in pages, and shows each tenant only its own;
//! reseller admins may not list them.

mod common;

use common::*;
use tonic::Code;
use twotier_platform::auth::Role;
use twotier_proto::notification as pb;
use twotier_testkit::{SmtpSink, assert_error};

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
