//! Onboarded resellers and R3's answer (R2, R3).

use twotier_outbox::Event;
use twotier_platform::names::etag;
use twotier_platform::time::timestamp;
use twotier_proto::partnership as pb;

use super::reseller_name;
use crate::domain::{AccountKind, Reseller, ResellerStatus};

/// The account kind a request names; unspecified is not one.
pub(in crate::api) fn account_kind(value: i32) -> Result<AccountKind, String> {
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

pub(in crate::api) fn reseller(reseller: &Reseller) -> pb::Reseller {
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
pub(in crate::api) fn verified(
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

/// `ResellerOnboarded` with the reseller as onboarded.
pub(in crate::api) fn reseller_onboarded(reseller: &Reseller, reply: &pb::Reseller) -> Event {
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
pub(in crate::api) fn reseller_updated(reseller: &Reseller, reply: &pb::Reseller) -> Event {
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
