//! Validation of customer input: one function for "Next: Review" and
//! "Submit", so both report the same errors for the same input (R10).

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;
use twotier_platform::{Violations, validate};
use twotier_proto::customer as pb;

static DOMAIN_PREFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^[a-z0-9]{3,27}$").expect("static regex"));

/// A domain prefix, lower-cased: 3 to 27 letters and digits.
pub fn domain_prefix(value: &str) -> validate::Check {
    if DOMAIN_PREFIX.is_match(&value.to_lowercase()) {
        return Ok(());
    }
    Err("must be 3 to 27 letters and digits".into())
}

/// Every problem of a customer to create.
pub fn check_customer(violations: &mut Violations, customer: &pb::Customer) {
    violations.check(
        "customer.company_name",
        validate::line(&customer.company_name, 1, 200),
    );
    violations.check(
        "customer.domain_prefix",
        domain_prefix(&customer.domain_prefix),
    );
    let address = customer.address.clone().unwrap_or_default();
    violations.check(
        "customer.address.address_line1",
        validate::line(&address.address_line1, 1, 200),
    );
    violations.check(
        "customer.address.address_line2",
        validate::line(&address.address_line2, 0, 200),
    );
    violations.check(
        "customer.address.city",
        validate::line(&address.city, 1, 100),
    );
    violations.check(
        "customer.address.region",
        validate::line(&address.region, 0, 100),
    );
    violations.check(
        "customer.address.postal_code",
        validate::line(&address.postal_code, 1, 16),
    );
    violations.check(
        "customer.address.country_code",
        validate::country_code(&address.country_code),
    );
    let contact = customer.primary_contact.clone().unwrap_or_default();
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
    violations.check(
        "customer.language_code",
        validate::language(&validate::language_or_default(&customer.language_code)),
    );
    if !customer.indirect_reseller_partner_id.is_empty() {
        violations.check(
            "customer.indirect_reseller_partner_id",
            validate::partner_id(&customer.indirect_reseller_partner_id),
        );
    }
}

/// Every problem of a customer agreement attestation.
pub fn check_agreement(violations: &mut Violations, agreement: &pb::CustomerAgreement) {
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
        date_agreed(&agreement.date_agreed),
    );
}

/// A `YYYY-MM-DD` date that is not in the future (a day of slack for time
/// zones ahead of UTC).
fn date_agreed(value: &str) -> validate::Check {
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| "must be a date like 2026-11-25".to_owned())?;
    let latest = chrono::Utc::now().date_naive() + chrono::Days::new(1);
    if date > latest {
        return Err("must not be in the future".into());
    }
    Ok(())
}
