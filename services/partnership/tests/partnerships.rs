//! R7 (removal), R8 (the provider's indirect resellers) and tenant
//! isolation between providers.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::partnership as pb;
use twotier_testkit::{assert_error, violated_fields};

fn full_attestation() -> pb::RemovalAttestation {
    pb::RemovalAttestation {
        good_faith: true,
        legitimate_business_purpose: true,
        per_agreements: true,
        indemnifies_platform: true,
    }
}

fn remove(provider: &str, partner_id: &str) -> pb::RemovePartnershipRequest {
    pb::RemovePartnershipRequest {
        name: format!("providers/{provider}/indirectResellers/{partner_id}"),
        confirm: true,
        attestation: Some(full_attestation()),
        etag: String::new(),
    }
}

fn list(provider: &str) -> pb::ListIndirectResellersRequest {
    pb::ListIndirectResellersRequest {
        parent: format!("providers/{provider}"),
        ..Default::default()
    }
}

#[tokio::test]
async fn provider_lists_filters_pages_and_reads_its_indirect_resellers() {
    let h = start().await;
    let companies = [
        ("1000001", "alpha", "Alpha Systems"),
        ("1000002", "bravo", "Bravo IT"),
        ("1000003", "charlie", "Charlie Cloud"),
        ("1000004", "delta", "Delta Cloud Services"),
    ];
    for (partner_id, tenant, company) in companies {
        h.onboard(partner_id, tenant, company).await;
        h.partner(PROVIDER, tenant).await;
    }
    let mut client = h.partnerships(&sales_agent(PROVIDER));
    let first = client
        .list_indirect_resellers(pb::ListIndirectResellersRequest {
            page_size: 3,
            ..list(PROVIDER)
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = first
        .indirect_resellers
        .iter()
        .map(|r| r.company_name.as_str())
        .collect();
    assert_eq!(names, vec!["Alpha Systems", "Bravo IT", "Charlie Cloud"]);
    let rest = client
        .list_indirect_resellers(pb::ListIndirectResellersRequest {
            page_size: 3,
            page_token: first.next_page_token.clone(),
            ..list(PROVIDER)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.indirect_resellers.len(), 1);
    assert!(rest.next_page_token.is_empty());

    let filtered = client
        .list_indirect_resellers(pb::ListIndirectResellersRequest {
            company_name_filter: "CLOUD".into(),
            ..list(PROVIDER)
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = filtered
        .indirect_resellers
        .iter()
        .map(|r| r.company_name.as_str())
        .collect();
    assert_eq!(names, vec!["Charlie Cloud", "Delta Cloud Services"]);
    assert_error(
        client
            .list_indirect_resellers(pb::ListIndirectResellersRequest {
                company_name_filter: "cloud".into(),
                page_token: first.next_page_token,
                ..list(PROVIDER)
            })
            .await,
        Code::InvalidArgument,
        "INVALID_PAGE_TOKEN",
    );

    let one = client
        .get_indirect_reseller(pb::GetIndirectResellerRequest {
            name: "providers/contoso/indirectResellers/1000002".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(one.company_name, "Bravo IT");
    assert_eq!(one.partnership_state, pb::PartnershipState::Active as i32);
    assert!(one.partnership_state_time.is_some(), "since when");
    assert_error(
        client
            .get_indirect_reseller(pb::GetIndirectResellerRequest {
                name: "providers/contoso/indirectResellers/9999999".into(),
            })
            .await,
        Code::NotFound,
        "INDIRECT_RESELLER_NOT_FOUND",
    );
}

#[tokio::test]
async fn removal_needs_confirmation_and_full_attestation_and_changes_nothing_without() {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let mut client = h.partnerships(&provider_admin(PROVIDER));

    let unconfirmed = pb::RemovePartnershipRequest {
        confirm: false,
        ..remove(PROVIDER, RESELLER_PARTNER_ID)
    };
    let status = assert_error(
        client.remove_partnership(unconfirmed).await,
        Code::InvalidArgument,
        "REMOVAL_NOT_CONFIRMED",
    );
    assert_eq!(violated_fields(&status), vec!["confirm"]);
    let partial = pb::RemovePartnershipRequest {
        attestation: Some(pb::RemovalAttestation {
            indemnifies_platform: false,
            ..full_attestation()
        }),
        ..remove(PROVIDER, RESELLER_PARTNER_ID)
    };
    let status = assert_error(
        client.remove_partnership(partial).await,
        Code::InvalidArgument,
        "ATTESTATION_INCOMPLETE",
    );
    assert_eq!(
        violated_fields(&status),
        vec!["attestation.indemnifies_platform"]
    );
    let stale = pb::RemovePartnershipRequest {
        etag: "W/\"99\"".into(),
        ..remove(PROVIDER, RESELLER_PARTNER_ID)
    };
    assert_error(
        client.remove_partnership(stale).await,
        Code::Aborted,
        "ETAG_MISMATCH",
    );

    let still = client
        .list_indirect_resellers(list(PROVIDER))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(still.indirect_resellers.len(), 1, "nothing changed");
}

#[tokio::test]
async fn removed_reseller_leaves_the_list_keeps_the_record_and_needs_a_new_invitation() {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    let first = h.invite(PROVIDER, "admin@fabrikam.example").await;
    let partnership = h
        .partnerships(&reseller_admin(RESELLER_TENANT))
        .accept_invitation(pb::AcceptInvitationRequest {
            token: token_of(&first.invitation_link),
        })
        .await
        .unwrap()
        .into_inner();
    let mut client = h.partnerships(&provider_admin(PROVIDER));

    let removed = client
        .remove_partnership(pb::RemovePartnershipRequest {
            etag: partnership.etag.clone(),
            ..remove(PROVIDER, RESELLER_PARTNER_ID)
        })
        .await
        .expect("remove")
        .into_inner();
    assert_eq!(removed.state, pb::PartnershipState::Removed as i32);
    let removal = removed.removal.unwrap();
    assert_eq!(removal.removed_by, "alice");
    assert!(removal.remove_time.is_some());
    assert_eq!(
        removal.attestation,
        Some(full_attestation()),
        "the attestation is stored"
    );

    assert!(
        client
            .list_indirect_resellers(list(PROVIDER))
            .await
            .unwrap()
            .into_inner()
            .indirect_resellers
            .is_empty()
    );
    let one = client
        .get_indirect_reseller(pb::GetIndirectResellerRequest {
            name: format!("providers/contoso/indirectResellers/{RESELLER_PARTNER_ID}"),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(one.partnership_state, pb::PartnershipState::Removed as i32);
    assert_error(
        client
            .remove_partnership(remove(PROVIDER, RESELLER_PARTNER_ID))
            .await,
        Code::FailedPrecondition,
        "PARTNERSHIP_NOT_ACTIVE",
    );

    // The old link does not bring the partnership back; a new invitation does.
    assert_error(
        h.partnerships(&reseller_admin(RESELLER_TENANT))
            .accept_invitation(pb::AcceptInvitationRequest {
                token: token_of(&first.invitation_link),
            })
            .await,
        Code::FailedPrecondition,
        "INVITATION_ALREADY_USED",
    );
    let renewed = h.partner(PROVIDER, RESELLER_TENANT).await;
    assert_ne!(renewed.name, partnership.name);
    assert_eq!(
        client
            .list_indirect_resellers(list(PROVIDER))
            .await
            .unwrap()
            .into_inner()
            .indirect_resellers
            .len(),
        1
    );

    // Removal is one event and nothing else: no email request, no other change.
    let events = h.events(5).await;
    let types = event_types(&events);
    assert_eq!(
        types
            .iter()
            .filter(|t| t.ends_with("PartnershipRemoved"))
            .count(),
        1
    );
    assert!(
        !types
            .iter()
            .any(|t| t.ends_with("InvitationEmailRequested"))
    );
}

#[tokio::test]
async fn another_provider_cannot_read_list_or_remove_what_is_not_its_own() {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    let invitation = h.invite(PROVIDER, "admin@fabrikam.example").await;
    let partnership = h
        .partnerships(&reseller_admin(RESELLER_TENANT))
        .accept_invitation(pb::AcceptInvitationRequest {
            token: token_of(&invitation.invitation_link),
        })
        .await
        .unwrap()
        .into_inner();
    let mut other = h.partnerships(&provider_admin(OTHER_PROVIDER));

    assert_error(
        other.list_indirect_resellers(list(PROVIDER)).await,
        Code::NotFound,
        "PROVIDER_NOT_FOUND",
    );
    assert!(
        other
            .list_indirect_resellers(list(OTHER_PROVIDER))
            .await
            .unwrap()
            .into_inner()
            .indirect_resellers
            .is_empty()
    );
    assert_error(
        other
            .get_indirect_reseller(pb::GetIndirectResellerRequest {
                name: format!("providers/contoso/indirectResellers/{RESELLER_PARTNER_ID}"),
            })
            .await,
        Code::NotFound,
        "PROVIDER_NOT_FOUND",
    );
    assert_error(
        other
            .get_indirect_reseller(pb::GetIndirectResellerRequest {
                name: format!("providers/northwind/indirectResellers/{RESELLER_PARTNER_ID}"),
            })
            .await,
        Code::NotFound,
        "INDIRECT_RESELLER_NOT_FOUND",
    );
    assert_error(
        other
            .remove_partnership(remove(PROVIDER, RESELLER_PARTNER_ID))
            .await,
        Code::NotFound,
        "PROVIDER_NOT_FOUND",
    );
    assert_error(
        other
            .remove_partnership(remove(OTHER_PROVIDER, RESELLER_PARTNER_ID))
            .await,
        Code::NotFound,
        "INDIRECT_RESELLER_NOT_FOUND",
    );
    let invitation_name = invitation.invitation.unwrap().name;
    assert_error(
        other
            .get_invitation(pb::GetInvitationRequest {
                name: invitation_name.clone(),
            })
            .await,
        Code::NotFound,
        "PROVIDER_NOT_FOUND",
    );
    assert_error(
        other
            .get_invitation(pb::GetInvitationRequest {
                name: invitation_name.replace("contoso", "northwind"),
            })
            .await,
        Code::NotFound,
        "INVITATION_NOT_FOUND",
    );
    assert_error(
        other
            .revoke_invitation(pb::RevokeInvitationRequest {
                name: invitation_name,
            })
            .await,
        Code::NotFound,
        "PROVIDER_NOT_FOUND",
    );
    assert_error(
        other
            .get_partnership(pb::GetPartnershipRequest {
                name: partnership.name.clone(),
            })
            .await,
        Code::NotFound,
        "PARTNERSHIP_NOT_FOUND",
    );
    assert_error(
        other
            .list_invitations(pb::ListInvitationsRequest {
                parent: "providers/contoso".into(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        "PROVIDER_NOT_FOUND",
    );

    // The owner and the partnered reseller still see everything.
    h.partnerships(&provider_admin(PROVIDER))
        .get_partnership(pb::GetPartnershipRequest {
            name: partnership.name.clone(),
        })
        .await
        .expect("owner reads");
    h.partnerships(&reseller_admin(RESELLER_TENANT))
        .get_partnership(pb::GetPartnershipRequest {
            name: partnership.name.clone(),
        })
        .await
        .expect("reseller reads");
    assert_error(
        h.partnerships(&reseller_admin("someone-else"))
            .get_partnership(pb::GetPartnershipRequest {
                name: partnership.name,
            })
            .await,
        Code::NotFound,
        "PARTNERSHIP_NOT_FOUND",
    );
    assert_eq!(
        h.partnerships(&provider_admin(PROVIDER))
            .list_indirect_resellers(list(PROVIDER))
            .await
            .unwrap()
            .into_inner()
            .indirect_resellers
            .len(),
        1
    );
}
