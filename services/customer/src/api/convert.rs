//! Protobuf <-> domain types, both directions: the one place where the
//! generated types and the domain's meet. Decoding a request checks the form
//! of every field, the same for "Next: Review" and "Submit" (R10).

use std::fmt::Display;

use chrono::NaiveDate;
use twotier_platform::names::etag;
use twotier_platform::time::timestamp;
use twotier_platform::{Violations, validate};
use twotier_proto::customer as pb;

pub mod relationship;

use crate::domain::{
    Address, AdminCredentials, Attestation, Contact, Customer, CustomerAgreement, DelegatedAdmin,
    NewCustomer, Reseller, Scope, date_agreed, domain_prefix, initial_domain,
};

/// A domain rule's outcome as a field check.
fn check<T, E: Display>(outcome: &Result<T, E>) -> validate::Check {
    match outcome {
        Ok(_) => Ok(()),
        Err(error) => Err(error.to_string()),
    }
}

/// The customer `customer` describes, to add for `provider_id`; every
/// problem of its fields is added to `violations`.
pub fn new_customer(
    provider_id: &str,
    customer: pb::Customer,
    violations: &mut Violations,
) -> NewCustomer {
    violations.check(
        "customer.company_name",
        validate::line(&customer.company_name, 1, 200),
    );
    let prefix = domain_prefix(&customer.domain_prefix);
    violations.check("customer.domain_prefix", check(&prefix));
    let address = customer.address.unwrap_or_default();
    for (field, value, min, max) in [
        (
            "customer.address.address_line1",
            &address.address_line1,
            1,
            200,
        ),
        (
            "customer.address.address_line2",
            &address.address_line2,
            0,
            200,
        ),
        ("customer.address.city", &address.city, 1, 100),
        ("customer.address.region", &address.region, 0, 100),
        ("customer.address.postal_code", &address.postal_code, 1, 16),
    ] {
        violations.check(field, validate::line(value, min, max));
    }
    violations.check(
        "customer.address.country_code",
        validate::country_code(&address.country_code),
    );
    let contact = customer.primary_contact.unwrap_or_default();
    violations.check(
        "customer.primary_contact.first_name",
        validate::line(&contact.first_name, 1, 100),
    );
    violations.check(
        "customer.primary_contact.last_name",
        validate::line(&contact.last_name, 1, 100),
    );
    violations.check(
        "customer.primary_contact.email",
        validate::email(&contact.email),
    );
    violations.check(
        "customer.primary_contact.phone",
        validate::line(&contact.phone, 0, 64),
    );
    let language_code = validate::language_or_default(&customer.language_code);
    violations.check("customer.language_code", validate::language(&language_code));
    // The PartnerID's form is R3's to judge (R24): see `api::customer`.
    let reseller = customer.indirect_reseller_partner_id;
    NewCustomer {
        provider_id: provider_id.to_owned(),
        company_name: customer.company_name,
        domain_prefix: prefix.unwrap_or_default(),
        address: Address {
            address_line1: address.address_line1,
            address_line2: address.address_line2,
            city: address.city,
            region: address.region,
            postal_code: address.postal_code,
            country_code: address.country_code,
        },
        contact: Contact {
            first_name: contact.first_name,
            last_name: contact.last_name,
            email: contact.email,
            phone: contact.phone,
        },
        language_code,
        reseller_partner_id: Some(reseller).filter(|id| !id.is_empty()),
    }
}

/// The attestation `agreement` describes, agreed by `today` (UTC); every
/// problem of its fields is added to `violations`.
pub fn attestation(
    agreement: pb::CustomerAgreement,
    today: NaiveDate,
    violations: &mut Violations,
) -> Attestation {
    violations.check(
        "customer_agreement.signatory_first_name",
        validate::line(&agreement.signatory_first_name, 1, 100),
    );
    violations.check(
        "customer_agreement.signatory_last_name",
        validate::line(&agreement.signatory_last_name, 1, 100),
    );
    violations.check(
        "customer_agreement.signatory_email",
        validate::email(&agreement.signatory_email),
    );
    violations.check(
        "customer_agreement.signatory_phone",
        validate::line(&agreement.signatory_phone, 0, 64),
    );
    violations.check(
        "customer_agreement.date_agreed",
        check(&date_agreed(&agreement.date_agreed, today)),
    );
    Attestation {
        signatory_first_name: agreement.signatory_first_name,
        signatory_last_name: agreement.signatory_last_name,
        signatory_email: agreement.signatory_email,
        signatory_phone: agreement.signatory_phone,
        date_agreed: agreement.date_agreed,
    }
}

