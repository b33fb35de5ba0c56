//! Partnerships, indirect resellers, removal consents and the partnership
//! events (R5-R8).

use twotier_outbox::Event;
use twotier_platform::names::etag;
use twotier_platform::time::timestamp;
use twotier_platform::{Error, Violations};
use twotier_proto::partnership as pb;

use super::{invitation_name, partnership_name, reseller, reseller_name};
use crate::domain::{
    Attestation, IndirectReseller, Partnership, PartnershipState, ProviderContact, RemovalRefused,
    Reseller, Statement,
};

fn partnership_state(state: PartnershipState) -> pb::PartnershipState {
    match state {
        PartnershipState::Active => pb::PartnershipState::Active,
        PartnershipState::Removed => pb::PartnershipState::Removed,
    }
}

pub(in crate::api) fn partnership(partnership: &Partnership) -> pb::Partnership {
    let removal = partnership
        .removal
        .as_ref()
        .map(|removal| pb::PartnershipRemoval {
            remove_time: Some(timestamp(removal.at)),
            removed_by: removal.by.clone(),
            attestation: Some(pb::RemovalAttestation {
                good_faith: removal.attestation.good_faith,
                legitimate_business_purpose: removal.attestation.legitimate_business_purpose,
                per_agreements: removal.attestation.per_agreements,
                indemnifies_platform: removal.attestation.indemnifies_platform,
            }),
        });
    pb::Partnership {
        name: partnership_name(&partnership.provider_id, &partnership.id),
        reseller: reseller_name(&partnership.partner_id),
        state: partnership_state(partnership.state()).into(),
        invitation: invitation_name(&partnership.provider_id, &partnership.invitation_id),
        accept_time: Some(timestamp(partnership.accepted_at)),
        accepted_by: partnership.accepted_by.clone(),
        removal,
        etag: etag(partnership.version),
        provider_id: partnership.provider_id.clone(),
        partner_id: partnership.partner_id.clone(),
    }
}

pub(in crate::api) fn indirect_reseller(listed: IndirectReseller) -> pb::IndirectReseller {
    pb::IndirectReseller {
        name: format!(
            "providers/{}/indirectResellers/{}",
            listed.provider_id, listed.partner_id
        ),
        partnership: partnership_name(&listed.provider_id, &listed.partnership_id),
        partnership_state: partnership_state(listed.state).into(),
        partnership_state_time: Some(timestamp(listed.state_changed_at)),
        partner_id: listed.partner_id,
        company_name: listed.company_name,
        contact_email: listed.contact_email,
        country_code: listed.country_code,
        preferred_language: listed.preferred_language,
    }
}

pub(in crate::api) fn attestation(attestation: pb::RemovalAttestation) -> Attestation {
    Attestation {
        good_faith: attestation.good_faith,
        legitimate_business_purpose: attestation.legitimate_business_purpose,
        per_agreements: attestation.per_agreements,
        indemnifies_platform: attestation.indemnifies_platform,
    }
}

/// R7's refusal as the request's invalid fields, every one at once.
pub(in crate::api) fn removal_refused(refused: RemovalRefused) -> Error {
    let mut violations = Violations::new();
    if !refused.confirmed {
        violations.add(
            "confirm",
            "must be true: removing a partnership needs explicit confirmation",
        );
    }
    for statement in refused.missing {
        let field = match statement {
            Statement::GoodFaith => "attestation.good_faith",
            Statement::LegitimateBusinessPurpose => "attestation.legitimate_business_purpose",
            Statement::PerAgreements => "attestation.per_agreements",
            Statement::IndemnifiesPlatform => "attestation.indemnifies_platform",
        };
        violations.add(field, "must be affirmed to remove a partnership");
    }
    let reason = if refused.confirmed {
        "ATTESTATION_INCOMPLETE"
    } else {
        "REMOVAL_NOT_CONFIRMED"
    };
    match violations.into_result(reason) {
        Err(invalid) => invalid,
        // `RemovalConsent::check` refuses only with a shortcoming.
        Ok(()) => Error::Internal("a removal refused without a shortcoming".into()),
    }
}

/// `PartnershipAccepted`, for the projections and the provider's email.
pub(in crate::api) fn partnership_accepted(
    accepted: &Partnership,
    reply: &pb::Partnership,
    partner: &Reseller,
    contact: ProviderContact,
) -> Event {
    let payload = pb::PartnershipAccepted {
        partnership: Some(reply.clone()),
        reseller: Some(reseller(partner)),
        provider_contact: Some(pb::ProviderContact {
            display_name: contact.display_name,
            email: contact.email,
            language_code: contact.language_code,
        }),
    };
    Event::new("partnership", &accepted.id, &accepted.provider_id, &payload)
}

/// `PartnershipRemoved`: nobody is emailed about it (R7).
pub(in crate::api) fn partnership_removed(removed: &Partnership, reply: &pb::Partnership) -> Event {
    let payload = pb::PartnershipRemoved {
        partnership: Some(reply.clone()),
    };
    Event::new("partnership", &removed.id, &removed.provider_id, &payload)
}
