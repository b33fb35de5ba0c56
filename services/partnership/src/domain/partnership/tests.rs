//! The partnership's decisions (R7), one by one and as a state machine under
//! arbitrary sequences of removal attempts.

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;

use super::*;
use crate::domain::invitation::tests::pending_invitation;
use crate::domain::reseller::AccountKind;
use crate::domain::reseller::tests::reseller;

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::UNIX_EPOCH + TimeDelta::seconds(seconds)
}

fn active() -> Partnership {
    pending_invitation(at(0))
        .accept(at(1), &reseller(AccountKind::Location, true), "rita")
        .expect("pending and eligible")
        .partnership
}

const FULL: Attestation = Attestation {
    good_faith: true,
    legitimate_business_purpose: true,
    per_agreements: true,
    indemnifies_platform: true,
};

fn consent(confirmed: bool, attestation: Attestation) -> RemovalConsent {
    RemovalConsent {
        confirmed,
        attestation,
    }
}

#[test]
fn a_confirmed_fully_attested_removal_records_who_when_and_what() {
    let partnership = active();
    assert_eq!(partnership.state(), PartnershipState::Active);
    let attested = consent(true, FULL).check().expect("complete consent");
    let removed = partnership
        .remove(at(100), "alice", attested)
        .expect("active");
    assert_eq!(removed.state(), PartnershipState::Removed);
    assert_eq!(removed.state_changed_at, at(100));
    assert_eq!(
        removed.removal,
        Some(Removal {
            at: at(100),
            by: "alice".into(),
            attestation: FULL,
        })
    );
    assert_eq!(removed.accepted_at, partnership.accepted_at);
    assert_eq!(removed.partner_id, partnership.partner_id);
    assert_eq!(
        removed.remove(at(101), "alice", attested),
        Err(PartnershipError::NotActive("4567890".into())),
        "a removed partnership is not removed again"
    );
}

#[test]
fn a_partnership_after_a_removed_one_goes_on_from_its_version() {
    let first = active();
    assert_eq!(first.version, 1);
    let removed = first
        .remove(
            at(2),
            "alice",
            consent(true, FULL).check().expect("consent"),
        )
        .expect("removed");
    let again = active().following(Some(&removed));
    assert_eq!(again.version, removed.version + 1);
    assert_ne!(again.version, first.version, "an old etag never matches");
    assert_eq!(active().following(None).version, 1, "a first partnership");
}

#[test]
fn a_consent_names_every_shortcoming() {
    assert_eq!(
        consent(false, FULL).check(),
        Err(RemovalRefused {
            confirmed: false,
            missing: vec![],
        })
    );
    let partial = Attestation {
        indemnifies_platform: false,
        ..FULL
    };
    assert_eq!(
        consent(true, partial).check(),
        Err(RemovalRefused {
            confirmed: true,
            missing: vec![Statement::IndemnifiesPlatform],
        })
    );
    assert_eq!(
        consent(false, Attestation::default()).check(),
        Err(RemovalRefused {
            confirmed: false,
            missing: vec![
                Statement::GoodFaith,
                Statement::LegitimateBusinessPurpose,
                Statement::PerAgreements,
                Statement::IndemnifiesPlatform,
            ],
        })
    );
}

fn attestations() -> impl Strategy<Value = Attestation> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(good_faith, legitimate_business_purpose, per_agreements, indemnifies_platform)| {
            Attestation {
                good_faith,
                legitimate_business_purpose,
                per_agreements,
                indemnifies_platform,
            }
        },
    )
}

/// A removal attempt: when, and with which consent.
fn attempts() -> impl Strategy<Value = Vec<(i64, RemovalConsent)>> {
    let attempt = (0..10_000i64, any::<bool>(), attestations())
        .prop_map(|(t, confirmed, attestation)| (t, consent(confirmed, attestation)));
    proptest::collection::vec(attempt, 0..16)
}

proptest! {
    #[test]
    fn a_consent_passes_exactly_when_confirmed_with_all_four_statements(
        confirmed in any::<bool>(),
        attestation in attestations(),
    ) {
        let complete = confirmed
            && attestation.good_faith
            && attestation.legitimate_business_purpose
            && attestation.per_agreements
            && attestation.indemnifies_platform;
        let checked = consent(confirmed, attestation).check();
        prop_assert_eq!(checked.is_ok(), complete);
        if let Err(refused) = checked {
            prop_assert_eq!(refused.confirmed, confirmed);
            prop_assert_eq!(refused.missing.len(), attestation.missing().len());
        }
    }

    #[test]
    fn a_partnership_is_removed_at_most_once_and_stays_removed_as_first_recorded(
        attempts in attempts(),
    ) {
        let mut partnership = active();
        let mut first_removal: Option<Removal> = None;
        for (t, consent) in attempts {
            let Ok(attested) = consent.check() else {
                continue;
            };
            match partnership.remove(at(t), "alice", attested) {
                Ok(removed) => {
                    prop_assert!(first_removal.is_none(), "removed twice");
                    prop_assert_eq!(removed.removal.as_ref().map(|r| r.attestation), Some(FULL));
                    first_removal = removed.removal.clone();
                    partnership = removed;
                }
                Err(error) => {
                    prop_assert!(first_removal.is_some());
                    prop_assert_eq!(error, PartnershipError::NotActive(partnership.partner_id.clone()));
                }
            }
            prop_assert_eq!(&partnership.removal, &first_removal);
            prop_assert_eq!(
                partnership.state(),
                if first_removal.is_some() { PartnershipState::Removed } else { PartnershipState::Active }
            );
        }
    }
}
