//! Tenant isolation between providers for R4-R8: another provider cannot
//! read, list or remove what is not its own (indirect resellers, invitations,
//! partnerships), while the owner and the partnered reseller still can.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::partnership as pb;
use twotier_testkit::assert_error;

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
