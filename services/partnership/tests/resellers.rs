//! R2 (onboarding) and R3 (PartnerID verification).

mod common;

use common::*;
use tonic::Code;
use twotier_platform::auth::Role;
use twotier_proto::partnership as pb;
use twotier_testkit::{assert_error, violated_fields};

fn verify(partner_id: &str) -> pb::VerifyPartnerIdRequest {
    pb::VerifyPartnerIdRequest {
        partner_id: partner_id.into(),
    }
}

#[tokio::test]
async fn onboarded_reseller_carries_every_field_and_emits_reseller_onboarded() {
    let h = start().await;
    let reseller = h
        .onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam GmbH")
        .await;
    assert_eq!(reseller.name, "resellers/4567890");
    assert_eq!(reseller.company_name, "Fabrikam GmbH");
    assert_eq!(reseller.contact_email, "admin@fabrikam.example");
    assert_eq!(reseller.country_code, "DE");
    assert_eq!(reseller.preferred_language, "de");
    assert_eq!(reseller.account_kind, pb::AccountKind::Location as i32);
    assert!(reseller.mpa_active);
    assert_eq!(reseller.status, pb::ResellerStatus::Active as i32);

    // The reseller's own admin reads it; another reseller's admin does not see it.
    let own = h
        .resellers(&reseller_admin(RESELLER_TENANT))
        .get_reseller(pb::GetResellerRequest {
            name: reseller.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own, reseller);
    assert_error(
        h.resellers(&reseller_admin("someone-else"))
            .get_reseller(pb::GetResellerRequest {
                name: reseller.name.clone(),
            })
            .await,
        Code::NotFound,
        "RESELLER_NOT_FOUND",
    );
    let events = h.events(1).await;
    assert_eq!(
        event_types(&events),
        vec!["twotier.partnership.v1.ResellerOnboarded"]
    );
}

#[tokio::test]
async fn onboarding_is_for_the_operator_and_refuses_duplicates_and_bad_fields() {
    let h = start().await;
    let request = pb::OnboardResellerRequest {
        reseller: Some(pb::Reseller {
            partner_id: "12ab".into(),
            tenant_id: "Fabrikam!".into(),
            company_name: String::new(),
            contact_email: "nope".into(),
            country_code: "Germany".into(),
            preferred_language: "fr".into(),
            account_kind: pb::AccountKind::Unspecified.into(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let status = assert_error(
        h.resellers(&operator())
            .onboard_reseller(request.clone())
            .await,
        Code::InvalidArgument,
        "INVALID_RESELLER",
    );
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "reseller.account_kind",
            "reseller.company_name",
            "reseller.contact_email",
            "reseller.country_code",
            "reseller.partner_id",
            "reseller.preferred_language",
            "reseller.tenant_id",
        ]
    );
    assert_error(
        h.resellers(&provider_admin(PROVIDER))
            .onboard_reseller(request)
            .await,
        Code::PermissionDenied,
        "ROLE_NOT_ALLOWED",
    );

    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    let mut duplicate = pb::OnboardResellerRequest {
        reseller: Some(pb::Reseller {
            partner_id: RESELLER_PARTNER_ID.into(),
            tenant_id: "another".into(),
            company_name: "Dup".into(),
            contact_email: "a@b.example".into(),
            country_code: "DE".into(),
            account_kind: pb::AccountKind::Location.into(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    assert_error(
        h.resellers(&operator())
            .onboard_reseller(duplicate.clone())
            .await,
        Code::AlreadyExists,
        "RESELLER_ALREADY_ONBOARDED",
    );
    let reseller = duplicate.reseller.as_mut().unwrap();
    reseller.partner_id = "7654321".into();
    reseller.tenant_id = RESELLER_TENANT.into();
    assert_error(
        h.resellers(&operator()).onboard_reseller(duplicate).await,
        Code::AlreadyExists,
        "RESELLER_TENANT_TAKEN",
    );
}

#[tokio::test]
async fn verify_partner_id_answers_name_and_status_or_a_precise_error() {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam GmbH")
        .await;
    h.onboard_with(
        "1111111",
        "global-co",
        "Global Co",
        pb::AccountKind::Global,
        true,
    )
    .await;
    h.onboard_with(
        "2222222",
        "lapsed-co",
        "Lapsed Co",
        pb::AccountKind::Location,
        false,
    )
    .await;
    let mut client = h.resellers(&sales_agent(PROVIDER));

    let verified = client
        .verify_partner_id(verify(RESELLER_PARTNER_ID))
        .await
        .expect("verified")
        .into_inner();
    assert_eq!(verified.company_name, "Fabrikam GmbH");
    assert_eq!(verified.status, pb::ResellerStatus::Active as i32);
    assert!(!verified.partnered_with_caller);

    let status = assert_error(
        client.verify_partner_id(verify("12-34")).await,
        Code::InvalidArgument,
        "PARTNER_ID_MALFORMED",
    );
    assert_eq!(violated_fields(&status), vec!["partner_id"]);
    assert_error(
        client.verify_partner_id(verify("9999999")).await,
        Code::NotFound,
        "PARTNER_ID_NOT_FOUND",
    );
    assert_error(
        client.verify_partner_id(verify("1111111")).await,
        Code::FailedPrecondition,
        "PARTNER_ID_NOT_LOCATION_ACCOUNT",
    );
    assert_error(
        client.verify_partner_id(verify("2222222")).await,
        Code::FailedPrecondition,
        "PARTNER_MPA_NOT_ACTIVE",
    );

    // After partnering, the provider sees it is one of its resellers.
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let verified = client
        .verify_partner_id(verify(RESELLER_PARTNER_ID))
        .await
        .unwrap()
        .into_inner();
    assert!(verified.partnered_with_caller);
    let helpdesk = twotier_testkit::token("hal", PROVIDER, &[Role::HelpdeskAgent]);
    assert_error(
        h.resellers(&helpdesk)
            .verify_partner_id(verify(RESELLER_PARTNER_ID))
            .await,
        Code::PermissionDenied,
        "ROLE_NOT_ALLOWED",
    );
}

#[tokio::test]
async fn lapsed_mpa_fails_verification_until_the_operator_restores_it() {
    let h = start().await;
    let reseller = h
        .onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    let mut change = reseller.clone();
    change.mpa_active = false;
    let lapsed = h
        .resellers(&operator())
        .update_reseller(pb::UpdateResellerRequest {
            reseller: Some(change.clone()),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["mpa_active".into()],
            }),
        })
        .await
        .expect("update")
        .into_inner();
    assert_eq!(lapsed.status, pb::ResellerStatus::MpaInactive as i32);
    assert_error(
        h.resellers(&provider_admin(PROVIDER))
            .verify_partner_id(verify(RESELLER_PARTNER_ID))
            .await,
        Code::FailedPrecondition,
        "PARTNER_MPA_NOT_ACTIVE",
    );
    // A stale etag changes nothing.
    change.mpa_active = true;
    assert_error(
        h.resellers(&operator())
            .update_reseller(pb::UpdateResellerRequest {
                reseller: Some(change),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["mpa_active".into()],
                }),
            })
            .await,
        Code::Aborted,
        "ETAG_MISMATCH",
    );
    let mut restore = lapsed.clone();
    restore.mpa_active = true;
    h.resellers(&operator())
        .update_reseller(pb::UpdateResellerRequest {
            reseller: Some(restore),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["mpa_active".into()],
            }),
        })
        .await
        .expect("restore");
    h.resellers(&provider_admin(PROVIDER))
        .verify_partner_id(verify(RESELLER_PARTNER_ID))
        .await
        .expect("verifies again");
}

/// An acceptance racing a rename of the reseller: whatever the interleaving,
/// the new partnership carries the new name.
#[tokio::test]
async fn renaming_a_reseller_while_it_accepts_invitations_renames_every_new_partnership() {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    let providers: Vec<String> = (0..8).map(|i| format!("contoso{i}")).collect();
    for (i, provider) in providers.iter().enumerate() {
        let invitation = h
            .invite(provider, &format!("admin@{RESELLER_TENANT}.example"))
            .await;
        let mut renamed = h
            .resellers(&operator())
            .get_reseller(pb::GetResellerRequest {
                name: format!("resellers/{RESELLER_PARTNER_ID}"),
            })
            .await
            .unwrap()
            .into_inner();
        renamed.company_name = format!("Fabrikam {i}");
        let mut operator_client = h.resellers(&operator());
        let mut reseller_client = h.partnerships(&reseller_admin(RESELLER_TENANT));
        let (rename, accept) = tokio::join!(
            operator_client.update_reseller(pb::UpdateResellerRequest {
                reseller: Some(renamed),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["company_name".into()],
                }),
            }),
            reseller_client.accept_invitation(pb::AcceptInvitationRequest {
                token: token_of(&invitation.invitation_link),
            }),
        );
        rename.expect("rename");
        accept.expect("accept");
        // Checked before the next round's rename could repair a miss.
        let listed = h
            .partnerships(&provider_admin(provider))
            .get_indirect_reseller(pb::GetIndirectResellerRequest {
                name: format!("providers/{provider}/indirectResellers/{RESELLER_PARTNER_ID}"),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.company_name, format!("Fabrikam {i}"));
    }
}
