//! The invitation email draft (R4): subject and body from templates in the
//! reseller's language, a `mailto:` URI and the plain text.

use chrono::{DateTime, Utc};
use minijinja::{Environment, context};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// An email the provider may edit and send, or open in its own mail client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailDraft {
    /// Recipient.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Body text.
    pub body: String,
    /// The same email as a `mailto:` URI ("open in email").
    pub mailto_uri: String,
    /// Subject and body as one text ("copy to clipboard").
    pub plain_text: String,
}

/// A template that did not render: a bug in the templates compiled in.
#[derive(Debug, thiserror::Error)]
#[error("rendering the invitation {part}: {source}")]
pub struct DraftError {
    part: &'static str,
    source: minijinja::Error,
}

/// RFC 6068 allows RFC 3986 unreserved characters unencoded in `mailto:`
/// header values; everything else is percent-encoded.
const MAILTO_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

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
        let expires = match language {
            "de" => expires.format("%d.%m.%Y").to_string(),
            _ => expires.format("%Y-%m-%d").to_string(),
        };
        let values = context! { provider_name, link, expires };
        let render = |part: &'static str| {
            self.templates
                .get_template(&format!("invitation_{part}.{language}"))
                .and_then(|template| template.render(&values))
                .map_err(|source| DraftError { part, source })
        };
        let subject = render("subject")?.trim().to_owned();
        let body = render("body")?;
        Ok(draft(to, subject, body))
    }
}

/// A draft of `subject` and `body` to `to`, with its `mailto:` URI and plain
/// text.
fn draft(to: &str, subject: String, body: String) -> EmailDraft {
    let crlf_body = body.replace("\r\n", "\n").replace('\n', "\r\n");
    let mailto_uri = format!(
        "mailto:{}?subject={}&body={}",
        utf8_percent_encode(to, MAILTO_VALUE)
            .to_string()
            .replace("%40", "@"),
        utf8_percent_encode(&subject, MAILTO_VALUE),
        utf8_percent_encode(&crlf_body, MAILTO_VALUE),
    );
    let plain_text = format!("{subject}\n\n{body}");
    EmailDraft {
        to: to.to_owned(),
        subject,
        body,
        mailto_uri,
        plain_text,
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
