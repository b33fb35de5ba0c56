//! Stored rows as the resources of the public contract.

use twotier_platform::names::etag;
use twotier_platform::time::timestamp;
use twotier_proto::customer as pb;

use crate::store::entities::{customer, customer_agreement, delegated_admin};

/// Suffix of every customer's initial domain.
pub(crate) const DOMAIN_SUFFIX: &str = ".onmicrosoft.com";

pub(crate) fn customer_name(provider_id: &str, id: &str) -> String {
    format!("providers/{provider_id}/customers/{id}")
}

pub(crate) fn domain(prefix: &str) -> String {
    format!("{prefix}{DOMAIN_SUFFIX}")
}

pub(crate) fn customer(row: customer::Model) -> pb::Customer {
    pb::Customer {
        name: customer_name(&row.provider_id, &row.id),
        company_name: row.company_name,
        domain: domain(&row.domain_prefix),
        domain_prefix: row.domain_prefix,
        address: Some(pb::Address {
            address_line1: row.address_line1,
            address_line2: row.address_line2,
            city: row.city,
            region: row.region,
            postal_code: row.postal_code,
            country_code: row.country_code,
        }),
        primary_contact: Some(pb::Contact {
            first_name: row.contact_first_name,
            last_name: row.contact_last_name,
            email: row.contact_email,
            phone: row.contact_phone,
        }),
        language_code: row.language_code,
        indirect_reseller_partner_id: row.reseller_partner_id.unwrap_or_default(),
        customer_agreement_accepted: row.agreement_accepted,
        create_time: Some(timestamp(row.created_at)),
        etag: etag(row.version),
    }
}

pub(crate) fn relationship(row: delegated_admin::Model) -> pb::DelegatedAdminRelationship {
    pb::DelegatedAdminRelationship {
        name: format!(
            "{}/delegatedAdminRelationships/{}",
            customer_name(&row.provider_id, &row.customer_id),
            row.partner_id
        ),
        partner_id: row.partner_id,
        reseller_company_name: row.reseller_company_name,
        scopes: vec![
            pb::DelegatedScope::AccountAdministration.into(),
            pb::DelegatedScope::SubscriptionAdministration.into(),
        ],
        create_time: Some(timestamp(row.created_at)),
    }
}

pub(crate) fn agreement(row: customer_agreement::Model) -> pb::CustomerAgreement {
    pb::CustomerAgreement {
        name: format!(
            "{}/customerAgreement",
            customer_name(&row.provider_id, &row.customer_id)
        ),
        signatory_first_name: row.signatory_first_name,
        signatory_last_name: row.signatory_last_name,
        signatory_email: row.signatory_email,
        signatory_phone: row.signatory_phone,
        date_agreed: row.date_agreed,
        recorded_by: row.recorded_by,
        record_time: Some(timestamp(row.recorded_at)),
    }
}
