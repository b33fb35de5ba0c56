//! The invitation's decisions (R4, R5), one by one and as a state machine
//! under arbitrary sequences of operations and instants.

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use twotier_partners::eligibility::Ineligible;
use twotier_platform::personal_link::LinkRefusal;

use super::*;
use crate::domain::reseller::AccountKind;
use crate::domain::reseller::tests::reseller;

const TTL_SECONDS: i64 = 1_000;

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::UNIX_EPOCH + TimeDelta::seconds(seconds)
}

/// A pending invitation of `contoso` made at `now`, working for
/// [`TTL_SECONDS`].
pub(crate) fn pending_invitation(now: DateTime<Utc>) -> Invitation {
    Invitation::new(
        InvitationRequest {
            provider_id: "contoso".into(),
            reseller_email: "admin@fabrikam.example".into(),
            language_code: "en".into(),
            created_by: "alice".into(),
            created_by_email: "alice@contoso.example".into(),
        },
        now,
        TimeDelta::seconds(TTL_SECONDS),
    )
}

fn eligible() -> Reseller {
    reseller(AccountKind::Location, true)
}

#[test]
fn a_pending_invitation_is_accepted_once_into_an_active_partnership() {
    let invitation = pending_invitation(at(0));
    let accepted = invitation
        .accept(at(10), &eligible(), "rita")
        .expect("pending and eligible");
    let partnership = &accepted.partnership;
    assert_eq!(partnership.provider_id, "contoso");
    assert_eq!(partnership.partner_id, "4567890");
    assert_eq!(partnership.company_name, "Fabrikam");
    assert_eq!(partnership.invitation_id, invitation.id);
    assert_eq!(partnership.accepted_by, "rita");
    assert_eq!(partnership.accepted_at, at(10));
    assert!(partnership.removal.is_none());
    assert_eq!(
        accepted.invitation.state_at(at(10)),
        InvitationState::Accepted
    );
    assert_eq!(accepted.invitation.accepted_at(), Some(at(10)));
    assert_eq!(
        accepted.invitation.partnership_id(),
        Some(partnership.id.as_str())
    );
    assert_eq!(
        accepted.invitation.accept(at(11), &eligible(), "rita"),
        Err(InvitationError::AlreadyUsed),
        "single use"
    );
}

#[test]
fn expiry_is_decided_by_the_clock_at_expires_at_exactly() {
    let invitation = pending_invitation(at(0));
    assert_eq!(invitation.expires_at, at(TTL_SECONDS));
    assert_eq!(
        invitation.state_at(at(TTL_SECONDS - 1)),
        InvitationState::Pending
    );
    assert_eq!(
        invitation.state_at(at(TTL_SECONDS)),
        InvitationState::Expired
    );
    assert_eq!(
        invitation.accept(at(TTL_SECONDS), &eligible(), "rita"),
        Err(InvitationError::Expired)
    );
    assert_eq!(
        invitation.revoke(at(TTL_SECONDS)),
        Err(InvitationError::NotPending("expired"))
    );
}

#[test]
fn revoked_used_and_expired_invitations_fail_acceptance_with_distinct_errors() {
    let invitation = pending_invitation(at(0));
    let revoked = invitation.revoke(at(5)).expect("pending");
    assert_eq!(revoked.revoked_at(), Some(at(5)));
    assert_eq!(
        revoked.accept(at(6), &eligible(), "rita"),
        Err(InvitationError::Revoked)
    );
    assert_eq!(
        revoked.revoke(at(6)),
        Err(InvitationError::NotPending("revoked"))
    );
    // Revoked stays revoked after the expiry, too.
    assert_eq!(
        revoked.state_at(at(TTL_SECONDS * 2)),
        InvitationState::Revoked
    );
}

#[test]
fn an_ineligible_reseller_is_refused_with_r3s_reason_and_uses_nothing_up() {
    let invitation = pending_invitation(at(0));
    assert_eq!(
        invitation.accept(at(1), &reseller(AccountKind::Global, true), "g"),
        Err(InvitationError::Ineligible(Ineligible::GlobalAccount(
            "4567890".into()
        )))
    );
    assert_eq!(
        invitation.accept(at(1), &reseller(AccountKind::Location, false), "l"),
        Err(InvitationError::Ineligible(Ineligible::MpaInactive(
            "4567890".into()
        )))
    );
    assert_eq!(invitation.state_at(at(1)), InvitationState::Pending);
}