/// The resource name of a customer.
pub fn customer_name(provider_id: &str, id: &str) -> String {
    format!("providers/{provider_id}/customers/{id}")
}

/// A customer as a resource.
pub fn customer(customer: Customer) -> pb::Customer {
    pb::Customer {
        name: customer_name(&customer.provider_id, &customer.id),
        company_name: customer.company_name,
        domain: initial_domain(&customer.domain_prefix),
        domain_prefix: customer.domain_prefix,
        address: Some(pb::Address {
            address_line1: customer.address.address_line1,
            address_line2: customer.address.address_line2,
            city: customer.address.city,
            region: customer.address.region,
            postal_code: customer.address.postal_code,
            country_code: customer.address.country_code,
        }),
        primary_contact: Some(pb::Contact {
            first_name: customer.contact.first_name,
            last_name: customer.contact.last_name,
            email: customer.contact.email,
            phone: customer.contact.phone,
        }),
        language_code: customer.language_code,
        indirect_reseller_partner_id: customer.reseller_partner_id.unwrap_or_default(),
        customer_agreement_accepted: customer.agreement_accepted,
        create_time: Some(timestamp(customer.created_at)),
        etag: etag(customer.version),
    }
}

/// The administrator's credentials, for the one response that carries them.
pub fn credentials(credentials: AdminCredentials) -> pb::AdminCredentials {
    pb::AdminCredentials {
        user_name: credentials.user_name,
        temporary_password: credentials.temporary_password,
    }
}

/// A reseller as the events about its customers name it.
pub fn reseller_contact(reseller: &Reseller) -> pb::ResellerContact {
    pb::ResellerContact {
        partner_id: reseller.partner_id.clone(),
        company_name: reseller.company_name.clone(),
        contact_email: reseller.contact_email.clone(),
        language_code: reseller.language_code.clone(),
    }
}

/// A delegation as a resource.
pub fn relationship(grant: DelegatedAdmin) -> pb::DelegatedAdminRelationship {
    pb::DelegatedAdminRelationship {
        name: format!(
            "{}/delegatedAdminRelationships/{}",
            customer_name(&grant.provider_id, &grant.customer_id),
            grant.partner_id
        ),
        scopes: grant
            .scopes()
            .into_iter()
            .map(|scope| scope_of(scope).into())
            .collect(),
        partner_id: grant.partner_id,
        reseller_company_name: grant.reseller_company_name,
        create_time: Some(timestamp(grant.created_at)),
    }
}

fn scope_of(scope: Scope) -> pb::DelegatedScope {
    match scope {
        Scope::AccountAdministration => pb::DelegatedScope::AccountAdministration,
        Scope::SubscriptionAdministration => pb::DelegatedScope::SubscriptionAdministration,
    }
}

/// A recorded agreement as a resource.
pub fn agreement(agreement: CustomerAgreement) -> pb::CustomerAgreement {
    let attestation = agreement.attestation;
    pb::CustomerAgreement {
        name: format!(
            "{}/customerAgreement",
            customer_name(&agreement.provider_id, &agreement.customer_id)
        ),
        signatory_first_name: attestation.signatory_first_name,
        signatory_last_name: attestation.signatory_last_name,
        signatory_email: attestation.signatory_email,
        signatory_phone: attestation.signatory_phone,
        date_agreed: attestation.date_agreed,
        recorded_by: agreement.recorded_by,
        record_time: Some(timestamp(agreement.recorded_at)),
    }
}
