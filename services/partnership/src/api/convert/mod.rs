//! Protobuf <-> domain types, both directions, and the events the commands
//! append: the one place where generated types meet the domain's. A module
//! per aggregate.

mod invitation;
mod listing;
mod partnership;
mod reseller;

pub(super) use invitation::*;
pub(super) use listing::*;
pub(super) use partnership::*;
pub(super) use reseller::*;

fn reseller_name(partner_id: &str) -> String {
    format!("resellers/{partner_id}")
}

pub(in crate::api) fn invitation_name(provider_id: &str, id: &str) -> String {
    format!("providers/{provider_id}/invitations/{id}")
}

fn partnership_name(provider_id: &str, id: &str) -> String {
    format!("providers/{provider_id}/partnerships/{id}")
}
