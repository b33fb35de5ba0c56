//! R2 and R3: onboarded indirect resellers and whether one may be chosen.

use chrono::{DateTime, Utc};
use twotier_partners::eligibility::{self, Ineligible};
use twotier_platform::change::{self, Change};

pub use twotier_partners::eligibility::AccountKind;

/// An indirect reseller onboarded to the CSP programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reseller {
    /// PartnerID of the onboarded account.
    pub partner_id: String,
    /// The reseller's tenant id (its users' `tid`).
    pub tenant_id: String,
    /// Legal company name.
    pub company_name: String,
    /// Contact email address.
    pub contact_email: String,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    /// `en` or `de`.
    pub preferred_language: String,
    /// Location or global account.
    pub account_kind: AccountKind,
    /// Whether the Microsoft Partner Agreement is active.
    pub mpa_active: bool,
    /// Onboarding instant.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Optimistic concurrency version.
    pub version: i64,
}

/// What R3 says about a reseller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResellerStatus {
    /// May be chosen.
    Active,
    /// A global account: never chosen.
    GlobalAccount,
    /// Chosen again once its MPA is active.
    MpaInactive,
}

/// A reseller to onboard, validated.
#[derive(Debug, Clone)]
pub struct ResellerFields {
    /// PartnerID of the onboarded account.
    pub partner_id: String,
    /// The reseller's tenant id.
    pub tenant_id: String,
    /// Company name.
    pub company_name: String,
    /// Contact email.
    pub contact_email: String,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    /// `en` or `de`.
    pub preferred_language: String,
    /// Location or global account.
    pub account_kind: AccountKind,
    /// Whether the MPA is active.
    pub mpa_active: bool,
}

/// Changes to an onboarded reseller (`None` keeps the stored value).
#[derive(Debug, Clone, Default)]
pub struct ResellerPatch {
    /// New company name.
    pub company_name: Option<String>,
    /// New contact email.
    pub contact_email: Option<String>,
    /// New country.
    pub country_code: Option<String>,
    /// New language.
    pub preferred_language: Option<String>,
    /// New account kind.
    pub account_kind: Option<AccountKind>,
    /// New MPA status.
    pub mpa_active: Option<bool>,
}

impl Reseller {
    /// The reseller of `fields`, onboarded at `now`.
    pub fn onboard(fields: ResellerFields, now: DateTime<Utc>) -> Self {
        Self {
            partner_id: fields.partner_id,
            tenant_id: fields.tenant_id,
            company_name: fields.company_name,
            contact_email: fields.contact_email,
            country_code: fields.country_code,
            preferred_language: fields.preferred_language,
            account_kind: fields.account_kind,
            mpa_active: fields.mpa_active,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// R3: whether this reseller may be chosen, and why not.
    pub fn eligibility(&self) -> Result<(), Ineligible> {
        eligibility::check(&self.partner_id, self.account_kind, self.mpa_active)
    }

    /// R3's answer as a status.
    pub fn status(&self) -> ResellerStatus {
        match self.eligibility() {
            Err(Ineligible::GlobalAccount(_)) => ResellerStatus::GlobalAccount,
            Err(Ineligible::MpaInactive(_)) => ResellerStatus::MpaInactive,
            Ok(()) | Err(Ineligible::Malformed | Ineligible::Unknown(_)) => ResellerStatus::Active,
        }
    }

    /// This reseller with `patch` applied at `now`; a patch with the
    /// values it has already is no change (R25).
    pub fn patched(&self, patch: ResellerPatch, now: DateTime<Utc>) -> Change<Self> {
        let current = self.clone();
        let patched = Self {
            company_name: patch.company_name.unwrap_or(current.company_name),
            contact_email: patch.contact_email.unwrap_or(current.contact_email),
            country_code: patch.country_code.unwrap_or(current.country_code),
            preferred_language: patch
                .preferred_language
                .unwrap_or(current.preferred_language),
            account_kind: patch.account_kind.unwrap_or(current.account_kind),
            mpa_active: patch.mpa_active.unwrap_or(current.mpa_active),
            ..current
        };
        match change::compare(self, patched) {
            Change::Changed(patched) => Change::Changed(Self {
                updated_at: now,
                ..patched
            }),
            Change::Unchanged => Change::Unchanged,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn reseller(account_kind: AccountKind, mpa_active: bool) -> Reseller {
        Reseller::onboard(
            ResellerFields {
                partner_id: "4567890".into(),
                tenant_id: "fabrikam".into(),
                company_name: "Fabrikam".into(),
                contact_email: "admin@fabrikam.example".into(),
                country_code: "DE".into(),
                preferred_language: "de".into(),
                account_kind,
                mpa_active,
            },
            DateTime::UNIX_EPOCH,
        )
    }

    #[test]
    fn only_a_location_account_with_an_active_mpa_is_active() {
        let cases = [
            (AccountKind::Location, true, ResellerStatus::Active),
            (AccountKind::Location, false, ResellerStatus::MpaInactive),
            (AccountKind::Global, true, ResellerStatus::GlobalAccount),
            (AccountKind::Global, false, ResellerStatus::GlobalAccount),
        ];
        for (kind, mpa_active, status) in cases {
            let reseller = reseller(kind, mpa_active);
            assert_eq!(reseller.status(), status);
            assert_eq!(
                reseller.eligibility().is_ok(),
                status == ResellerStatus::Active
            );
        }
        assert_eq!(
            reseller(AccountKind::Location, false).eligibility(),
            Err(Ineligible::MpaInactive("4567890".into()))
        );
    }

    #[test]
    fn restoring_the_mpa_makes_a_reseller_eligible_again() {
        let lapsed = reseller(AccountKind::Location, false);
        let later = DateTime::UNIX_EPOCH + chrono::TimeDelta::days(1);
        let restore = ResellerPatch {
            mpa_active: Some(true),
            ..Default::default()
        };
        let Change::Changed(restored) = lapsed.patched(restore.clone(), later) else {
            panic!("restoring the MPA is a change");
        };
        assert_eq!(restored.eligibility(), Ok(()));
        assert_eq!(restored.company_name, lapsed.company_name);
        assert_eq!(restored.updated_at, later);
        // R25: restoring it again changes nothing.
        assert_eq!(restored.patched(restore, later), Change::Unchanged);
    }
}
