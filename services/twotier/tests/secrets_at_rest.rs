//! Live secrets stay where they belong. An invitation token (R4) and a
//! reseller relationship token (R22) are readable in the response to the
//! provider that asked for them and in the email to the invitee or the
//! customer's admin, and a temporary password in the first response only: this test
//! runs the whole system (each service its own process, logging at trace
//! level), follows every event log as a service, reads every table of
//! every database and every log line, and finds neither.

mod common;

use std::time::Duration;

use common::System;
use tonic::transport::Channel;
use twotier_platform::auth::Role;
use twotier_proto::customer as cpb;
use twotier_proto::customer::customer_service_client::CustomerServiceClient;
use twotier_proto::events::SubscribeRequest;
use twotier_proto::events::event_log_service_client::EventLogServiceClient;
use twotier_proto::partnership as ppb;
use twotier_proto::partnership::partnership_service_client::PartnershipServiceClient;
use twotier_proto::partnership::reseller_service_client::ResellerServiceClient;
use twotier_testkit::Bearer;
use twotier_testkit::secrets::{contains, database_contents};

const DEADLINE: Duration = Duration::from_secs(60);

fn bearer(subject: &str, tenant: &str, role: Role) -> Bearer {
    Bearer::new(&twotier_testkit::token(subject, tenant, &[role]))
}

/// Every event the service behind `channel` has logged.
async fn whole_log(channel: Channel) -> Vec<u8> {
    let mut log = EventLogServiceClient::with_interceptor(
        channel,
        Bearer::new(&twotier_testkit::service_token("auditor")),
    );
    let head = log
        .get_log_head(twotier_proto::events::GetLogHeadRequest {})
        .await
        .expect("log head")
        .into_inner()
        .head_position;
    let mut stream = log
        .subscribe(SubscribeRequest::default())
        .await
        .expect("subscribe")
        .into_inner();
    let mut bytes = Vec::new();
    let mut position = 0;
    while position < head {
        let event = tokio::time::timeout(DEADLINE, stream.message())
            .await
            .expect("events arrive")
            .expect("stream")
            .expect("open");
        position = event.position;
        bytes.extend(prost::Message::encode_to_vec(&event));
    }
    bytes
}

