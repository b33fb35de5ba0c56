//! R5 to R8: a partnership is active from its acceptance until the provider
//! removes it, with explicit confirmation and its full attestation (R7).
//! Removal is final: working together again takes a new invitation.

use chrono::{DateTime, Utc};

use super::error::PartnershipError;
use super::invitation::Invitation;
use super::reseller::Reseller;

/// Where a partnership stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnershipState {
    /// The provider works with the reseller (R6).
    Active,
    /// Ended by the provider (R7).
    Removed,
}

/// The provider's statements on removing a partnership (R7).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attestation {
    /// Decided in good faith.
    pub good_faith: bool,
    /// For a legitimate business purpose.
    pub legitimate_business_purpose: bool,
    /// Per the provider's agreements.
    pub per_agreements: bool,
    /// The provider indemnifies the platform.
    pub indemnifies_platform: bool,
}

/// One statement of an [`Attestation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statement {
    /// [`Attestation::good_faith`].
    GoodFaith,
    /// [`Attestation::legitimate_business_purpose`].
    LegitimateBusinessPurpose,
    /// [`Attestation::per_agreements`].
    PerAgreements,
    /// [`Attestation::indemnifies_platform`].
    IndemnifiesPlatform,
}

impl Attestation {
    /// The statements the provider did not affirm, in a fixed order.
    pub fn missing(&self) -> Vec<Statement> {
        [
            (Statement::GoodFaith, self.good_faith),
            (
                Statement::LegitimateBusinessPurpose,
                self.legitimate_business_purpose,
            ),
            (Statement::PerAgreements, self.per_agreements),
            (Statement::IndemnifiesPlatform, self.indemnifies_platform),
        ]
        .into_iter()
        .filter_map(|(statement, affirmed)| (!affirmed).then_some(statement))
        .collect()
    }
}

/// What the provider sent to remove a partnership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemovalConsent {
    /// The explicit confirmation.
    pub confirmed: bool,
    /// The attestation.
    pub attestation: Attestation,
}

/// A consent that R7 accepts: confirmed and fully attested. Only
/// [`RemovalConsent::check`] makes one, so no removal happens without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attested(Attestation);

/// Why R7 refuses a consent: every shortcoming at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovalRefused {
    /// Whether the removal was confirmed.
    pub confirmed: bool,
    /// The statements not affirmed.
    pub missing: Vec<Statement>,
}

impl RemovalConsent {
    /// R7: a removal needs the confirmation and all four statements.
    pub fn check(self) -> Result<Attested, RemovalRefused> {
        let missing = self.attestation.missing();
        if self.confirmed && missing.is_empty() {
            return Ok(Attested(self.attestation));
        }
        Err(RemovalRefused {
            confirmed: self.confirmed,
            missing,
        })
    }
}

/// Who removed a partnership, when, and what they attested (R7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// When.
    pub at: DateTime<Utc>,
    /// `sub` of the removing provider user.
    pub by: String,
    /// The full attestation.
    pub attestation: Attestation,
}

/// A provider's partnership with an indirect reseller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partnership {
    /// UUIDv7.
    pub id: String,
    /// The provider's tenant id.
    pub provider_id: String,
    /// The reseller's PartnerID.
    pub partner_id: String,
    /// The reseller's company name, kept in step with the reseller.
    pub company_name: String,
    /// The accepted invitation.
    pub invitation_id: String,
    /// Acceptance instant.
    pub accepted_at: DateTime<Utc>,
    /// `sub` of the accepting reseller admin.
    pub accepted_by: String,
    /// When the state last changed.
    pub state_changed_at: DateTime<Utc>,
    /// The removal, once removed.
    pub removal: Option<Removal>,
    /// Optimistic concurrency version.
    pub version: i64,
}

/// One of a provider's indirect resellers as the provider's list shows it
/// (R8): the reseller's contact facts and where their latest partnership
/// stands. Only what the list shows, so a page reads no more columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndirectReseller {
    /// The provider's tenant id.
    pub provider_id: String,
    /// The latest partnership's id.
    pub partnership_id: String,
    /// Where that partnership stands.
    pub state: PartnershipState,
    /// When it last changed state.
    pub state_changed_at: DateTime<Utc>,
    /// The reseller's PartnerID.
    pub partner_id: String,
    /// The reseller's legal company name.
    pub company_name: String,
    /// The reseller's contact email address.
    pub contact_email: String,
    /// The reseller's country, ISO 3166-1 alpha-2.
    pub country_code: String,
    /// The reseller's preferred language, `en` or `de`.
    pub preferred_language: String,
}

impl IndirectReseller {
    /// `reseller` as one of the indirect resellers of `partnership`'s
    /// provider.
    pub fn of(partnership: &Partnership, reseller: Reseller) -> Self {
        Self {
            provider_id: partnership.provider_id.clone(),
            partnership_id: partnership.id.clone(),
            state: partnership.state(),
            state_changed_at: partnership.state_changed_at,
            partner_id: reseller.partner_id,
            company_name: reseller.company_name,
            contact_email: reseller.contact_email,
            country_code: reseller.country_code,
            preferred_language: reseller.preferred_language,
        }
    }
}

impl Partnership {
    /// The active partnership that `reseller` (user `accepted_by`) starts
    /// by accepting `invitation` at `now`.
    pub(super) fn accepted(
        invitation: &Invitation,
        reseller: &Reseller,
        accepted_by: &str,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            provider_id: invitation.provider_id.clone(),
            partner_id: reseller.partner_id.clone(),
            company_name: reseller.company_name.clone(),
            invitation_id: invitation.id.clone(),
            accepted_at: now,
            accepted_by: accepted_by.to_owned(),
            state_changed_at: now,
            removal: None,
            version: 1,
        }
    }

    /// R7: a partnership made after an `earlier` one of the same provider
    /// and reseller goes on from its version. Both are read and removed
    /// under one name (`indirectResellers/{partner_id}`), so an etag read
    /// from the earlier one must not match the new one.
    pub fn following(self, earlier: Option<&Partnership>) -> Self {
        match earlier {
            Some(earlier) => Self {
                version: earlier.version + 1,
                ..self
            },
            None => self,
        }
    }

    /// The state, which follows from the removal.
    pub fn state(&self) -> PartnershipState {
        match self.removal {
            Some(_) => PartnershipState::Removed,
            None => PartnershipState::Active,
        }
    }

    /// R7: the provider user `by` removes the partnership at `now` with a
    /// checked consent. Only an active partnership is removed; nothing else
    /// changes (customers, delegated admin and subscriptions stay).
    pub fn remove(
        &self,
        now: DateTime<Utc>,
        by: &str,
        consent: Attested,
    ) -> Result<Self, PartnershipError> {
        if self.removal.is_some() {
            return Err(PartnershipError::NotActive(self.partner_id.clone()));
        }
        Ok(Self {
            state_changed_at: now,
            removal: Some(Removal {
                at: now,
                by: by.to_owned(),
                attestation: consent.0,
            }),
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests;
