//! How emails address a provider: its display name, contact address and
//! language, projected from its listing.

/// A provider as emails address it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderProfile {
    /// Display name.
    pub display_name: String,
    /// Contact address from its listing; may be empty.
    pub contact_email: String,
    /// Preferred language code, as its listing gives it.
    pub language: String,
}

impl ProviderProfile {
    /// A provider whose listing has not arrived (or never will): named by
    /// its tenant id, no address, English.
    pub fn unknown(provider_id: &str) -> Self {
        Self {
            display_name: provider_id.to_owned(),
            contact_email: String::new(),
            language: "en".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_provider_is_named_by_its_tenant_and_written_to_in_english() {
        let unknown = ProviderProfile::unknown("contoso");
        assert_eq!(unknown.display_name, "contoso");
        assert!(unknown.contact_email.is_empty());
        assert_eq!(unknown.language, "en");
    }
}