/// A customer of Contoso with domain prefix `prefix`, for `reseller` unless
/// it is empty.
fn new_customer(prefix: &str, reseller: &str) -> cpb::CreateCustomerRequest {
    cpb::CreateCustomerRequest {
        parent: "providers/contoso".into(),
        customer: Some(cpb::Customer {
            company_name: format!("{prefix} Ltd"),
            domain_prefix: prefix.into(),
            language_code: "en".into(),
            indirect_reseller_partner_id: reseller.into(),
            address: Some(cpb::Address {
                address_line1: "1 Main St".into(),
                city: "Berlin".into(),
                postal_code: "10115".into(),
                country_code: "DE".into(),
                ..Default::default()
            }),
            primary_contact: Some(cpb::Contact {
                first_name: "Pat".into(),
                last_name: "Doe".into(),
                email: format!("pat@{prefix}.example"),
                phone: String::new(),
            }),
            ..Default::default()
        }),
        validate_only: false,
        request_id: prefix.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_tokens_and_passwords_rest_nowhere_but_in_their_response_and_email() {
    let system = System::start_with(1, &[("RUST_LOG", "trace")]).await;
    let provider = bearer("alice", "contoso", Role::GlobalAdmin);
    let partnership = system.channel("partnership", 0);
    ResellerServiceClient::with_interceptor(
        partnership.clone(),
        bearer("operator", "twotier", Role::PlatformOperator),
    )
    .onboard_reseller(ppb::OnboardResellerRequest {
        reseller: Some(ppb::Reseller {
            partner_id: "4567890".into(),
            tenant_id: "fabrikam".into(),
            company_name: "Fabrikam".into(),
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
    .expect("onboard");

    // The provider asks for an invitation (and retries), then has it sent
    // (and retries that too).
    let mut partnerships =
        PartnershipServiceClient::with_interceptor(partnership.clone(), provider.clone());
    let invite = ppb::RequestPartnershipRequest {
        parent: "providers/contoso".into(),
        reseller_email: "admin@fabrikam.example".into(),
        language_code: "en".into(),
        request_id: "invite-fabrikam".into(),
    };
    let invitation = partnerships
        .request_partnership(invite.clone())
        .await
        .expect("invite")
        .into_inner();
    let replayed = partnerships
        .request_partnership(invite)
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(replayed, invitation, "a retry answers the same link");
    let link = invitation.invitation_link.clone();
    let token = link.split("token=").nth(1).expect("token").to_owned();
    let send = ppb::SendInvitationEmailRequest {
        invitation: invitation.invitation.clone().expect("invitation").name,
        subject: "Let's partner".into(),
        body: format!("Hello Fabrikam,\n\nplease accept: {link}\n\nAlice"),
        request_id: "send-fabrikam".into(),
    };
    partnerships
        .send_invitation_email(send.clone())
        .await
        .expect("send");
    partnerships
        .send_invitation_email(send)
        .await
        .expect("send retry");
    twotier_testkit::wait_until("the invitation email", DEADLINE, || async {
        system
            .smtp
            .messages()
            .iter()
            .any(|message| contains(message, &token))
    })
    .await;

    // The reseller accepts; the provider creates a customer for it.
    PartnershipServiceClient::with_interceptor(
        partnership.clone(),
        bearer("rita", "fabrikam", Role::ResellerAdmin),
    )
    .accept_invitation(ppb::AcceptInvitationRequest {
        token: token.clone(),
    })
    .await
    .expect("accept");
    let mut customers =
        CustomerServiceClient::with_interceptor(system.channel("customer", 0), provider.clone());
    let created = customers
        .create_customer(new_customer("adatum", "4567890"))
        .await
        .expect("customer")
        .into_inner();
    let password = created
        .admin_credentials
        .expect("credentials")
        .temporary_password;

    // R22: the provider asks the admin of another customer to let the
    // reseller administer it (and retries), has it sent (and retries), and
    // the customer's admin accepts.
    let tailspin = customers
        .create_customer(new_customer("tailspin", ""))
        .await
        .expect("customer")
        .into_inner()
        .customer
        .expect("customer");
    let ask = cpb::RequestResellerRelationshipRequest {
        parent: tailspin.name,
        partner_id: "4567890".into(),
        request_id: "relate-tailspin".into(),
        ..Default::default()
    };
    let requested = customers
        .request_reseller_relationship(ask.clone())
        .await
        .expect("request relationship")
        .into_inner();
    let replayed = customers
        .request_reseller_relationship(ask)
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(replayed, requested, "a retry answers the same link");
    let relationship_link = requested.relationship_link.clone();
    let relationship_token = relationship_link
        .split("token=")
        .nth(1)
        .expect("token")
        .to_owned();
    let send = cpb::SendResellerRelationshipEmailRequest {
        reseller_relationship_request: requested
            .reseller_relationship_request
            .clone()
            .expect("request")
            .name,
        subject: "Fabrikam for Tailspin".into(),
        body: format!("Dear admin,\n\nplease consent: {relationship_link}\n\nAlice"),
        request_id: "send-tailspin".into(),
    };
    customers
        .send_reseller_relationship_email(send.clone())
        .await
        .expect("send");
    customers
        .send_reseller_relationship_email(send)
        .await
        .expect("send retry");
    twotier_testkit::wait_until("the relationship email", DEADLINE, || async {
        system
            .smtp
            .messages()
            .iter()
            .any(|message| contains(message, &relationship_token))
    })
    .await;
    CustomerServiceClient::with_interceptor(
        system.channel("customer", 0),
        bearer("carla", "tailspin.onmicrosoft.com", Role::CustomerAdmin),
    )
    .accept_reseller_relationship(cpb::AcceptResellerRelationshipRequest {
        token: relationship_token.clone(),
    })
    .await
    .expect("accept relationship");

    // Every email the flow causes has gone out: invitation, partnership
    // accepted, customer created, relationship request, relationship
    // accepted (reseller and provider).
    twotier_testkit::wait_until("six emails", DEADLINE, || async {
        system.smtp.messages().len() >= 6
    })
    .await;

    let mut logs = Vec::new();
    for service in ["partnership", "customer", "subscription"] {
        logs.push((
            format!("{service} event log"),
            whole_log(system.channel(service, 0)).await,
        ));
    }
    for (service, db) in &system.databases {
        logs.push((format!("{service} database"), database_contents(db).await));
    }
    for process in &system.processes {
        logs.push((
            format!("{} log", process.service),
            process.log().into_bytes(),
        ));
    }
    let (_, partnership_log) = &logs[0];
    assert!(
        contains(partnership_log, "please accept"),
        "the search sees the invitation email request"
    );
    let (_, customer_log) = &logs[1];
    assert!(
        contains(customer_log, "please consent"),
        "the search sees the relationship email request"
    );
    assert!(
        logs.iter()
            .any(|(what, text)| what.ends_with(" log") && contains(text, "TRACE")),
        "the services logged at trace level"
    );
    for (what, text) in &logs {
        assert!(
            !contains(text, &token),
            "the {what} holds the invitation token"
        );
        assert!(!contains(text, &password), "the {what} holds the password");
        assert!(
            !contains(text, &relationship_token),
            "the {what} holds the relationship token"
        );
    }
}
