//! R22 as a state machine: a reseller relationship request is pending until
//! accepted once, revoked or expired; acceptance checks the reseller again
//! (R24) and records R9's delegation.

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use twotier_partners::eligibility::Ineligible;
use twotier_platform::personal_link::LinkRefusal;

use super::*;
use crate::domain::customer::tests::{new_customer, reseller};

const TTL_SECONDS: i64 = 3600;

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
}

fn customer(delegated_to: Option<&str>) -> Customer {
    new_customer("contoso", delegated_to)
        .create("alice", at(0), delegated_to.map(reseller))
        .unwrap()
        .customer
}

fn asked() -> NewRelationshipRequest {
    NewRelationshipRequest {
        admin_email: String::new(),
        language_code: String::new(),
        created_by: "alice".into(),
        created_by_email: "alice@contoso.example".into(),
    }
}

fn pending(customer: &Customer) -> RelationshipRequest {
    RelationshipRequest::new(
        customer,
        &reseller("4567890"),
        asked(),
        at(0),
        TimeDelta::seconds(TTL_SECONDS),
    )
    .unwrap()
}

#[test]
fn a_request_is_for_an_undelegated_customer_and_writes_to_its_admin_in_its_language() {
    let adatum = customer(None);
    let request = pending(&adatum);
    assert_eq!(request.admin_email, "admin@adatum.onmicrosoft.com");
    assert_eq!(request.language_code, "de");
    assert_eq!(request.partner_id, "4567890");
    assert_eq!(request.expires_at, at(TTL_SECONDS));
    assert_eq!(request.state_at(at(0)), RequestState::Pending);
    let chosen = RelationshipRequest::new(
        &adatum,
        &reseller("4567890"),
        NewRelationshipRequest {
            admin_email: "it@adatum.example".into(),
            language_code: "en".into(),
            ..asked()
        },
        at(0),
        TimeDelta::seconds(TTL_SECONDS),
    )
    .unwrap();
    assert_eq!(
        (chosen.admin_email.as_str(), chosen.language_code.as_str()),
        ("it@adatum.example", "en")
    );
    let delegated = customer(Some("7654321"));
    assert_eq!(
        RelationshipRequest::new(
            &delegated,
            &reseller("4567890"),
            asked(),
            at(0),
            TimeDelta::seconds(TTL_SECONDS)
        ),
        Err(RelationshipError::AlreadyDelegated("7654321".into()))
    );
}

#[test]
fn acceptance_records_r9s_delegation_once() {
    let adatum = customer(None);
    let request = pending(&adatum);
    let accepted = request
        .accept(at(10), &adatum, Ok(reseller("4567890")), "carla")
        .unwrap();
    assert_eq!(
        accepted.request.acceptance(),
        Some((at(10), &"carla".to_owned()))
    );
    assert_eq!(accepted.grant.customer_id, adatum.id);
    assert_eq!(accepted.grant.partner_id, "4567890");
    assert_eq!(
        accepted
            .request
            .accept(at(11), &adatum, Ok(reseller("4567890")), "carla"),
        Err(RelationshipError::AlreadyUsed)
    );
}

#[test]
fn accepting_while_delegated_to_its_reseller_uses_a_pending_link_up_and_refuses_a_dead_one() {
    let adatum = customer(None);
    let request = pending(&adatum);
    let used = request
        .accept_as_delegated(at(5), "carla")
        .unwrap()
        .expect("a pending link is used up");
    assert_eq!(used.acceptance(), Some((at(5), &"carla".to_owned())));
    // The link that delegated it, accepted again: nothing more to close.
    assert_eq!(used.accept_as_delegated(at(6), "carla"), Ok(None));
    assert_eq!(
        request
            .revoke(at(5))
            .unwrap()
            .accept_as_delegated(at(6), "carla"),
        Err(RelationshipError::Revoked)
    );
    assert_eq!(
        request.accept_as_delegated(at(TTL_SECONDS), "carla"),
        Err(RelationshipError::Expired)
    );
}

