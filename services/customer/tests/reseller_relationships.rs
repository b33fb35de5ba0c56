//! R22 through gRPC: a provider asks an existing customer's admin to let
//! one of its resellers administer it; the customer's admin accepts with
//! the token and the reseller reads the customer (R9's effects); unknown,
//! revoked, used and expired links fail as R5 says; sending needs the exact
//! link. R23 (ending it) is in `delegated_admin_relationships.rs`, R24 (a
//! reseller failing R3) in `reseller_eligibility.rs`.

mod common;

use std::time::Duration;

use common::*;
use prost::{Message, Name};
use tonic::Code;
use twotier_proto::customer as pb;
use twotier_testkit::{assert_error, wait_until};

const DOMAIN: &str = "adatum.onmicrosoft.com";

#[tokio::test]
async fn r22_the_customer_admin_accepts_and_the_reseller_then_reads_the_customer() {
    let h = start().await;
    let adatum = partnered_with_customer(&h).await;
    let mut provider = h.customers(&provider_admin(PROVIDER));
    let mut reseller = h.customers(&reseller_admin(RESELLER_TENANT));
    let get = || pb::GetCustomerRequest {
        name: adatum.name.clone(),
    };
    assert_error(
        reseller.get_customer(get()).await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );

    let requested = provider
        .request_reseller_relationship(relationship(&adatum.name, RESELLER))
        .await
        .expect("request")
        .into_inner();
    let token = token_of(&requested);
    assert!(token.len() >= 43, "an unguessable token");
    let request = requested.reseller_relationship_request.clone().unwrap();
    assert_eq!(
        request.state,
        pb::ResellerRelationshipRequestState::Pending as i32
    );
    assert_eq!(request.customer, adatum.name);
    assert_eq!(request.customer_admin_email, "admin@adatum.onmicrosoft.com");
    assert_eq!(request.language_code, "de", "the customer's language");
    let draft = requested.email_draft.clone().unwrap();
    assert_eq!(draft.to, "admin@adatum.onmicrosoft.com");
    assert!(draft.body.contains(&requested.relationship_link));
    assert!(
        draft
            .mailto_uri
            .starts_with("mailto:admin@adatum.onmicrosoft.com?subject=")
    );
    assert!(draft.plain_text.contains(&requested.relationship_link));

    // Only an admin of this customer opens it; to anyone else it is unknown.
    let mut other_admin = h.customers(&customer_admin("northwind.onmicrosoft.com"));
    assert_error(
        other_admin
            .accept_reseller_relationship(accept(&token))
            .await,
        Code::NotFound,
        "RELATIONSHIP_REQUEST_NOT_FOUND",
    );
    assert_error(
        reseller.accept_reseller_relationship(accept(&token)).await,
        Code::PermissionDenied,
        "ROLE_NOT_ALLOWED",
    );
    let mut admin = h.customers(&customer_admin(DOMAIN));
    assert_error(
        admin
            .accept_reseller_relationship(accept("unknown-token-0123456789"))
            .await,
        Code::NotFound,
        "RELATIONSHIP_REQUEST_NOT_FOUND",
    );
    let granted = admin
        .accept_reseller_relationship(accept(&token))
        .await
        .expect("accept")
        .into_inner();
    assert_eq!(
        granted.name,
        format!("{}/delegatedAdminRelationships/{RESELLER}", adatum.name)
    );
    assert_eq!(granted.scopes.len(), 2, "account and subscriptions");
    let again = admin
        .accept_reseller_relationship(accept(&token))
        .await
        .expect("accepting again answers the relationship")
        .into_inner();
    assert_eq!(again, granted);
    // Its tenant as an identity provider may spell it: domain names are
    // case-insensitive.
    let spelled_otherwise = h
        .customers(&customer_admin(&DOMAIN.to_uppercase()))
        .accept_reseller_relationship(accept(&token))
        .await
        .expect("the same admin's tenant in capitals")
        .into_inner();
    assert_eq!(spelled_otherwise, granted);

    // R9's effects: the reseller reads and lists the customer.
    let read = reseller
        .get_customer(get())
        .await
        .expect("delegated")
        .into_inner();
    assert_eq!(read.indirect_reseller_partner_id, RESELLER);
    assert_ne!(read.etag, adatum.etag, "a new version");
    let listed = reseller
        .list_reseller_customers(pb::ListResellerCustomersRequest {
            parent: format!("resellers/{RESELLER}"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .customers;
    assert_eq!(listed, vec![read]);
    let state = provider
        .get_reseller_relationship_request(pb::GetResellerRelationshipRequestRequest {
            name: request.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        state.state,
        pb::ResellerRelationshipRequestState::Accepted as i32
    );
    assert_eq!(state.accepted_by, "carla");

    // The events tell the grant and the acceptance, never the token.
    let events = h.events(4).await;
    let types: Vec<_> = events.iter().map(|e| e.event_type.as_str()).collect();
    for expected in [
        pb::ResellerRelationshipRequested::full_name(),
        pb::DelegatedAdminGranted::full_name(),
        pb::ResellerRelationshipAccepted::full_name(),
    ] {
        assert!(types.contains(&expected.as_str()), "{types:?}");
    }
    for event in &events {
        let bytes = event.encode_to_vec();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "{} holds the token",
            event.event_type
        );
    }
}

#[tokio::test]
async fn r22_revoked_and_expired_links_fail_distinctly() {
    let h = start_with(&[("TWOTIER_RELATIONSHIP_TTL", "3s")]).await;
    let adatum = partnered_with_customer(&h).await;
    let mut provider = h.customers(&provider_admin(PROVIDER));
    let mut admin = h.customers(&customer_admin(DOMAIN));

    let revoked = h.ask(PROVIDER, &adatum.name, RESELLER).await;
    let name = revoked.reseller_relationship_request.clone().unwrap().name;
    let revoke = pb::RevokeResellerRelationshipRequestRequest { name: name.clone() };
    let closed = provider
        .revoke_reseller_relationship_request(revoke.clone())
        .await
        .expect("revoke")
        .into_inner();
    assert_eq!(
        closed.state,
        pb::ResellerRelationshipRequestState::Revoked as i32
    );
    assert_error(
        provider.revoke_reseller_relationship_request(revoke).await,
        Code::FailedPrecondition,
        "RELATIONSHIP_REQUEST_NOT_PENDING",
    );
    assert_error(
        admin
            .accept_reseller_relationship(accept(&token_of(&revoked)))
            .await,
        Code::FailedPrecondition,
        "RELATIONSHIP_REQUEST_REVOKED",
    );

    let expiring = h.ask(PROVIDER, &adatum.name, RESELLER).await;
    let listed = provider
        .list_reseller_relationship_requests(pb::ListResellerRelationshipRequestsRequest {
            parent: adatum.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .reseller_relationship_requests;
    assert_eq!(listed.len(), 2, "newest first");
    assert_eq!(listed[1].name, name);
    let expiring_request = expiring.reseller_relationship_request.clone().unwrap();
    let lifetime = expiring_request.expire_time.unwrap().seconds
        - expiring_request.create_time.unwrap().seconds;
    assert!(
        (2..=3).contains(&lifetime),
        "the configured TTL: {lifetime}s"
    );
    let expiring_token = token_of(&expiring);
    // Expiry is the clock's: the request reads as expired, and so its link
    // fails (an acceptance attempted before would have succeeded).
    let get = pb::GetResellerRelationshipRequestRequest {
        name: expiring_request.name.clone(),
    };
    wait_until("the link expires", Duration::from_secs(20), || {
        let mut provider = provider.clone();
        let get = get.clone();
        async move {
            provider
                .get_reseller_relationship_request(get)
                .await
                .is_ok_and(|read| {
                    read.into_inner().state == pb::ResellerRelationshipRequestState::Expired as i32
                })
        }
    })
    .await;
    assert_error(
        admin
            .accept_reseller_relationship(accept(&expiring_token))
            .await,
        Code::FailedPrecondition,
        "RELATIONSHIP_REQUEST_EXPIRED",
    );
}

#[tokio::test]
async fn r22_sending_needs_the_exact_link_and_goes_to_the_customer_admin() {
    let h = start().await;
    let adatum = partnered_with_customer(&h).await;
    let mut provider = h.customers(&provider_admin(PROVIDER));
    let requested = provider
        .request_reseller_relationship(pb::RequestResellerRelationshipRequest {
            customer_admin_email: "it@adatum.example".into(),
            language_code: "en".into(),
            ..relationship(&adatum.name, RESELLER)
        })
        .await
        .expect("request")
        .into_inner();
    let name = requested
        .reseller_relationship_request
        .clone()
        .unwrap()
        .name;
    let token = token_of(&requested);
    let send = |body: String| pb::SendResellerRelationshipEmailRequest {
        reseller_relationship_request: name.clone(),
        subject: String::new(),
        body,
        request_id: String::new(),
    };
    for body in [
        format!("only the token {token}"),
        String::new(),
        "   ".into(),
    ] {
        let status = assert_error(
            provider.send_reseller_relationship_email(send(body)).await,
            Code::InvalidArgument,
            "RELATIONSHIP_LINK_MISSING",
        );
        assert_eq!(twotier_testkit::violated_fields(&status), ["body"]);
    }
    let status = assert_error(
        provider
            .send_reseller_relationship_email(pb::SendResellerRelationshipEmailRequest {
                subject: format!("Accept {}", requested.relationship_link),
                ..send(requested.relationship_link.clone())
            })
            .await,
        Code::InvalidArgument,
        "RELATIONSHIP_LINK_IN_SUBJECT",
    );
    assert_eq!(twotier_testkit::violated_fields(&status), ["subject"]);
    let sent = provider
        .send_reseller_relationship_email(send(format!(
            "Dear admin, please accept: {}",
            requested.relationship_link
        )))
        .await
        .expect("send")
        .into_inner();
    assert_eq!(sent.to, "it@adatum.example");
    assert!(sent.subject.contains("Fabrikam"), "{}", sent.subject);
    // Another provider's request does not exist for it.
    assert_error(
        h.customers(&provider_admin(OTHER_PROVIDER))
            .send_reseller_relationship_email(send(requested.relationship_link.clone()))
            .await,
        Code::NotFound,
        "PROVIDER_NOT_FOUND",
    );
}

#[tokio::test]
async fn r22_concurrent_acceptances_of_one_link_all_answer_the_one_relationship() {
    let h = start().await;
    let adatum = partnered_with_customer(&h).await;
    let requested = h
        .customers(&provider_admin(PROVIDER))
        .request_reseller_relationship(relationship(&adatum.name, RESELLER))
        .await
        .expect("request")
        .into_inner();
    let token = token_of(&requested);
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let mut admin = h.customers(&customer_admin(DOMAIN));
            let token = token.clone();
            tokio::spawn(async move {
                admin
                    .accept_reseller_relationship(accept(&token))
                    .await
                    .map(|answer| answer.into_inner().name)
            })
        })
        .collect();
    let mut names = Vec::new();
    for attempt in attempts {
        names.push(
            attempt
                .await
                .expect("attempt")
                .expect("every attempt answers with the relationship"),
        );
    }
    names.dedup();
    assert_eq!(
        names,
        vec![format!(
            "{}/delegatedAdminRelationships/{RESELLER}",
            adatum.name
        )]
    );
}

#[tokio::test]
async fn r22_a_second_link_accepted_while_delegated_cannot_delegate_again_after_r23() {
    let h = start().await;
    let adatum = partnered_with_customer(&h).await;
    let mut provider = h.customers(&provider_admin(PROVIDER));
    let first = provider
        .request_reseller_relationship(relationship(&adatum.name, RESELLER))
        .await
        .expect("first request")
        .into_inner();
    let second = provider
        .request_reseller_relationship(relationship(&adatum.name, RESELLER))
        .await
        .expect("second request, while the first is pending")
        .into_inner();
    let third = provider
        .request_reseller_relationship(relationship(&adatum.name, RESELLER))
        .await
        .expect("third request")
        .into_inner();
    let mut admin = h.customers(&customer_admin(DOMAIN));
    let granted = admin
        .accept_reseller_relationship(accept(&token_of(&first)))
        .await
        .expect("accept the first")
        .into_inner();
    // A revoked link stays revoked, delegated or not.
    provider
        .revoke_reseller_relationship_request(pb::RevokeResellerRelationshipRequestRequest {
            name: third.reseller_relationship_request.clone().unwrap().name,
        })
        .await
        .expect("revoke the third");
    assert_error(
        admin
            .accept_reseller_relationship(accept(&token_of(&third)))
            .await,
        Code::FailedPrecondition,
        "RELATIONSHIP_REQUEST_REVOKED",
    );
    let answered = admin
        .accept_reseller_relationship(accept(&token_of(&second)))
        .await
        .expect("the second answers the relationship")
        .into_inner();
    assert_eq!(answered, granted);
    let used = provider
        .get_reseller_relationship_request(pb::GetResellerRelationshipRequestRequest {
            name: second.reseller_relationship_request.clone().unwrap().name,
        })
        .await
        .expect("read the second")
        .into_inner();
    assert_eq!(
        used.state,
        pb::ResellerRelationshipRequestState::Accepted as i32
    );

    provider
        .end_delegated_admin_relationship(pb::EndDelegatedAdminRelationshipRequest {
            name: granted.name.clone(),
            confirm: true,
        })
        .await
        .expect("R23: end it");
    assert_error(
        admin
            .accept_reseller_relationship(accept(&token_of(&second)))
            .await,
        Code::FailedPrecondition,
        "RELATIONSHIP_REQUEST_ALREADY_USED",
    );
}

/// Two links to the same reseller accepted at the same time: both answer
/// the one relationship, and both are used up, so neither can delegate the
/// customer again after that relationship ends (R22, R23).
#[tokio::test]
async fn r22_two_links_accepted_at_once_answer_one_relationship_and_are_both_used_up() {
    let h = start().await;
    let adatum = partnered_with_customer(&h).await;
    for round in 0..3 {
        let links = [
            h.ask(PROVIDER, &adatum.name, RESELLER).await,
            h.ask(PROVIDER, &adatum.name, RESELLER).await,
        ];
        let acceptances: Vec<_> = links
            .iter()
            .map(|link| {
                let mut admin = h.customers(&customer_admin("adatum.onmicrosoft.com"));
                let request = accept(&token_of(link));
                tokio::spawn(async move { admin.accept_reseller_relationship(request).await })
            })
            .collect();
        let mut answers = Vec::new();
        for acceptance in acceptances {
            let answer = acceptance.await.expect("joined");
            answers.push(answer.expect("both acceptances answer").into_inner().name);
        }
        assert_eq!(answers[0], answers[1], "round {round}: one relationship");
        for link in &links {
            let request = h
                .customers(&provider_admin(PROVIDER))
                .get_reseller_relationship_request(pb::GetResellerRelationshipRequestRequest {
                    name: link.reseller_relationship_request.clone().unwrap().name,
                })
                .await
                .expect("request")
                .into_inner();
            assert_eq!(
                request.state(),
                pb::ResellerRelationshipRequestState::Accepted,
                "round {round}: every link accepted is used up"
            );
        }
        h.customers(&provider_admin(PROVIDER))
            .end_delegated_admin_relationship(pb::EndDelegatedAdminRelationshipRequest {
                name: answers[0].clone(),
                confirm: true,
            })
            .await
            .expect("ended");
    }
}

/// R22 as R4: the draft names the provider as its listing does, and by its
/// tenant id only while it has none. A listing created a moment before the
/// request is found (the request catches up with the partnership log to
/// choose its reseller), and a subject left empty when sending is the
/// draft's, with the same name.
#[tokio::test]
async fn r22_the_draft_names_the_provider_as_its_listing_does() {
    let h = start().await;
    let adatum = partnered_with_customer(&h).await;
    let mut provider = h.customers(&provider_admin(PROVIDER));
    let unlisted = provider
        .request_reseller_relationship(relationship(&adatum.name, RESELLER))
        .await
        .expect("request")
        .into_inner();
    let subject = unlisted.email_draft.unwrap().subject;
    assert!(subject.starts_with("contoso "), "{subject}");

    twotier_testkit::flows::list_provider(
        h.channel("partnership"),
        PROVIDER,
        "Contoso Distribution",
        "de",
    )
    .await;
    let listed = provider
        .request_reseller_relationship(relationship(&adatum.name, RESELLER))
        .await
        .expect("request")
        .into_inner();
    let draft = listed.email_draft.clone().unwrap();
    assert!(
        draft.subject.starts_with("Contoso Distribution "),
        "{}",
        draft.subject
    );
    assert!(
        draft.body.trim_end().ends_with("Contoso Distribution"),
        "signed by the listed name: {}",
        draft.body
    );
    let sent = provider
        .send_reseller_relationship_email(pb::SendResellerRelationshipEmailRequest {
            reseller_relationship_request: listed.reseller_relationship_request.unwrap().name,
            subject: String::new(),
            body: listed.relationship_link.clone(),
            request_id: String::new(),
        })
        .await
        .expect("send")
        .into_inner();
    assert_eq!(sent.subject, draft.subject);
}