#[test]
fn an_email_goes_out_only_while_pending_and_only_with_the_exact_link() {
    let invitation = pending_invitation(at(0));
    let link = link("https://partners.example/accept", "t0k3n");
    assert_eq!(link, "https://partners.example/accept?token=t0k3n");
    assert_eq!(
        invitation.check_email(at(1), &format!("Open {link} today"), &link),
        Ok(())
    );
    for body in [
        "I forgot the link".to_owned(),
        "Open https://phishing.example/accept?token=t0k3n".to_owned(),
        "Your code: token=t0k3n".to_owned(),
    ] {
        assert_eq!(
            invitation.check_email(at(1), &body, &link),
            Err(LinkRefusal::LinkMissing)
        );
    }
    let revoked = invitation.revoke(at(2)).expect("pending");
    assert_eq!(
        revoked.check_email(at(3), &link, &link),
        Err(LinkRefusal::NotPending("revoked"))
    );
}

/// One thing that may happen to an invitation, at an instant in seconds.
#[derive(Debug, Clone)]
enum Operation {
    Accept { at: i64, eligible: bool },
    Revoke { at: i64 },
    Email { at: i64 },
}

fn operations() -> impl Strategy<Value = Vec<Operation>> {
    let instant = 0..TTL_SECONDS * 3;
    let operation = prop_oneof![
        (instant.clone(), any::<bool>())
            .prop_map(|(at, eligible)| Operation::Accept { at, eligible }),
        instant.clone().prop_map(|at| Operation::Revoke { at }),
        instant.prop_map(|at| Operation::Email { at }),
    ];
    proptest::collection::vec(operation, 0..24)
}

/// One operation with the invitation before it and the outcome.
type Step = (Invitation, Operation, Result<Invitation, InvitationError>);

/// Runs `operations` in order from a fresh invitation: every step, and the
/// invitation after the last.
fn run(operations: &[Operation]) -> (Vec<Step>, Invitation) {
    let mut invitation = pending_invitation(at(0));
    let mut steps = Vec::new();
    for operation in operations {
        let outcome = match *operation {
            Operation::Accept { at: t, eligible } => {
                let reseller = reseller(AccountKind::Location, eligible);
                invitation
                    .accept(at(t), &reseller, "rita")
                    .map(|accepted| accepted.invitation)
            }
            Operation::Revoke { at: t } => invitation.revoke(at(t)),
            Operation::Email { at: t } => invitation
                .check_email(at(t), "link", "link")
                .map(|()| invitation.clone())
                .map_err(InvitationError::from),
        };
        steps.push((invitation.clone(), operation.clone(), outcome.clone()));
        if let Ok(next) = outcome {
            invitation = next;
        }
    }
    (steps, invitation)
}

proptest! {
    #[test]
    fn an_invitation_is_accepted_at_most_once(operations in operations()) {
        let acceptances = run(&operations)
            .0
            .into_iter()
            .filter(|(_, op, outcome)| matches!(op, Operation::Accept { .. }) && outcome.is_ok())
            .count();
        prop_assert!(acceptances <= 1);
    }

    #[test]
    fn a_closed_invitation_never_becomes_pending_again(operations in operations(), probe in 0..TTL_SECONDS * 3) {
        let mut closed = false;
        for (before, _, outcome) in run(&operations).0 {
            if closed {
                prop_assert!(before.closed.is_some());
                prop_assert_ne!(before.state_at(at(probe)), InvitationState::Pending);
            }
            if let Ok(after) = outcome {
                closed |= after.closed.is_some();
            }
        }
    }

    #[test]
    fn expired_is_decided_by_now_at_or_after_expires_at_only(operations in operations(), probe in 0..TTL_SECONDS * 3) {
        for (before, _, _) in run(&operations).0 {
            let expired = before.state_at(at(probe)) == InvitationState::Expired;
            prop_assert_eq!(expired, before.closed.is_none() && at(probe) >= before.expires_at);
        }
    }

    #[test]
    fn only_a_pending_invitation_changes_and_it_fails_only_an_ineligible_reseller(
        operations in operations(),
    ) {
        for (before, operation, outcome) in run(&operations).0 {
            let when = match operation {
                Operation::Accept { at, .. } | Operation::Revoke { at } | Operation::Email { at } => at,
            };
            let pending = before.state_at(at(when)) == InvitationState::Pending;
            match (&operation, &outcome) {
                (Operation::Email { .. }, Ok(after)) => prop_assert_eq!(after, &before),
                (_, Ok(after)) => {
                    prop_assert!(pending);
                    prop_assert!(after.closed.is_some());
                    prop_assert_eq!(after.version, before.version);
                }
                (_, Err(_)) => {
                    let refused_reseller = matches!(operation, Operation::Accept { eligible: false, .. });
                    prop_assert!(!pending || refused_reseller);
                }
            }
        }
    }

    #[test]
    fn accepting_after_a_revoke_always_fails_as_revoked(
        operations in operations(),
        revoke_at in 0..TTL_SECONDS,
        accept_at in 0..TTL_SECONDS * 3,
        eligible in any::<bool>(),
    ) {
        let (_, invitation) = run(&operations);
        if let Ok(revoked) = invitation.revoke(at(revoke_at)) {
            let reseller = reseller(AccountKind::Location, eligible);
            prop_assert_eq!(
                revoked.accept(at(accept_at), &reseller, "rita"),
                Err(InvitationError::Revoked)
            );
        }
    }
}