#[test]
fn expired_revoked_used_and_refused_resellers_fail_distinctly() {
    let adatum = customer(None);
    let request = pending(&adatum);
    let ok = || Ok(reseller("4567890"));
    assert_eq!(
        request.accept(at(TTL_SECONDS), &adatum, ok(), "carla"),
        Err(RelationshipError::Expired)
    );
    let revoked = request.revoke(at(5)).unwrap();
    assert_eq!(revoked.revoked_at(), Some(at(5)));
    assert_eq!(
        revoked.accept(at(6), &adatum, ok(), "carla"),
        Err(RelationshipError::Revoked)
    );
    assert_eq!(
        revoked.revoke(at(7)),
        Err(RelationshipError::NotPending("revoked"))
    );
    // R24: the reseller is checked again at acceptance.
    let lapsed = CustomerError::Ineligible(Ineligible::MpaInactive("4567890".into()));
    assert_eq!(
        request.accept(at(6), &adatum, Err(lapsed.clone()), "carla"),
        Err(RelationshipError::Customer(lapsed))
    );
    let removed = CustomerError::ResellerNotPartner("4567890".into());
    assert_eq!(
        request.accept(at(6), &adatum, Err(removed.clone()), "carla"),
        Err(RelationshipError::Customer(removed))
    );
    // Delegated meanwhile (R9 is immutable until R23 ends it).
    let delegated = Customer {
        reseller_partner_id: Some("7654321".into()),
        ..adatum
    };
    assert_eq!(
        request.accept(at(6), &delegated, ok(), "carla"),
        Err(RelationshipError::AlreadyDelegated("7654321".into()))
    );
}

#[test]
fn an_email_goes_out_only_while_pending_and_with_the_exact_link() {
    let request = pending(&customer(None));
    let link = link("https://x.example/accept", "tok");
    assert_eq!(link, "https://x.example/accept?token=tok");
    assert_eq!(
        request.check_email(at(1), &format!("open {link}"), &link),
        Ok(())
    );
    assert_eq!(
        request.check_email(at(1), "open tok", &link),
        Err(LinkRefusal::LinkMissing)
    );
    assert_eq!(
        request.check_email(at(TTL_SECONDS), &link, &link),
        Err(LinkRefusal::NotPending("expired"))
    );
}

/// One thing that may happen to a request, at an instant in seconds.
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

/// One operation with the request before it and the outcome.
type Step = (
    RelationshipRequest,
    Operation,
    Result<RelationshipRequest, RelationshipError>,
);

/// Runs `operations` in order from a fresh request: every step.
fn run(operations: &[Operation]) -> Vec<Step> {
    let adatum = customer(None);
    let mut request = pending(&adatum);
    let mut steps = Vec::new();
    for operation in operations {
        let outcome = match *operation {
            Operation::Accept { at: t, eligible } => {
                let partner = if eligible {
                    Ok(reseller("4567890"))
                } else {
                    Err(CustomerError::Ineligible(Ineligible::GlobalAccount(
                        "4567890".into(),
                    )))
                };
                request
                    .accept(at(t), &adatum, partner, "carla")
                    .map(|accepted| accepted.request)
            }
            Operation::Revoke { at: t } => request.revoke(at(t)),
            Operation::Email { at: t } => request
                .check_email(at(t), "link", "link")
                .map(|()| request.clone())
                .map_err(RelationshipError::from),
        };
        steps.push((request.clone(), operation.clone(), outcome.clone()));
        if let Ok(next) = outcome {
            request = next;
        }
    }
    steps
}

proptest! {
    #[test]
    fn a_request_is_accepted_at_most_once_and_never_reopens(
        operations in operations(),
        probe in 0..TTL_SECONDS * 3,
    ) {
        let mut acceptances = 0;
        let mut closed = false;
        for (before, operation, outcome) in run(&operations) {
            if closed {
                prop_assert_ne!(before.state_at(at(probe)), RequestState::Pending);
            }
            if let (Operation::Accept { .. }, Ok(_)) = (&operation, &outcome) {
                acceptances += 1;
            }
            if let Ok(after) = outcome {
                closed |= after.closed.is_some();
            }
        }
        prop_assert!(acceptances <= 1);
    }

    #[test]
    fn only_a_pending_request_changes_and_it_fails_only_a_refused_reseller(
        operations in operations(),
    ) {
        for (before, operation, outcome) in run(&operations) {
            let when = match operation {
                Operation::Accept { at, .. } | Operation::Revoke { at } | Operation::Email { at } => at,
            };
            let pending = before.state_at(at(when)) == RequestState::Pending;
            let expired = before.closed.is_none() && at(when) >= before.expires_at;
            prop_assert_eq!(before.state_at(at(when)) == RequestState::Expired, expired);
            match (&operation, &outcome) {
                (Operation::Email { .. }, Ok(after)) => prop_assert_eq!(after, &before),
                (_, Ok(after)) => {
                    prop_assert!(pending);
                    prop_assert!(after.closed.is_some());
                }
                (_, Err(_)) => {
                    let refused = matches!(operation, Operation::Accept { eligible: false, .. });
                    prop_assert!(!pending || refused);
                }
            }
        }
    }
}
