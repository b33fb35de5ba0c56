//! R22 end to end, across all four services and a real SMTP server: the
//! reseller relationship request the provider asks to send reaches the
//! customer's admin with its working link (no other record holds the
//! token), and the customer admin's acceptance is told to the reseller (in
//! its language) and to the provider user who asked.

mod common;

use common::*;
use twotier_platform::auth::Role;
use twotier_proto::customer as cpb;
use twotier_testkit::{SmtpSink, flows};

#[tokio::test]
async fn r22_the_request_reaches_the_customer_admin_and_the_acceptance_the_reseller_and_provider() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).await;
    let h = start(sink.port()).await;
    h.list_provider("en").await;
    h.onboard("de").await;
    let invitation = h.invite().await;
    h.accept(&invitation).await;
    // partnership accepted
    wait_for_emails(&sink, 1).await;
    let customer = flows::customer(h.channel("customer"), PROVIDER, "adatum", "", false).await;

    let mut customers = h.customers();
    let requested = customers
        .request_reseller_relationship(cpb::RequestResellerRelationshipRequest {
            parent: customer.clone(),
            partner_id: RESELLER.into(),
            language_code: "en".into(),
            ..Default::default()
        })
        .await
        .expect("request")
        .into_inner();
    let link = requested.relationship_link.clone();
    let token = flows::token_of(&link);
    customers
        .send_reseller_relationship_email(cpb::SendResellerRelationshipEmailRequest {
            reseller_relationship_request: requested
                .reseller_relationship_request
                .clone()
                .unwrap()
                .name,
            subject: String::new(),
            body: format!("Dear admin,\n\nplease accept: {link}\n\nAlice"),
            request_id: String::new(),
        })
        .await
        .expect("send");
    let emails = wait_for_emails(&sink, 2).await;
    let request_email = &emails[1];
    assert_eq!(request_email.to, "admin@adatum.onmicrosoft.com");
    assert!(request_email.body.contains(&link), "the working link");
    assert!(
        request_email.subject.contains("Fabrikam GmbH"),
        "{}",
        request_email.subject
    );

    let admin = twotier_testkit::token("carla", "adatum.onmicrosoft.com", &[Role::CustomerAdmin]);
    h.system
        .customers(&admin)
        .accept_reseller_relationship(cpb::AcceptResellerRelationshipRequest {
            token: token.clone(),
        })
        .await
        .expect("accept");
    let emails = wait_for_emails(&sink, 4).await;
    let to_reseller = emails
        .iter()
        .find(|e| e.to == "admin@fabrikam.example")
        .expect("the reseller is told");
    assert!(
        to_reseller.subject.contains("adatum Ltd"),
        "{}",
        to_reseller.subject
    );
    assert!(
        to_reseller.subject.contains("Verwaltung"),
        "in the reseller's German: {}",
        to_reseller.subject
    );
    let to_provider: Vec<_> = emails
        .iter()
        .filter(|e| e.to == "alice@contoso.example")
        .collect();
    assert_eq!(
        to_provider.len(),
        2,
        "partnership and relationship accepted"
    );
    assert!(
        to_provider[1].subject.contains("accepted Fabrikam GmbH"),
        "{}",
        to_provider[1].subject
    );

    let mut templates: Vec<_> = h
        .all_notifications()
        .await
        .into_iter()
        .map(|n| n.template)
        .collect();
    templates.sort();
    assert_eq!(
        templates,
        [
            "partnership_accepted",
            "reseller_relationship_accepted",
            "reseller_relationship_accepted_provider",
            "reseller_relationship_request",
        ]
    );
    let recorded = format!("{:?}", h.all_notifications().await);
    assert!(!recorded.contains(&token), "no record shows the token");
}
