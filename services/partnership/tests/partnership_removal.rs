//! R7 (removal) through gRPC: removal needs confirmation and the full
//! attestation and changes nothing without them; a removed reseller leaves the
//! list, its record and the attestation are kept, and only a new invitation
//! brings it back. Removal is one event and emails nobody.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::partnership as pb;
use twotier_testkit::{assert_error, violated_fields};

/// The provider's indirect resellers as it lists them (R8).
async fn indirect_resellers(h: &Harness) -> Vec<pb::IndirectReseller> {
    h.partnerships(&provider_admin(PROVIDER))
        .list_indirect_resellers(list(PROVIDER))
        .await
        .expect("list indirect resellers")
        .into_inner()
        .indirect_resellers
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
    // The reseller reads that and when, not which provider user.
    let seen_by_reseller = h
        .partnerships(&reseller_admin(RESELLER_TENANT))
        .get_partnership(pb::GetPartnershipRequest {
            name: partnership.name.clone(),
        })
        .await
        .expect("the reseller reads its partnership")
        .into_inner();
    assert_eq!(seen_by_reseller.state, pb::PartnershipState::Removed as i32);
    let removal = seen_by_reseller.removal.expect("removal");
    assert!(removal.remove_time.is_some());
    assert!(removal.removed_by.is_empty());
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
async fn an_invitation_accepted_while_partnered_cannot_bring_the_reseller_back_after_removal() {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    let partnership = h.partner(PROVIDER, RESELLER_TENANT).await;
    let second = h.invite(PROVIDER, "admin@fabrikam.example").await;
    let token = token_of(&second.invitation_link);
    let mut reseller = h.partnerships(&reseller_admin(RESELLER_TENANT));
    let accept = pb::AcceptInvitationRequest {
        token: token.clone(),
    };
    let answered = reseller
        .accept_invitation(accept.clone())
        .await
        .expect("accepting while partnered")
        .into_inner();
    assert_eq!(answered.name, partnership.name, "the existing partnership");
    let used = h
        .partnerships(&provider_admin(PROVIDER))
        .get_invitation(pb::GetInvitationRequest {
            name: second.invitation.unwrap().name,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(used.state, pb::InvitationState::Accepted as i32);
    assert_eq!(used.partnership, partnership.name);

    h.partnerships(&provider_admin(PROVIDER))
        .remove_partnership(remove(PROVIDER, RESELLER_PARTNER_ID))
        .await
        .expect("remove");
    assert_error(
        reseller.accept_invitation(accept).await,
        Code::FailedPrecondition,
        "INVITATION_ALREADY_USED",
    );
    assert!(indirect_resellers(&h).await.is_empty(), "still removed");
}

/// An invitation sent while partnered and left unopened is no new
/// invitation after the removal: the reseller cannot come back with it, and
/// can with one sent afterwards.
#[tokio::test]
async fn r7_an_invitation_sent_before_the_removal_cannot_bring_the_reseller_back() {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let unopened = h.invite(PROVIDER, "admin@fabrikam.example").await;
    h.partnerships(&provider_admin(PROVIDER))
        .remove_partnership(remove(PROVIDER, RESELLER_PARTNER_ID))
        .await
        .expect("remove");
    let mut reseller = h.partnerships(&reseller_admin(RESELLER_TENANT));
    assert_error(
        reseller
            .accept_invitation(pb::AcceptInvitationRequest {
                token: token_of(&unopened.invitation_link),
            })
            .await,
        Code::FailedPrecondition,
        "INVITATION_PREDATES_REMOVAL",
    );
    assert!(indirect_resellers(&h).await.is_empty(), "still removed");

    let fresh = h.invite(PROVIDER, "admin@fabrikam.example").await;
    let back = reseller
        .accept_invitation(pb::AcceptInvitationRequest {
            token: token_of(&fresh.invitation_link),
        })
        .await
        .expect("a new invitation brings it back")
        .into_inner();
    assert_eq!(back.state, pb::PartnershipState::Active as i32);
}

#[tokio::test]
async fn an_etag_of_a_removed_partnership_does_not_remove_the_next_one() {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    let first = h.partner(PROVIDER, RESELLER_TENANT).await;
    let mut client = h.partnerships(&provider_admin(PROVIDER));
    let removed = client
        .remove_partnership(pb::RemovePartnershipRequest {
            etag: first.etag.clone(),
            ..remove(PROVIDER, RESELLER_PARTNER_ID)
        })
        .await
        .expect("remove the first")
        .into_inner();
    let second = h.partner(PROVIDER, RESELLER_TENANT).await;
    // Both are removed under the reseller's name in the provider's list.
    for stale in [&first.etag, &removed.etag] {
        assert_ne!(&second.etag, stale);
        assert_error(
            client
                .remove_partnership(pb::RemovePartnershipRequest {
                    etag: stale.clone(),
                    ..remove(PROVIDER, RESELLER_PARTNER_ID)
                })
                .await,
            Code::Aborted,
            "ETAG_MISMATCH",
        );
    }
    client
        .remove_partnership(pb::RemovePartnershipRequest {
            etag: second.etag.clone(),
            ..remove(PROVIDER, RESELLER_PARTNER_ID)
        })
        .await
        .expect("the current etag removes the second");
}

/// Removals without an etag made at the same time: one removes, the others
/// hear that the partnership is no longer active (what a retry would
/// hear), never a stale etag they did not send.
#[tokio::test]
async fn concurrent_removals_without_an_etag_remove_once_and_tell_the_rest_it_is_gone() {
    let h = start().await;
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let removals: Vec<_> = (0..8)
        .map(|_| {
            let mut client = h.partnerships(&provider_admin(PROVIDER));
            let request = pb::RemovePartnershipRequest {
                etag: String::new(),
                ..remove(PROVIDER, RESELLER_PARTNER_ID)
            };
            tokio::spawn(async move { client.remove_partnership(request).await })
        })
        .collect();
    let mut removed = 0;
    for removal in removals {
        match removal.await.expect("joined") {
            Ok(_) => removed += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                assert_eq!(
                    twotier_platform::upstream::reason_of(&status).as_deref(),
                    Some("PARTNERSHIP_NOT_ACTIVE")
                );
            }
        }
    }
    assert_eq!(removed, 1);
}
