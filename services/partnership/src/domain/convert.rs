//! Stored rows as the resources of the public contract.

use chrono::{DateTime, Utc};
use twotier_platform::names::etag;
use twotier_platform::time::{optional_timestamp, timestamp};
use twotier_proto::partnership as pb;

use crate::store::entities::{invitation, partnership, provider_listing, reseller};

/// Invitation states as stored.
pub(crate) mod invitation_state {
    pub const PENDING: &str = "pending";
    pub const ACCEPTED: &str = "accepted";
    pub const REVOKED: &str = "revoked";
}

/// Partnership states as stored.
pub(crate) mod partnership_state {
    pub const ACTIVE: &str = "active";
    pub const REMOVED: &str = "removed";
}

pub(crate) fn listing_name(provider_id: &str) -> String {
    format!("providerListings/{provider_id}")
}

pub(crate) fn reseller_name(partner_id: &str) -> String {
    format!("resellers/{partner_id}")
}

pub(crate) fn invitation_name(provider_id: &str, id: &str) -> String {
    format!("providers/{provider_id}/invitations/{id}")
}

pub(crate) fn partnership_name(provider_id: &str, id: &str) -> String {
    format!("providers/{provider_id}/partnerships/{id}")
}

pub(crate) fn indirect_reseller_name(provider_id: &str, partner_id: &str) -> String {
    format!("providers/{provider_id}/indirectResellers/{partner_id}")
}

pub(crate) fn string_list(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

pub(crate) fn listing(row: provider_listing::Model) -> pb::ProviderListing {
    pb::ProviderListing {
        name: listing_name(&row.provider_id),
        display_name: row.display_name,
        markets: string_list(&row.markets),
        regions: string_list(&row.regions),
        contact_email: row.contact_email,
        contact_phone: row.contact_phone,
        website_uri: row.website_uri,
        preferred_language: row.preferred_language,
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
        etag: etag(row.version),
    }
}

pub(crate) fn account_kind(stored: &str) -> pb::AccountKind {
    match stored {
        "location" => pb::AccountKind::Location,
        "global" => pb::AccountKind::Global,
        _ => pb::AccountKind::Unspecified,
    }
}

pub(crate) fn reseller_status(row: &reseller::Model) -> pb::ResellerStatus {
    if account_kind(&row.account_kind) == pb::AccountKind::Global {
        return pb::ResellerStatus::GlobalAccount;
    }
    if !row.mpa_active {
        return pb::ResellerStatus::MpaInactive;
    }
    pb::ResellerStatus::Active
}

pub(crate) fn reseller(row: reseller::Model) -> pb::Reseller {
    pb::Reseller {
        name: reseller_name(&row.partner_id),
        status: reseller_status(&row).into(),
        account_kind: account_kind(&row.account_kind).into(),
        partner_id: row.partner_id,
        tenant_id: row.tenant_id,
        company_name: row.company_name,
        contact_email: row.contact_email,
        country_code: row.country_code,
        preferred_language: row.preferred_language,
        mpa_active: row.mpa_active,
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
        etag: etag(row.version),
    }
}

pub(crate) fn invitation_state_at(
    row: &invitation::Model,
    now: DateTime<Utc>,
) -> pb::InvitationState {
    match row.state.as_str() {
        invitation_state::ACCEPTED => pb::InvitationState::Accepted,
        invitation_state::REVOKED => pb::InvitationState::Revoked,
        _ if now >= row.expires_at => pb::InvitationState::Expired,
        _ => pb::InvitationState::Pending,
    }
}

pub(crate) fn invitation(row: invitation::Model, now: DateTime<Utc>) -> pb::Invitation {
    pb::Invitation {
        name: invitation_name(&row.provider_id, &row.id),
        state: invitation_state_at(&row, now).into(),
        partnership: row
            .partnership_id
            .as_deref()
            .map(|id| partnership_name(&row.provider_id, id))
            .unwrap_or_default(),
        reseller_email: row.reseller_email,
        language_code: row.language_code,
        create_time: Some(timestamp(row.created_at)),
        expire_time: Some(timestamp(row.expires_at)),
        created_by: row.created_by,
        accept_time: optional_timestamp(row.accepted_at),
        revoke_time: optional_timestamp(row.revoked_at),
        etag: etag(row.version),
    }
}

pub(crate) fn partnership_state(stored: &str) -> pb::PartnershipState {
    match stored {
        partnership_state::ACTIVE => pb::PartnershipState::Active,
        partnership_state::REMOVED => pb::PartnershipState::Removed,
        _ => pb::PartnershipState::Unspecified,
    }
}

pub(crate) fn partnership(row: partnership::Model) -> pb::Partnership {
    let removal = row.removed_at.map(|removed_at| pb::PartnershipRemoval {
        remove_time: Some(timestamp(removed_at)),
        removed_by: row.removed_by.clone().unwrap_or_default(),
        attestation: Some(pb::RemovalAttestation {
            good_faith: row.attested_good_faith,
            legitimate_business_purpose: row.attested_legitimate_purpose,
            per_agreements: row.attested_per_agreements,
            indemnifies_platform: row.attested_indemnifies_platform,
        }),
    });
    pb::Partnership {
        name: partnership_name(&row.provider_id, &row.id),
        reseller: reseller_name(&row.partner_id),
        state: partnership_state(&row.state).into(),
        invitation: invitation_name(&row.provider_id, &row.invitation_id),
        accept_time: Some(timestamp(row.accepted_at)),
        accepted_by: row.accepted_by,
        removal,
        etag: etag(row.version),
        provider_id: row.provider_id,
        partner_id: row.partner_id,
    }
}

pub(crate) fn indirect_reseller(
    partnership: &partnership::Model,
    reseller: &reseller::Model,
) -> pb::IndirectReseller {
    pb::IndirectReseller {
        name: indirect_reseller_name(&partnership.provider_id, &reseller.partner_id),
        partner_id: reseller.partner_id.clone(),
        company_name: reseller.company_name.clone(),
        contact_email: reseller.contact_email.clone(),
        country_code: reseller.country_code.clone(),
        preferred_language: reseller.preferred_language.clone(),
        partnership_state: partnership_state(&partnership.state).into(),
        partnership_state_time: Some(timestamp(partnership.state_changed_at)),
        partnership: partnership_name(&partnership.provider_id, &partnership.id),
    }
}