#[test]
fn accepting_while_partnered_uses_a_pending_invitation_up_for_the_existing_partnership() {
    let existing = pending_invitation(at(0))
        .accept(at(1), &eligible(), "rita")
        .expect("first acceptance")
        .partnership;
    let second = pending_invitation(at(2));
    let used = second
        .accept_into(at(3), &eligible(), &existing)
        .unwrap()
        .expect("a pending invitation is used up");
    assert_eq!(used.state_at(at(3)), InvitationState::Accepted);
    assert_eq!(used.partnership_id(), Some(existing.id.as_str()));
    assert_eq!(
        used.accept(at(4), &eligible(), "rita"),
        Err(InvitationError::AlreadyUsed),
        "it cannot make a partnership later"
    );
    assert_eq!(
        used.accept_into(at(4), &eligible(), &existing),
        Ok(None),
        "already used"
    );
    assert_eq!(
        second.accept_into(at(TTL_SECONDS + 2), &eligible(), &existing),
        Err(InvitationError::Expired),
        "an expired one stays expired"
    );
    assert_eq!(
        second
            .revoke(at(3))
            .unwrap()
            .accept_into(at(4), &eligible(), &existing),
        Err(InvitationError::Revoked),
        "a revoked one stays revoked"
    );
}

#[test]
fn accepting_while_partnered_still_needs_a_reseller_that_passes_r3() {
    let existing = pending_invitation(at(0))
        .accept(at(1), &eligible(), "rita")
        .expect("first acceptance")
        .partnership;
    let lapsed = reseller(AccountKind::Location, false);
    assert!(matches!(
        pending_invitation(at(2)).accept_into(at(3), &lapsed, &existing),
        Err(InvitationError::Ineligible(_))
    ));
}

#[test]
fn an_invitation_used_by_another_partnership_is_used_for_a_partnered_reseller_too() {
    let first = pending_invitation(at(0))
        .accept(at(1), &eligible(), "rita")
        .expect("first acceptance");
    let others = pending_invitation(at(0))
        .accept(at(1), &eligible(), "olga")
        .expect("another reseller's acceptance")
        .partnership;
    assert_ne!(first.partnership.id, others.id);
    assert_eq!(
        first.invitation.accept_into(at(2), &eligible(), &others),
        Err(InvitationError::AlreadyUsed)
    );
}

#[test]
fn accepting_a_used_invitation_again_still_needs_a_reseller_that_passes_r3() {
    let first = pending_invitation(at(0))
        .accept(at(1), &eligible(), "rita")
        .expect("first acceptance");
    let lapsed = reseller(AccountKind::Location, false);
    assert!(matches!(
        first
            .invitation
            .accept_into(at(2), &lapsed, &first.partnership),
        Err(InvitationError::Ineligible(_))
    ));
}

#[test]
fn an_invitation_sent_before_a_removal_cannot_bring_the_reseller_back() {
    use crate::domain::partnership::{Attestation, Removal};
    let mut removed = pending_invitation(at(0))
        .accept(at(1), &eligible(), "rita")
        .expect("first acceptance")
        .partnership;
    let before = pending_invitation(at(2));
    removed.removal = Some(Removal {
        at: at(5),
        by: "paula".into(),
        attestation: Attestation {
            good_faith: true,
            legitimate_business_purpose: true,
            per_agreements: true,
            indemnifies_platform: true,
        },
    });
    let after = pending_invitation(at(6));
    assert_eq!(
        before.check_sent_after_removal(Some(&removed)),
        Err(InvitationError::PredatesRemoval)
    );
    assert_eq!(after.check_sent_after_removal(Some(&removed)), Ok(()));
    assert_eq!(before.check_sent_after_removal(None), Ok(()));
}
