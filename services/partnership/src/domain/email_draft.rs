//! The invitation email draft (R4): subject and body from templates in the
//! reseller's language, a `mailto:` URI and the plain text.

use chrono::{DateTime, Utc};
use minijinja::{Environment, context};
pub use twotier_platform::email_draft::EmailDraft;
use twotier_platform::email_draft::expiry_date;

/// A template that did not render: a bug in the templates compiled in.
#[derive(Debug, thiserror::Error)]
#[error("rendering the invitation {part}: {source}")]
pub struct DraftError {
    part: &'static str,
    source: minijinja::Error,
}

/// The compiled invitation templates.
pub struct EmailDrafts {
    templates: Environment<'static>,
}

impl Default for EmailDrafts {
    fn default() -> Self {
        Self::new()
    }
}

impl EmailDrafts {
    /// Loads the templates compiled into the binary.
    pub fn new() -> Self {
        let mut templates = Environment::new();
        let sources = [
            (
                "invitation_subject.en",
                include_str!("../../templates/invitation_subject.en.txt"),
            ),
            (
                "invitation_body.en",
                include_str!("../../templates/invitation_body.en.txt"),
            ),
            (
                "invitation_subject.de",
                include_str!("../../templates/invitation_subject.de.txt"),
            ),
            (
                "invitation_body.de",
                include_str!("../../templates/invitation_body.de.txt"),
            ),
        ];
        for (name, source) in sources {
            if let Err(error) = templates.add_template(name, source) {
                // The templates are part of the binary; a broken one is a build bug.
                panic!("invitation template {name} does not compile: {error}");
            }
        }
        Self { templates }
    }

    /// The draft inviting `to` on behalf of `provider_name`.
    pub fn invitation(
        &self,
        language: &str,
        to: &str,
        provider_name: &str,
        link: &str,
        expires: DateTime<Utc>,
    ) -> Result<EmailDraft, DraftError> {
        let expires = expiry_date(expires, language);
        let values = context! { provider_name, link, expires };
        let render = |part: &'static str| {
            self.templates
                .get_template(&format!("invitation_{part}.{language}"))
                .and_then(|template| template.render(&values))
                .map_err(|source| DraftError { part, source })
        };
        let subject = render("subject")?.trim().to_owned();
        let body = render("body")?;
        Ok(EmailDraft::new(to, subject, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_contain_the_link_in_both_languages() {
        let drafts = EmailDrafts::new();
        let link = "https://partners.example/accept?token=abc";
        for language in ["en", "de"] {
            let draft = drafts
                .invitation(
                    language,
                    "sales@fabrikam.example",
                    "Contoso",
                    link,
                    Utc::now(),
                )
                .unwrap();
            assert!(draft.body.contains(link));
            assert!(draft.plain_text.contains(link));
            assert!(
                draft
                    .mailto_uri
                    .starts_with("mailto:sales@fabrikam.example?subject=")
            );
            assert!(draft.mailto_uri.contains("token%3Dabc"));
            assert!(!draft.mailto_uri.contains(' '));
        }
        let german = drafts
            .invitation("de", "a@b.example", "Contoso", link, Utc::now())
            .unwrap();
        assert!(german.subject.contains("lädt Sie"));
    }
}
