//! Protobuf <-> domain types, both directions, and the events the commands
//! append: the one place where generated types meet the domain's.

use chrono::{DateTime, Utc};
use twotier_outbox::Event;
use twotier_platform::names::etag;
use twotier_platform::time::{optional_timestamp, timestamp};
use twotier_platform::{Error, Violations};
use twotier_proto::partnership as pb;

use crate::domain::{
    AccountKind, Attestation, EmailDraft, IndirectReseller, Invitation, InvitationState, Listing,
    ListingFields, Partnership, PartnershipState, ProviderContact, RemovalRefused, Reseller,
    ResellerStatus, Statement,
};

pub(super) fn listing_name(provider_id: &str) -> String {
    format!("providerListings/{provider_id}")
}

pub(super) fn reseller_name(partner_id: &str) -> String {
    format!("resellers/{partner_id}")
}

pub(super) fn invitation_name(provider_id: &str, id: &str) -> String {
    format!("providers/{provider_id}/invitations/{id}")
}

fn partnership_name(provider_id: &str, id: &str) -> String {
    format!("providers/{provider_id}/partnerships/{id}")
}

fn indirect_reseller_name(provider_id: &str, partner_id: &str) -> String {
    format!("providers/{provider_id}/indirectResellers/{partner_id}")
}

pub(super) fn listing(listing: &Listing) -> pb::ProviderListing {
    pb::ProviderListing {
        name: listing_name(&listing.provider_id),
        display_name: listing.display_name.clone(),
        markets: listing.markets.clone(),
        regions: listing.regions.clone(),
        contact_email: listing.contact_email.clone(),
        contact_phone: listing.contact_phone.clone(),
        website_uri: listing.website_uri.clone(),
        preferred_language: listing.preferred_language.clone(),
        create_time: Some(timestamp(listing.created_at)),
        update_time: Some(timestamp(listing.updated_at)),
        etag: etag(listing.version),
    }
}

/// The fields of a validated listing; `preferred_language` is already
/// defaulted.
pub(super) fn listing_fields(listing: pb::ProviderListing) -> ListingFields {
    ListingFields {
        display_name: listing.display_name,
        markets: listing.markets,
        regions: listing.regions,
        contact_email: listing.contact_email,
        contact_phone: listing.contact_phone,
        website_uri: listing.website_uri,
        preferred_language: listing.preferred_language,
    }
}

/// The account kind a request names; unspecified is not one.
pub(super) fn account_kind(value: i32) -> Result<AccountKind, String> {
    match pb::AccountKind::try_from(value) {
        Ok(pb::AccountKind::Location) => Ok(AccountKind::Location),
        Ok(pb::AccountKind::Global) => Ok(AccountKind::Global),
        _ => Err("must be ACCOUNT_KIND_LOCATION or ACCOUNT_KIND_GLOBAL".into()),
    }
}

fn reseller_status(status: ResellerStatus) -> pb::ResellerStatus {
    match status {
        ResellerStatus::Active => pb::ResellerStatus::Active,
        ResellerStatus::GlobalAccount => pb::ResellerStatus::GlobalAccount,
        ResellerStatus::MpaInactive => pb::ResellerStatus::MpaInactive,
    }
}

pub(super) fn reseller(reseller: &Reseller) -> pb::Reseller {
    let account_kind = match reseller.account_kind {
        AccountKind::Location => pb::AccountKind::Location,
        AccountKind::Global => pb::AccountKind::Global,
    };
    pb::Reseller {
        name: reseller_name(&reseller.partner_id),
        status: reseller_status(reseller.status()).into(),
        account_kind: account_kind.into(),
        partner_id: reseller.partner_id.clone(),
        tenant_id: reseller.tenant_id.clone(),
        company_name: reseller.company_name.clone(),
        contact_email: reseller.contact_email.clone(),
        country_code: reseller.country_code.clone(),
        preferred_language: reseller.preferred_language.clone(),
        mpa_active: reseller.mpa_active,
        create_time: Some(timestamp(reseller.created_at)),
        update_time: Some(timestamp(reseller.updated_at)),
        etag: etag(reseller.version),
    }
}

