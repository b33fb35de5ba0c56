//! R4 (request partnership: link and email draft) and R5 (acceptance).

mod common;

use common::*;
use tonic::Code;
use twotier_proto::partnership as pb;
use twotier_testkit::{assert_error, violated_fields};

fn accept(token: &str) -> pb::AcceptInvitationRequest {
    pb::AcceptInvitationRequest {
        token: token.into(),
    }
}

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
async fn reseller_accepts_and_appears_in_the_providers_list() {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam GmbH")
        .await;
    let response = h.invite(PROVIDER, "admin@fabrikam.example").await;
    let token = token_of(&response.invitation_link);
    let partnership = h
        .partnerships(&reseller_admin(RESELLER_TENANT))
        .accept_invitation(accept(&token))
        .await
        .expect("accept")
        .into_inner();
    assert_eq!(partnership.state, pb::PartnershipState::Active as i32);
    assert_eq!(partnership.provider_id, PROVIDER);
    assert_eq!(partnership.partner_id, RESELLER_PARTNER_ID);
    assert_eq!(partnership.accepted_by, "rita");

    let listed = h
        .partnerships(&provider_admin(PROVIDER))
        .list_indirect_resellers(pb::ListIndirectResellersRequest {
            parent: "providers/contoso".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.indirect_resellers.len(), 1);
    assert_eq!(listed.indirect_resellers[0].company_name, "Fabrikam GmbH");

    // Accepting again while partnered returns the existing partnership.
    let again = h
        .partnerships(&reseller_admin(RESELLER_TENANT))
        .accept_invitation(accept(&token))
        .await
        .expect("accept again")
        .into_inner();
    assert_eq!(again.name, partnership.name);
    let second_invitation = h.invite(PROVIDER, "admin@fabrikam.example").await;
    let via_new = h
        .partnerships(&reseller_admin(RESELLER_TENANT))
        .accept_invitation(accept(&token_of(&second_invitation.invitation_link)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(via_new.name, partnership.name);

    // The invitation is used up and points at the partnership.
    let invitation = h
        .partnerships(&provider_admin(PROVIDER))
        .get_invitation(pb::GetInvitationRequest {
            name: response.invitation.unwrap().name,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(invitation.state, pb::InvitationState::Accepted as i32);
    assert_eq!(invitation.partnership, partnership.name);

    let events = h.events(4).await;
    let accepted: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == "twotier.partnership.v1.PartnershipAccepted")
        .collect();
    assert_eq!(accepted.len(), 1, "one acceptance event");
    let payload: pb::PartnershipAccepted = accepted[0].payload.as_ref().unwrap().to_msg().unwrap();
    assert_eq!(payload.reseller.unwrap().partner_id, RESELLER_PARTNER_ID);
    assert_eq!(
        payload.provider_contact.unwrap().email,
        "alice@contoso.example",
        "the inviting user hears about it"
    );
}

#[tokio::test]
async fn unknown_revoked_used_and_expired_tokens_and_unonboarded_resellers_get_distinct_errors() {
    let h = start_with(&[("TWOTIER_INVITATION_TTL", "1s")]).await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    h.onboard("7654321", "tailspin", "Tailspin").await;
    let mut fabrikam = h.partnerships(&reseller_admin(RESELLER_TENANT));

    assert_error(
        fabrikam.accept_invitation(accept("no-such-token")).await,
        Code::NotFound,
        "INVITATION_NOT_FOUND",
    );
    assert_error(
        fabrikam.accept_invitation(accept("")).await,
        Code::InvalidArgument,
        "INVALID_TOKEN_FORMAT",
    );

    let revoked = h.invite(PROVIDER, "a@fabrikam.example").await;
    h.partnerships(&provider_admin(PROVIDER))
        .revoke_invitation(pb::RevokeInvitationRequest {
            name: revoked.invitation.clone().unwrap().name,
        })
        .await
        .expect("revoke");
    assert_error(
        fabrikam
            .accept_invitation(accept(&token_of(&revoked.invitation_link)))
            .await,
        Code::FailedPrecondition,
        "INVITATION_REVOKED",
    );

    let used = h.invite(PROVIDER, "b@tailspin.example").await;
    h.partnerships(&reseller_admin("tailspin"))
        .accept_invitation(accept(&token_of(&used.invitation_link)))
        .await
        .expect("tailspin accepts");
    assert_error(
        fabrikam
            .accept_invitation(accept(&token_of(&used.invitation_link)))
            .await,
        Code::FailedPrecondition,
        "INVITATION_ALREADY_USED",
    );

    let not_onboarded = h.invite(PROVIDER, "c@nobody.example").await;
    assert_error(
        h.partnerships(&reseller_admin("not-onboarded"))
            .accept_invitation(accept(&token_of(&not_onboarded.invitation_link)))
            .await,
        Code::FailedPrecondition,
        "RESELLER_NOT_ONBOARDED",
    );

    let expiring = h.invite(PROVIDER, "d@fabrikam.example").await;
    let expire_time = expiring.invitation.as_ref().unwrap().expire_time.unwrap();
    twotier_testkit::wait_until(
        "the invitation expires",
        std::time::Duration::from_secs(10),
        || async {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64
                > expire_time.seconds
        },
    )
    .await;
    assert_error(
        fabrikam
            .accept_invitation(accept(&token_of(&expiring.invitation_link)))
            .await,
        Code::FailedPrecondition,
        "INVITATION_EXPIRED",
    );
    let listed = h
        .partnerships(&provider_admin(PROVIDER))
        .list_indirect_resellers(pb::ListIndirectResellersRequest {
            parent: "providers/contoso".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        listed.indirect_resellers.len(),
        1,
        "only tailspin became a partner"
    );
    // Only a reseller admin accepts.
    assert_error(
        h.partnerships(&provider_admin(PROVIDER))
            .accept_invitation(accept(&token_of(&expiring.invitation_link)))
            .await,
        Code::PermissionDenied,
        "ROLE_NOT_ALLOWED",
    );
}

#[tokio::test]
async fn concurrent_acceptances_of_one_invitation_create_one_partnership() {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    let response = h.invite(PROVIDER, "admin@fabrikam.example").await;
    let token = token_of(&response.invitation_link);
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let mut client = h.partnerships(&reseller_admin(RESELLER_TENANT));
            let token = token.clone();
            tokio::spawn(async move {
                client
                    .accept_invitation(accept(&token))
                    .await
                    .map(|r| r.into_inner().name)
            })
        })
        .collect();
    let mut names = Vec::new();
    for attempt in attempts {
        names.push(
            attempt
                .await
                .unwrap()
                .expect("every attempt answers with the partnership"),
        );
    }
    names.dedup();
    assert_eq!(names.len(), 1);
    let events = h.events(2).await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type.ends_with("PartnershipAccepted"))
            .count(),
        1
    );
}

#[tokio::test]
async fn send_invitation_email_requires_the_exact_link_not_just_its_token() {
    let h = start().await;
    let response = h.invite(PROVIDER, "sales@fabrikam.example").await;
    let invitation = response.invitation.unwrap().name;
    let token = token_of(&response.invitation_link);
    let mut client = h.partnerships(&provider_admin(PROVIDER));
    for body in [
        format!("Open https://phishing.example/accept?token={token}"),
        format!("Your code: token={token}"),
        format!("{}x", response.invitation_link.replace(&token, "")),
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

#[tokio::test]
async fn global_accounts_and_resellers_without_an_active_mpa_cannot_accept() {
    let h = start().await;
    h.onboard_with("1111111", "globex", "Globex", pb::AccountKind::Global, true)
        .await;
    h.onboard_with(
        "2222222",
        "lapsed",
        "Lapsed",
        pb::AccountKind::Location,
        false,
    )
    .await;
    for (tenant, reason) in [
        ("globex", "PARTNER_ID_NOT_LOCATION_ACCOUNT"),
        ("lapsed", "PARTNER_MPA_NOT_ACTIVE"),
    ] {
        let invitation = h.invite(PROVIDER, &format!("admin@{tenant}.example")).await;
        assert_error(
            h.partnerships(&reseller_admin(tenant))
                .accept_invitation(accept(&token_of(&invitation.invitation_link)))
                .await,
            Code::FailedPrecondition,
            reason,
        );
        let name = invitation.invitation.unwrap().name;
        let still = h
            .partnerships(&provider_admin(PROVIDER))
            .get_invitation(pb::GetInvitationRequest { name })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            still.state,
            pb::InvitationState::Pending as i32,
            "the refused acceptance used nothing up"
        );
    }
    let listed = h
        .partnerships(&provider_admin(PROVIDER))
        .list_indirect_resellers(pb::ListIndirectResellersRequest {
            parent: "providers/contoso".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        listed.indirect_resellers.is_empty(),
        "nobody became a partner"
    );
}
