//! R12: the provider's attestation that the customer accepted the Microsoft
//! Customer Agreement, needed before the first purchase.

use chrono::{DateTime, Days, NaiveDate, Utc};

use super::customer::Customer;
use super::error::AgreementError;

/// What the provider attests: who signed and when.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attestation {
    /// Signatory first name.
    pub signatory_first_name: String,
    /// Signatory last name.
    pub signatory_last_name: String,
    /// Signatory email.
    pub signatory_email: String,
    /// Signatory phone, may be empty.
    pub signatory_phone: String,
    /// As entered; [`date_agreed`] accepts it.
    pub date_agreed: String,
}

/// The attestation recorded for one customer; a later one replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerAgreement {
    /// The customer.
    pub customer_id: String,
    /// The customer's provider.
    pub provider_id: String,
    /// What was attested.
    pub attestation: Attestation,
    /// Subject of the provider user who recorded it.
    pub recorded_by: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

impl CustomerAgreement {
    /// R25: whether this is `attestation` recorded already, so that
    /// recording it again changes nothing (who recorded it and when stay as
    /// they were, and the customer's etag with them).
    pub fn records(&self, attestation: &Attestation) -> bool {
        &self.attestation == attestation
    }

    /// The attestation `recorded_by` records for `customer` at `now`.
    pub fn record(
        customer: &Customer,
        attestation: Attestation,
        recorded_by: &str,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            customer_id: customer.id.clone(),
            provider_id: customer.provider_id.clone(),
            attestation,
            recorded_by: recorded_by.to_owned(),
            recorded_at: now,
        }
    }
}

/// The day the customer agreed: a `YYYY-MM-DD` date not after `today`,
/// where today is the UTC date plus one day of slack for time zones ahead
/// of UTC.
pub fn date_agreed(value: &str, today: NaiveDate) -> Result<NaiveDate, AgreementError> {
    // Exactly the ten characters of `YYYY-MM-DD`: the parser alone would
    // also take `2026-1-5`, ` 2026-01-05` or `+2026-01-05`, which are stored
    // as entered and would differ from the same day written canonically.
    let canonical = value.len() == 10
        && value.bytes().enumerate().all(|(at, byte)| match at {
            4 | 7 => byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    if !canonical {
        return Err(AgreementError::MalformedDate);
    }
    let date =
        NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| AgreementError::MalformedDate)?;
    let latest = today + Days::new(1);
    if date > latest {
        return Err(AgreementError::DateInFuture);
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::customer::tests::new_customer;

    fn day(value: &str) -> NaiveDate {
        NaiveDate::parse_from_str(value, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_date_agreed_is_a_real_date_up_to_one_day_ahead_of_utc() {
        let today = day("2026-11-25");
        assert_eq!(date_agreed("2026-11-25", today), Ok(today));
        assert_eq!(date_agreed("2020-02-29", today), Ok(day("2020-02-29")));
        assert_eq!(date_agreed("2026-11-26", today), Ok(day("2026-11-26")));
        assert_eq!(
            date_agreed("2026-11-27", today),
            Err(AgreementError::DateInFuture)
        );
        assert_eq!(
            date_agreed("2999-01-01", today),
            Err(AgreementError::DateInFuture)
        );
        for malformed in [
            "",
            "yesterday",
            "25.11.2026",
            "2026-02-30",
            "2026-11-25T00:00",
            "2026-1-5",
            " 2026-01-05",
            "+2026-01-05",
            "-0001-01-01",
            "2026-11-2５",
        ] {
            assert_eq!(
                date_agreed(malformed, today),
                Err(AgreementError::MalformedDate),
                "{malformed:?}"
            );
        }
    }

    #[test]
    fn an_agreement_is_recorded_for_the_customer_with_who_and_when() {
        let now = Utc::now();
        let customer = new_customer("contoso", None)
            .create("alice", now, None)
            .unwrap()
            .customer;
        let attestation = Attestation {
            signatory_first_name: "Wendy".into(),
            signatory_last_name: "Winter".into(),
            signatory_email: "wendy@adatum.example".into(),
            signatory_phone: String::new(),
            date_agreed: "2026-11-20".into(),
        };
        let recorded = CustomerAgreement::record(&customer, attestation.clone(), "bob", now);
        assert_eq!(
            recorded,
            CustomerAgreement {
                customer_id: customer.id,
                provider_id: "contoso".into(),
                attestation,
                recorded_by: "bob".into(),
                recorded_at: now,
            }
        );
    }

    fn attestation(first_name: &str) -> Attestation {
        Attestation {
            signatory_first_name: first_name.into(),
            signatory_last_name: "Winter".into(),
            signatory_email: "wendy@adatum.example".into(),
            signatory_phone: String::new(),
            date_agreed: "2026-01-02".into(),
        }
    }

    #[test]
    fn the_same_attestation_again_changes_nothing_and_any_other_field_does() {
        let recorded = CustomerAgreement {
            customer_id: "c".into(),
            provider_id: "contoso".into(),
            attestation: attestation("Wendy"),
            recorded_by: "alice".into(),
            recorded_at: DateTime::UNIX_EPOCH,
        };
        assert!(recorded.records(&attestation("Wendy")));
        assert!(!recorded.records(&attestation("Walter")));
        let other_day = Attestation {
            date_agreed: "2026-01-03".into(),
            ..attestation("Wendy")
        };
        assert!(!recorded.records(&other_day));
    }
}