/// R3's answer about an eligible `reseller`.
pub(super) fn verified(
    reseller: &Reseller,
    partnered_with_caller: bool,
) -> pb::VerifyPartnerIdResponse {
    pb::VerifyPartnerIdResponse {
        reseller: reseller_name(&reseller.partner_id),
        partner_id: reseller.partner_id.clone(),
        company_name: reseller.company_name.clone(),
        country_code: reseller.country_code.clone(),
        status: reseller_status(reseller.status()).into(),
        partnered_with_caller,
    }
}

fn invitation_state(state: InvitationState) -> pb::InvitationState {
    match state {
        InvitationState::Pending => pb::InvitationState::Pending,
        InvitationState::Accepted => pb::InvitationState::Accepted,
        InvitationState::Revoked => pb::InvitationState::Revoked,
        InvitationState::Expired => pb::InvitationState::Expired,
    }
}

/// `invitation` as it stands at `now`.
pub(super) fn invitation(invitation: &Invitation, now: DateTime<Utc>) -> pb::Invitation {
    pb::Invitation {
        name: invitation_name(&invitation.provider_id, &invitation.id),
        state: invitation_state(invitation.state_at(now)).into(),
        partnership: invitation
            .partnership_id()
            .map(|id| partnership_name(&invitation.provider_id, id))
            .unwrap_or_default(),
        reseller_email: invitation.reseller_email.clone(),
        language_code: invitation.language_code.clone(),
        create_time: Some(timestamp(invitation.created_at)),
        expire_time: Some(timestamp(invitation.expires_at)),
        created_by: invitation.created_by.clone(),
        accept_time: optional_timestamp(invitation.accepted_at()),
        revoke_time: optional_timestamp(invitation.revoked_at()),
        etag: etag(invitation.version),
    }
}

pub(super) fn email_draft(draft: EmailDraft) -> pb::EmailDraft {
    pb::EmailDraft {
        to: draft.to,
        subject: draft.subject,
        body: draft.body,
        mailto_uri: draft.mailto_uri,
        plain_text: draft.plain_text,
    }
}

fn partnership_state(state: PartnershipState) -> pb::PartnershipState {
    match state {
        PartnershipState::Active => pb::PartnershipState::Active,
        PartnershipState::Removed => pb::PartnershipState::Removed,
    }
}

