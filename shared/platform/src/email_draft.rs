//! An email a provider may edit and send itself, or ask twotier to send
//! (an invitation to partner, R4; a reseller relationship request to a
//! customer's admin, R22): subject and body, the same email as a `mailto:`
//! URI ("open in email") and as plain text ("copy to clipboard").

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// RFC 6068 allows RFC 3986 unreserved characters unencoded in `mailto:`
/// header values; everything else is percent-encoded.
const MAILTO_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

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

impl EmailDraft {
    /// The draft of `subject` and `body` to `to`, with its `mailto:` URI
    /// and plain text.
    pub fn new(to: &str, subject: String, body: String) -> Self {
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
        Self {
            to: to.to_owned(),
            subject,
            body,
            mailto_uri,
            plain_text,
        }
    }
}

/// How a link's expiry is written in an email of `language`: `25.11.2026`
/// in German, `2026-11-25` otherwise.
pub fn expiry_date(expires: chrono::DateTime<chrono::Utc>, language: &str) -> String {
    match language {
        "de" => expires.format("%d.%m.%Y").to_string(),
        _ => expires.format("%Y-%m-%d").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_opens_in_email_with_everything_encoded_and_copies_as_text() {
        let link = "https://x.example/accept?token=abc";
        let draft = EmailDraft::new(
            "sales@fabrikam.example",
            "Grüße & more".into(),
            format!("Open\n{link}"),
        );
        assert!(draft.mailto_uri.starts_with(
            "mailto:sales@fabrikam.example?subject=Gr%C3%BC%C3%9Fe%20%26%20more&body="
        ));
        assert!(draft.mailto_uri.contains("Open%0D%0A"));
        assert!(draft.mailto_uri.contains("token%3Dabc"));
        assert!(!draft.mailto_uri.contains(' '));
        assert_eq!(draft.plain_text, format!("Grüße & more\n\nOpen\n{link}"));
    }

    #[test]
    fn expiry_dates_are_written_as_each_language_writes_them() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-25T10:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(expiry_date(at, "de"), "25.11.2026");
        assert_eq!(expiry_date(at, "en"), "2026-11-25");
    }
}
