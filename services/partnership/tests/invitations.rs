//! R4 (request partnership: link and email draft) through gRPC: each
//! invitation has its own personal link and a draft with it, requests are
//! validated and idempotent, and sending the invitation email needs this
//! invitation's exact link in the body and is rate-limited per provider.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::partnership as pb;
use twotier_testkit::{assert_error, violated_fields};

#[tokio::test]
async fn request_partnership_returns_a_personal_link_and_a_draft_with_it() {
    let h = start().await;
    let response = h.invite(PROVIDER, "sales@fabrikam.example").await;
    let invitation = response.invitation.clone().unwrap();
    assert!(
        invitation
            .name
            .starts_with("providers/contoso/invitations/")
    );
    assert_eq!(invitation.state, pb::InvitationState::Pending as i32);
    assert_eq!(invitation.reseller_email, "sales@fabrikam.example");
    let link = &response.invitation_link;
    assert!(link.starts_with("https://partners.twotier.example/invitations/accept?token="));
    assert!(token_of(link).len() >= 43, "an unguessable token");
    let draft = response.email_draft.unwrap();
    assert_eq!(draft.to, "sales@fabrikam.example");
    assert!(draft.body.contains(link));
    assert!(draft.plain_text.contains(link) && draft.plain_text.contains(&draft.subject));
    assert!(
        draft
            .mailto_uri
            .starts_with("mailto:sales@fabrikam.example?subject=")
    );
    assert!(draft.mailto_uri.contains("&body="));

    // Each invitation has its own token.
    let other = h.invite(PROVIDER, "sales@fabrikam.example").await;
    assert_ne!(token_of(&other.invitation_link), token_of(link));

    // German draft on request.
    let german = h
        .partnerships(&provider_admin(PROVIDER))
        .request_partnership(pb::RequestPartnershipRequest {
            parent: "providers/contoso".into(),
            reseller_email: "vertrieb@fabrikam.example".into(),
            language_code: "de".into(),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(german.email_draft.unwrap().body.contains("Guten Tag"));
    let events = h.events(3).await;
    assert_eq!(
        event_types(&events),
        vec!["twotier.partnership.v1.InvitationCreated"; 3]
    );
    let payload = events[0].payload.as_ref().unwrap();
    assert!(
        !String::from_utf8_lossy(&payload.value).contains(&token_of(link)),
        "events never carry the token"
    );
}

#[tokio::test]
async fn invitation_request_is_validated_and_idempotent() {
    let h = start().await;
    let mut client = h.partnerships(&provider_admin(PROVIDER));
    let bad = pb::RequestPartnershipRequest {
        parent: "providers/contoso".into(),
        reseller_email: "not an email".into(),
        language_code: "fr".into(),
        request_id: String::new(),
    };
    let status = assert_error(
        client.request_partnership(bad).await,
        Code::InvalidArgument,
        "INVALID_INVITATION",
    );
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(fields, vec!["language_code", "reseller_email"]);

    let request = pb::RequestPartnershipRequest {
        parent: "providers/contoso".into(),
        reseller_email: "sales@fabrikam.example".into(),
        language_code: String::new(),
        request_id: "invite-fabrikam".into(),
    };
    let first = client
        .request_partnership(request.clone())
        .await
        .unwrap()
        .into_inner();
    let retry = client
        .request_partnership(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, retry, "a retry returns the same invitation and link");
    let listed = client
        .list_invitations(pb::ListInvitationsRequest {
            parent: "providers/contoso".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.invitations.len(), 1, "only one invitation exists");
}

#[tokio::test]
async fn send_invitation_email_requires_the_link_in_the_body() {
    let h = start().await;
    let response = h.invite(PROVIDER, "sales@fabrikam.example").await;
    let invitation = response.invitation.unwrap().name;
    let draft = response.email_draft.unwrap();
    let mut client = h.partnerships(&provider_admin(PROVIDER));

    let status = assert_error(
        client
            .send_invitation_email(pb::SendInvitationEmailRequest {
                invitation: invitation.clone(),
                subject: draft.subject.clone(),
                body: "Hi, let's partner! (I forgot the link)".into(),
                request_id: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "INVITATION_LINK_MISSING",
    );
    assert_eq!(violated_fields(&status), vec!["body"]);
    // A link of another invitation is not this invitation's link.
    let other = h.invite(PROVIDER, "x@y.example").await;
    assert_error(
        client
            .send_invitation_email(pb::SendInvitationEmailRequest {
                invitation: invitation.clone(),
                subject: String::new(),
                body: format!("Please open {}", other.invitation_link),
                request_id: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "INVITATION_LINK_MISSING",
    );

    let edited = format!(
        "Hallo Fabrikam,\n\nlet's work together: {}\n\nContoso",
        response.invitation_link
    );
    let sent = client
        .send_invitation_email(pb::SendInvitationEmailRequest {
            invitation: invitation.clone(),
            subject: "Partnership with Contoso".into(),
            body: edited.clone(),
            request_id: String::new(),
        })
        .await
        .expect("an edited body with the link is accepted")
        .into_inner();
    assert_eq!(sent.to, "sales@fabrikam.example");
    assert_eq!(sent.subject, "Partnership with Contoso");

    let events = h.events(3).await;
    let requested: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == "twotier.partnership.v1.InvitationEmailRequested")
        .collect();
    assert_eq!(
        requested.len(),
        1,
        "only the valid send produced an email request"
    );
    let payload: pb::InvitationEmailRequested =
        requested[0].payload.as_ref().unwrap().to_msg().unwrap();
    // The log never carries a live link: the token is replaced by a marker
    // that the mailer fills in when it sends.
    let token = token_of(&response.invitation_link);
    assert!(!payload.body.contains(&token));
    assert_eq!(
        payload.body,
        edited.replace(&token, twotier_platform::capability::TOKEN_MARKER)
    );
    assert_eq!(payload.to, "sales@fabrikam.example");
}

#[tokio::test]
async fn send_invitation_email_requires_the_exact_link_not_just_its_token() {
    let h = start().await;
    let response = h.invite(PROVIDER, "sales@fabrikam.example").await;
    let invitation = response.invitation.unwrap().name;
    let token = token_of(&response.invitation_link);
    let mut client = h.partnerships(&provider_admin(PROVIDER));
    for body in [
        // Nothing at all, or spaces only.
        String::new(),
        "   ".into(),
        format!("Open https://phishing.example/accept?token={token}"),
        format!("Your code: token={token}"),
        format!("{}x", response.invitation_link.replace(&token, "")),
        // The whole link run on into more characters: the reader's mail
        // program would open a token nobody issued.
        format!("Open {}abc", response.invitation_link),
        // Inside another address, where the click goes elsewhere.
        format!(
            "Open https://elsewhere.example/?u={}",
            response.invitation_link
        ),
    ] {
        let status = assert_error(
            client
                .send_invitation_email(pb::SendInvitationEmailRequest {
                    invitation: invitation.clone(),
                    subject: String::new(),
                    body,
                    request_id: String::new(),
                })
                .await,
            Code::InvalidArgument,
            "INVITATION_LINK_MISSING",
        );
        assert_eq!(violated_fields(&status), vec!["body"]);
    }
    // The subject is stored as written (only the body is sealed), so a
    // token there is refused rather than kept at rest.
    let status = assert_error(
        client
            .send_invitation_email(pb::SendInvitationEmailRequest {
                invitation: invitation.clone(),
                subject: format!("Join us: {}", response.invitation_link),
                body: response.invitation_link.clone(),
                request_id: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "INVITATION_LINK_IN_SUBJECT",
    );
    assert_eq!(violated_fields(&status), vec!["subject"]);
    // Markup around the exact link sets it apart as well as spaces do.
    client
        .send_invitation_email(pb::SendInvitationEmailRequest {
            invitation,
            subject: String::new(),
            body: format!("<p>Accept here:</p><p>{}</p>", response.invitation_link),
            request_id: String::new(),
        })
        .await
        .expect("an HTML body holding the exact link is sent");
}

#[tokio::test]
async fn a_retried_or_refused_invitation_email_uses_none_of_the_providers_budget() {
    let h = start_with(&[("TWOTIER_INVITATION_EMAILS_PER_MINUTE", "1")]).await;
    let mut client = h.partnerships(&provider_admin(PROVIDER));
    let first = h.invite(PROVIDER, "sales@fabrikam.example").await;
    let send = pb::SendInvitationEmailRequest {
        invitation: first.invitation.clone().unwrap().name,
        subject: String::new(),
        body: first.invitation_link.clone(),
        request_id: "send-once".into(),
    };
    let sent = client
        .send_invitation_email(send.clone())
        .await
        .expect("the one email of the minute")
        .into_inner();
    let retried = client
        .send_invitation_email(send)
        .await
        .expect("a retry is answered, not rate limited")
        .into_inner();
    assert_eq!(retried, sent);
    let second = h.invite(PROVIDER, "sales@tailspin.example").await;
    assert_error(
        client
            .send_invitation_email(pb::SendInvitationEmailRequest {
                invitation: second.invitation.clone().unwrap().name,
                subject: String::new(),
                body: "no link here".into(),
                request_id: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "INVITATION_LINK_MISSING",
    );
    assert_error(
        client
            .send_invitation_email(pb::SendInvitationEmailRequest {
                invitation: second.invitation.unwrap().name,
                subject: String::new(),
                body: second.invitation_link,
                request_id: String::new(),
            })
            .await,
        Code::ResourceExhausted,
        "INVITATION_EMAIL_RATE_LIMITED",
    );
}

#[tokio::test]
async fn invitation_emails_are_rate_limited_per_provider() {
    let h = start_with(&[("TWOTIER_INVITATION_EMAILS_PER_MINUTE", "2")]).await;
    let send = |provider: &'static str| {
        let h = &h;
        async move {
            let response = h.invite(provider, "sales@fabrikam.example").await;
            h.partnerships(&provider_admin(provider))
                .send_invitation_email(pb::SendInvitationEmailRequest {
                    invitation: response.invitation.unwrap().name,
                    subject: String::new(),
                    body: response.invitation_link,
                    request_id: String::new(),
                })
                .await
        }
    };
    send(PROVIDER).await.expect("first email");
    send(PROVIDER).await.expect("second email");
    let status = assert_error(
        send(PROVIDER).await,
        Code::ResourceExhausted,
        "INVITATION_EMAIL_RATE_LIMITED",
    );
    let retry = tonic_types::StatusExt::get_details_retry_info(&status)
        .and_then(|info| info.retry_delay)
        .expect("a retry delay");
    assert!(retry > std::time::Duration::ZERO && retry <= std::time::Duration::from_secs(60));
    send(OTHER_PROVIDER)
        .await
        .expect("another provider has its own budget");
    let events = h.events(1).await;
    let requested = events
        .iter()
        .filter(|e| e.event_type.ends_with("InvitationEmailRequested"))
        .count();
    assert_eq!(requested, 3, "the refused email was not queued");
}