pub(super) fn partnership(partnership: &Partnership) -> pb::Partnership {
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

pub(super) fn indirect_reseller(listed: &IndirectReseller) -> pb::IndirectReseller {
    let IndirectReseller {
        partnership,
        reseller,
    } = listed;
    pb::IndirectReseller {
        name: indirect_reseller_name(&partnership.provider_id, &reseller.partner_id),
        partner_id: reseller.partner_id.clone(),
        company_name: reseller.company_name.clone(),
        contact_email: reseller.contact_email.clone(),
        country_code: reseller.country_code.clone(),
        preferred_language: reseller.preferred_language.clone(),
        partnership_state: partnership_state(partnership.state()).into(),
        partnership_state_time: Some(timestamp(partnership.state_changed_at)),
        partnership: partnership_name(&partnership.provider_id, &partnership.id),
    }
}

pub(super) fn attestation(attestation: pb::RemovalAttestation) -> Attestation {
    Attestation {
        good_faith: attestation.good_faith,
        legitimate_business_purpose: attestation.legitimate_business_purpose,
        per_agreements: attestation.per_agreements,
        indemnifies_platform: attestation.indemnifies_platform,
    }
}

/// R7's refusal as the request's invalid fields, every one at once.
pub(super) fn removal_refused(refused: RemovalRefused) -> Error {
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
    violations
        .into_result(reason)
        .err()
        .unwrap_or_else(|| Error::Internal("a refused removal without a shortcoming".into()))
}

fn provider_contact(contact: ProviderContact) -> pb::ProviderContact {
    pb::ProviderContact {
        display_name: contact.display_name,
        email: contact.email,
        language_code: contact.language_code,
    }
}

/// `ProviderListingChanged` with the listing as it now is.
pub(super) fn listing_changed(listing: &Listing, reply: &pb::ProviderListing) -> Event {
    Event::new(
        "provider_listing",
        &listing.provider_id,
        &listing.provider_id,
        &pb::ProviderListingChanged {
            provider_listing: Some(reply.clone()),
        },
    )
}

/// `ResellerOnboarded` with the reseller as onboarded.
pub(super) fn reseller_onboarded(reseller: &Reseller, reply: &pb::Reseller) -> Event {
    let payload = pb::ResellerOnboarded {
        reseller: Some(reply.clone()),
    };
    Event::new(
        "reseller",
        &reseller.partner_id,
        &reseller.tenant_id,
        &payload,
    )
}

/// `ResellerUpdated` with the reseller as it now is.
pub(super) fn reseller_updated(reseller: &Reseller, reply: &pb::Reseller) -> Event {
    let payload = pb::ResellerUpdated {
        reseller: Some(reply.clone()),
    };
    Event::new(
        "reseller",
        &reseller.partner_id,
        &reseller.tenant_id,
        &payload,
    )
}

pub(super) fn invitation_created(invitation: &Invitation) -> Event {
    let payload = pb::InvitationCreated {
        invitation: invitation_name(&invitation.provider_id, &invitation.id),
        provider_id: invitation.provider_id.clone(),
        reseller_email: invitation.reseller_email.clone(),
        language_code: invitation.language_code.clone(),
        expire_time: Some(timestamp(invitation.expires_at)),
    };
    invitation_event(invitation, &payload)
}

/// `InvitationEmailRequested`; `sealed_body` holds the marker in place of
/// the token.
pub(super) fn invitation_email_requested(
    invitation: &Invitation,
    subject: &str,
    sealed_body: String,
    provider_display_name: String,
) -> Event {
    let payload = pb::InvitationEmailRequested {
        invitation: invitation_name(&invitation.provider_id, &invitation.id),
        provider_id: invitation.provider_id.clone(),
        to: invitation.reseller_email.clone(),
        subject: subject.to_owned(),
        body: sealed_body,
        language_code: invitation.language_code.clone(),
        provider_display_name,
    };
    invitation_event(invitation, &payload)
}

pub(super) fn invitation_revoked(invitation: &Invitation) -> Event {
    let payload = pb::InvitationRevoked {
        invitation: invitation_name(&invitation.provider_id, &invitation.id),
        provider_id: invitation.provider_id.clone(),
    };
    invitation_event(invitation, &payload)
}

fn invitation_event<M: prost::Name>(invitation: &Invitation, payload: &M) -> Event {
    Event::new(
        "invitation",
        &invitation.id,
        &invitation.provider_id,
        payload,
    )
}

/// `PartnershipAccepted`, for the projections and the provider's email.
pub(super) fn partnership_accepted(
    accepted: &Partnership,
    reply: &pb::Partnership,
    partner: &Reseller,
    contact: ProviderContact,
) -> Event {
    let payload = pb::PartnershipAccepted {
        partnership: Some(reply.clone()),
        reseller: Some(reseller(partner)),
        provider_contact: Some(provider_contact(contact)),
    };
    Event::new("partnership", &accepted.id, &accepted.provider_id, &payload)
}

/// `PartnershipRemoved`: nobody is emailed about it (R7).
pub(super) fn partnership_removed(removed: &Partnership, reply: &pb::Partnership) -> Event {
    let payload = pb::PartnershipRemoved {
        partnership: Some(reply.clone()),
    };
    Event::new("partnership", &removed.id, &removed.provider_id, &payload)
}
