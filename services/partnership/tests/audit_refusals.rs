//! R29 through gRPC: a command refused for its input is in the audit trail
//! once, and what a reseller does with a provider's invitation (refused or
//! not) is in that provider's trail under the invitation's name.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::audit::AuditRecord;
use twotier_proto::partnership as pb;
use twotier_testkit::{assert_error, audit_records, flows};

/// The provider's records of `rpc` on `resource` (any, when empty).
async fn recorded(h: &Harness, resource: &str, rpc: &str) -> Vec<AuditRecord> {
    audit_records(h.server.channel(), &provider_admin(PROVIDER), resource, rpc).await
}

#[tokio::test]
async fn a_removal_refused_for_want_of_confirmation_is_recorded_once() {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let unconfirmed = pb::RemovePartnershipRequest {
        confirm: false,
        ..remove(PROVIDER, RESELLER_PARTNER_ID)
    };
    assert_error(
        h.partnerships(&provider_admin(PROVIDER))
            .remove_partnership(unconfirmed.clone())
            .await,
        Code::InvalidArgument,
        "REMOVAL_NOT_CONFIRMED",
    );

    let records = recorded(&h, &unconfirmed.name, "RemovePartnership").await;
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0].outcome, "REMOVAL_NOT_CONFIRMED");
    assert_eq!(records[0].code, "INVALID_ARGUMENT");
    assert_eq!(records[0].resource_tenant_id, PROVIDER);
}

#[tokio::test]
async fn a_resellers_refused_and_accepted_invitations_are_in_the_providers_trail() {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    let mut provider = h.partnerships(&provider_admin(PROVIDER));
    let mut fabrikam = h.partnerships(&reseller_admin(RESELLER_TENANT));
    let revoked = h.invite(PROVIDER, "admin@fabrikam.example").await;
    let revoked_name = revoked.invitation.clone().expect("invitation").name;
    provider
        .revoke_invitation(pb::RevokeInvitationRequest {
            name: revoked_name.clone(),
        })
        .await
        .expect("revoke");
    assert_error(
        fabrikam
            .accept_invitation(pb::AcceptInvitationRequest {
                token: flows::token_of(&revoked.invitation_link),
            })
            .await,
        Code::FailedPrecondition,
        "INVITATION_REVOKED",
    );
    let accepted = h.invite(PROVIDER, "admin@fabrikam.example").await;
    let partnership = fabrikam
        .accept_invitation(pb::AcceptInvitationRequest {
            token: flows::token_of(&accepted.invitation_link),
        })
        .await
        .expect("accept")
        .into_inner();

    let refused = recorded(&h, &revoked_name, "AcceptInvitation").await;
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert_eq!(refused[0].outcome, "INVITATION_REVOKED");
    assert_eq!(refused[0].resource_tenant_id, PROVIDER);
    let actor = refused[0].actor.as_ref().expect("actor");
    assert_eq!(actor.tenant_id, RESELLER_TENANT);
    let done = recorded(&h, &partnership.name, "AcceptInvitation").await;
    assert_eq!(done.len(), 1, "{done:#?}");
    assert_eq!(done[0].outcome, "OK");
}
