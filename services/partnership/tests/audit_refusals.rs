//! R29 through gRPC: a command refused for its input is in the audit trail
//! once, what a reseller does with a provider's invitation (refused or
//! not) is in that provider's trail under the invitation's name, another
//! provider's user writes nothing into it, and a record past the
//! retention is no longer listed.

mod common;

use common::*;
use tonic::Code;
use twotier_platform::auth::Role;
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

// R29, R1: a provider's helpdesk may knock on the listing door (to hear
// R1's answer), but the resource it names is not another provider's trail.
#[tokio::test]
async fn another_providers_helpdesk_cannot_write_into_this_providers_trail() {
    let h = start().await;
    let forged = format!("providers/{PROVIDER}/partnerships/forged");
    let helpdesk = twotier_testkit::token("mallory", OTHER_PROVIDER, &[Role::HelpdeskAgent]);
    for _ in 0..2 {
        assert_error(
            h.listings(&helpdesk)
                .update_provider_listing(pb::UpdateProviderListingRequest {
                    provider_listing: Some(pb::ProviderListing {
                        name: forged.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .await,
            Code::PermissionDenied,
            "LISTING_CHANGE_REQUIRES_REPRESENTATIVE",
        );
    }

    assert!(recorded(&h, &forged, "").await.is_empty());
    let own = audit_records(
        h.server.channel(),
        &provider_admin(OTHER_PROVIDER),
        &forged,
        "UpdateProviderListing",
    )
    .await;
    assert_eq!(own.len(), 2, "{own:#?}");
    assert!(
        own.iter()
            .all(|record| record.resource_tenant_id.is_empty())
    );
}

// R29: a record is kept for the configured retention and not listed past
// it, though the pruning runs only hourly.
#[tokio::test]
async fn a_record_older_than_the_retention_is_no_longer_listed() {
    let h = start_with(&[("TWOTIER_AUDIT_RETENTION", "2s")]).await;
    let invitation = h.invite(PROVIDER, "admin@fabrikam.example").await;
    let name = invitation.invitation.expect("invitation").name;
    assert_eq!(recorded(&h, &name, "RequestPartnership").await.len(), 1);

    twotier_testkit::wait_until(
        "the record outlives its retention",
        std::time::Duration::from_secs(20),
        || async { recorded(&h, &name, "RequestPartnership").await.is_empty() },
    )
    .await;
}

// R29: a command refused at the door for the caller's role is recorded in
// the caller's own tenant's trail (the door reads no request, so no
// resource is named); a refused read is not a command and is not.
#[tokio::test]
async fn a_command_refused_for_the_callers_role_is_in_its_tenants_trail() {
    let h = start().await;
    let billing = twotier_testkit::token("bob", PROVIDER, &[Role::BillingAdmin]);
    assert_error(
        h.partnerships(&billing)
            .list_indirect_resellers(list(PROVIDER))
            .await,
        Code::PermissionDenied,
        "ROLE_NOT_ALLOWED",
    );
    assert_error(
        h.partnerships(&billing)
            .request_partnership(pb::RequestPartnershipRequest {
                parent: format!("providers/{PROVIDER}"),
                reseller_email: "admin@fabrikam.example".into(),
                language_code: "en".into(),
                request_id: String::new(),
            })
            .await,
        Code::PermissionDenied,
        "ROLE_NOT_ALLOWED",
    );

    // Recorded before the refusal is answered, unless the database takes
    // longer than the refusal may wait: a bounded wait covers that.
    twotier_testkit::wait_until(
        "the refused command is recorded",
        std::time::Duration::from_secs(20),
        || async { !recorded(&h, "", "").await.is_empty() },
    )
    .await;
    let records = recorded(&h, "", "").await;
    assert_eq!(records.len(), 1, "{records:#?}");
    let refused = &records[0];
    assert!(
        refused.rpc.ends_with("/RequestPartnership"),
        "{}",
        refused.rpc
    );
    assert_eq!(
        (refused.outcome.as_str(), refused.code.as_str()),
        ("ROLE_NOT_ALLOWED", "PERMISSION_DENIED")
    );
    let actor = refused.actor.as_ref().expect("actor");
    assert_eq!(
        (actor.subject.as_str(), actor.tenant_id.as_str()),
        ("bob", PROVIDER)
    );
    assert_eq!(actor.roles, ["BillingAdmin"]);
    assert!(refused.resource.is_empty());
    // Another provider's trail holds none of it.
    let other = audit_records(h.server.channel(), &provider_admin(OTHER_PROVIDER), "", "").await;
    assert!(other.is_empty(), "{other:#?}");
}
