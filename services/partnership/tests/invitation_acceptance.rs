//! R5 (acceptance) through gRPC: the reseller accepts and appears in the
//! provider's list, once even when accepting concurrently; unknown, revoked,
//! used and expired tokens, resellers not onboarded, global accounts and
//! resellers without an active MPA are refused, each with its own reason.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::partnership as pb;
use twotier_testkit::assert_error;

fn accept(token: &str) -> pb::AcceptInvitationRequest {
    pb::AcceptInvitationRequest {
        token: token.into(),
    }
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
async fn a_revoked_invitation_stays_revoked_for_a_reseller_already_partnered() {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let revoked = h.invite(PROVIDER, "admin@fabrikam.example").await;
    h.partnerships(&provider_admin(PROVIDER))
        .revoke_invitation(pb::RevokeInvitationRequest {
            name: revoked.invitation.clone().expect("invitation").name,
        })
        .await
        .expect("revoke");
    assert_error(
        h.partnerships(&reseller_admin(RESELLER_TENANT))
            .accept_invitation(accept(&token_of(&revoked.invitation_link)))
            .await,
        Code::FailedPrecondition,
        "INVITATION_REVOKED",
    );
}

#[tokio::test]
async fn an_acceptance_racing_a_revocation_either_wins_or_hears_it_was_revoked() {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    for round in 0..8 {
        let response = h.invite(PROVIDER, "admin@fabrikam.example").await;
        let name = response.invitation.clone().expect("invitation").name;
        let token = token_of(&response.invitation_link);
        let mut fabrikam = h.partnerships(&reseller_admin(RESELLER_TENANT));
        let mut contoso = h.partnerships(&provider_admin(PROVIDER));
        let (accepted, revoked) = tokio::join!(
            fabrikam.accept_invitation(accept(&token)),
            contoso.revoke_invitation(pb::RevokeInvitationRequest { name }),
        );
        match (accepted, revoked) {
            (Ok(_), Err(status)) => {
                assert_eq!(status.code(), Code::FailedPrecondition, "round {round}");
                // Partnered: the next round's invitation must be new work.
                h.partnerships(&provider_admin(PROVIDER))
                    .remove_partnership(remove(PROVIDER, RESELLER_PARTNER_ID))
                    .await
                    .expect("removed");
            }
            (Err(status), Ok(_)) => assert_eq!(
                twotier_platform::upstream::reason_of(&status).as_deref(),
                Some("INVITATION_REVOKED"),
                "round {round}: {status:?}"
            ),
            other => panic!("round {round}: exactly one may win: {other:?}"),
        }
    }
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

/// R24: accepting again while partnered still judges the reseller by R3;
/// a reseller whose MPA lapsed meanwhile is refused as at a first
/// acceptance, and the invitation stays pending.
#[tokio::test]
async fn r24_a_partnered_reseller_whose_mpa_lapsed_cannot_accept_again() {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    twotier_testkit::flows::update_reseller(
        h.server.channel(),
        RESELLER_PARTNER_ID,
        "mpa_active",
        |reseller| reseller.mpa_active = false,
    )
    .await;
    let again = h.invite(PROVIDER, "admin@fabrikam.example").await;
    assert_error(
        h.partnerships(&reseller_admin(RESELLER_TENANT))
            .accept_invitation(accept(&token_of(&again.invitation_link)))
            .await,
        Code::FailedPrecondition,
        "PARTNER_MPA_NOT_ACTIVE",
    );
    let still = h
        .partnerships(&provider_admin(PROVIDER))
        .get_invitation(pb::GetInvitationRequest {
            name: again.invitation.unwrap().name,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(still.state, pb::InvitationState::Pending as i32);
}

#[tokio::test]
async fn a_partnered_reseller_cannot_accept_another_resellers_used_invitation() {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    h.onboard("7654321", "tailspin", "Tailspin").await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let tailspins = h.invite(PROVIDER, "b@tailspin.example").await;
    let token = token_of(&tailspins.invitation_link);
    h.partnerships(&reseller_admin("tailspin"))
        .accept_invitation(accept(&token))
        .await
        .expect("tailspin accepts");
    assert_error(
        h.partnerships(&reseller_admin(RESELLER_TENANT))
            .accept_invitation(accept(&token))
            .await,
        Code::FailedPrecondition,
        "INVITATION_ALREADY_USED",
    );
}

#[tokio::test]
async fn r24_accepting_its_own_used_invitation_again_after_the_mpa_lapsed_is_refused() {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    let invitation = h.invite(PROVIDER, "admin@fabrikam.example").await;
    let token = token_of(&invitation.invitation_link);
    let mut fabrikam = h.partnerships(&reseller_admin(RESELLER_TENANT));
    let first = fabrikam
        .accept_invitation(accept(&token))
        .await
        .expect("accept")
        .into_inner();
    let again = fabrikam
        .accept_invitation(accept(&token))
        .await
        .expect("accepting again answers the partnership")
        .into_inner();
    assert_eq!(again.name, first.name);
    twotier_testkit::flows::update_reseller(
        h.server.channel(),
        RESELLER_PARTNER_ID,
        "mpa_active",
        |reseller| reseller.mpa_active = false,
    )
    .await;
    assert_error(
        fabrikam.accept_invitation(accept(&token)).await,
        Code::FailedPrecondition,
        "PARTNER_MPA_NOT_ACTIVE",
    );
}
