//! R1: the official list of indirect providers, and how a provider is
//! named and reached in the emails about it.

use chrono::{DateTime, Utc};
use twotier_platform::change::{self, Change};

use super::invitation::Invitation;

/// One provider of the official list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The provider's tenant id.
    pub provider_id: String,
    /// Company name shown in the list.
    pub display_name: String,
    /// ISO 3166-1 alpha-2 codes.
    pub markets: Vec<String>,
    /// Region names.
    pub regions: Vec<String>,
    /// Contact email address.
    pub contact_email: String,
    /// Contact phone, may be empty.
    pub contact_phone: String,
    /// Website, may be empty.
    pub website_uri: String,
    /// `en` or `de`.
    pub preferred_language: String,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Optimistic concurrency version.
    pub version: i64,
}

/// The editable fields of a listing, validated.
#[derive(Debug, Clone)]
pub struct ListingFields {
    /// Company name shown in the list.
    pub display_name: String,
    /// ISO 3166-1 alpha-2 codes.
    pub markets: Vec<String>,
    /// Region names.
    pub regions: Vec<String>,
    /// Contact email address.
    pub contact_email: String,
    /// Contact phone, may be empty.
    pub contact_phone: String,
    /// Website, may be empty.
    pub website_uri: String,
    /// `en` or `de`.
    pub preferred_language: String,
}

/// The fields an update changes (`None` keeps the stored value).
#[derive(Debug, Clone, Default)]
pub struct ListingPatch {
    /// New display name.
    pub display_name: Option<String>,
    /// New markets.
    pub markets: Option<Vec<String>>,
    /// New regions.
    pub regions: Option<Vec<String>>,
    /// New contact email.
    pub contact_email: Option<String>,
    /// New contact phone.
    pub contact_phone: Option<String>,
    /// New website.
    pub website_uri: Option<String>,
    /// New language.
    pub preferred_language: Option<String>,
}

/// Who at the provider hears about an acceptance, and in which language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderContact {
    /// The provider's name.
    pub display_name: String,
    /// Where the email goes.
    pub email: String,
    /// `en` or `de`.
    pub language_code: String,
}

impl Listing {
    /// The listing of `provider_id` with `fields`, listed at `now`.
    pub fn new(provider_id: &str, fields: ListingFields, now: DateTime<Utc>) -> Self {
        Self {
            provider_id: provider_id.to_owned(),
            display_name: fields.display_name,
            markets: fields.markets,
            regions: fields.regions,
            contact_email: fields.contact_email,
            contact_phone: fields.contact_phone,
            website_uri: fields.website_uri,
            preferred_language: fields.preferred_language,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// This listing with `patch` applied at `now`; a patch with the values
    /// it has already is no change (R25).
    pub fn patched(&self, patch: ListingPatch, now: DateTime<Utc>) -> Change<Self> {
        let current = self.clone();
        let patched = Self {
            display_name: patch.display_name.unwrap_or(current.display_name),
            markets: patch.markets.unwrap_or(current.markets),
            regions: patch.regions.unwrap_or(current.regions),
            contact_email: patch.contact_email.unwrap_or(current.contact_email),
            contact_phone: patch.contact_phone.unwrap_or(current.contact_phone),
            website_uri: patch.website_uri.unwrap_or(current.website_uri),
            preferred_language: patch
                .preferred_language
                .unwrap_or(current.preferred_language),
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

/// The provider's name in emails: its listing's, else its tenant id.
pub fn provider_display_name(provider_id: &str, listing: Option<&Listing>) -> String {
    listing.map_or_else(|| provider_id.to_owned(), |l| l.display_name.clone())
}

/// Who hears that `invitation` was accepted: the inviting user, else the
/// listing's contact; in the listing's language, else English.
pub fn provider_contact(invitation: &Invitation, listing: Option<&Listing>) -> ProviderContact {
    let email = if invitation.created_by_email.is_empty() {
        listing.map(|l| l.contact_email.clone()).unwrap_or_default()
    } else {
        invitation.created_by_email.clone()
    };
    ProviderContact {
        display_name: provider_display_name(&invitation.provider_id, listing),
        email,
        language_code: listing.map_or_else(|| "en".to_owned(), |l| l.preferred_language.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::invitation::tests::pending_invitation;

    fn fields() -> ListingFields {
        ListingFields {
            display_name: "Contoso".into(),
            markets: vec!["DE".into()],
            regions: vec!["Europe".into()],
            contact_email: "partners@contoso.example".into(),
            contact_phone: String::new(),
            website_uri: String::new(),
            preferred_language: "de".into(),
        }
    }

    #[test]
    fn a_patch_changes_only_its_fields_and_the_update_time() {
        let listed = Listing::new("contoso", fields(), DateTime::UNIX_EPOCH);
        let later = DateTime::UNIX_EPOCH + chrono::TimeDelta::hours(1);
        let patch = ListingPatch {
            markets: Some(vec!["AT".into()]),
            ..Default::default()
        };
        let Change::Changed(patched) = listed.patched(patch, later) else {
            panic!("a new market is a change");
        };
        assert_eq!(patched.markets, ["AT"]);
        assert_eq!(patched.display_name, "Contoso");
        assert_eq!(patched.created_at, listed.created_at);
        assert_eq!(patched.updated_at, later);
        assert_eq!(patched.version, listed.version, "the store bumps it");
    }

    /// R25
    #[test]
    fn a_patch_with_the_current_values_is_no_change() {
        let listed = Listing::new("contoso", fields(), DateTime::UNIX_EPOCH);
        let later = DateTime::UNIX_EPOCH + chrono::TimeDelta::hours(1);
        let same = ListingPatch {
            display_name: Some(listed.display_name.clone()),
            markets: Some(listed.markets.clone()),
            preferred_language: Some(listed.preferred_language.clone()),
            ..Default::default()
        };
        assert_eq!(listed.patched(same, later), Change::Unchanged);
        assert_eq!(
            listed.patched(ListingPatch::default(), later),
            Change::Unchanged
        );
    }

    #[test]
    fn the_inviting_user_hears_about_an_acceptance_else_the_listed_contact() {
        let listing = Listing::new("contoso", fields(), DateTime::UNIX_EPOCH);
        let mut invitation = pending_invitation(DateTime::UNIX_EPOCH);
        invitation.created_by_email = "alice@contoso.example".into();
        let contact = provider_contact(&invitation, Some(&listing));
        assert_eq!(contact.email, "alice@contoso.example");
        assert_eq!(contact.display_name, "Contoso");
        assert_eq!(contact.language_code, "de");

        invitation.created_by_email.clear();
        assert_eq!(
            provider_contact(&invitation, Some(&listing)).email,
            "partners@contoso.example"
        );
        let unlisted = provider_contact(&invitation, None);
        assert_eq!(unlisted.display_name, invitation.provider_id);
        assert_eq!(unlisted.email, "");
        assert_eq!(unlisted.language_code, "en");
    }
}
