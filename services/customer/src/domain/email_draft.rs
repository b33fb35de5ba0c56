//! R22: the email draft to a customer's admin asking for a reseller
//! relationship, in the request's language. Each template's first line is
//! the subject, the rest the body.

use minijinja::{Environment, context};
use twotier_platform::email_draft::{EmailDraft, expiry_date};

use super::customer::Customer;
use super::relationship_request::RelationshipRequest;

/// The templates compiled into the binary, by language.
const TEMPLATES: [(&str, &str); 2] = [
    (
        "en",
        include_str!("../../templates/relationship_request.en.txt"),
    ),
    (
        "de",
        include_str!("../../templates/relationship_request.de.txt"),
    ),
];

/// A template that did not render: a bug in the templates compiled in.
#[derive(Debug, thiserror::Error)]
#[error("rendering the reseller relationship email: {0}")]
pub struct DraftError(#[from] minijinja::Error);

/// The compiled drafts of reseller relationship requests.
pub struct RelationshipDrafts {
    templates: Environment<'static>,
}

impl Default for RelationshipDrafts {
    fn default() -> Self {
        Self::new()
    }
}

impl RelationshipDrafts {
    /// Compiles the templates.
    pub fn new() -> Self {
        let mut templates = Environment::new();
        for (language, source) in TEMPLATES {
            if let Err(error) = templates.add_template(language, source) {
                // The templates are part of the binary; a broken one is a build bug.
                panic!("relationship template {language} does not compile: {error}");
            }
        }
        Self { templates }
    }

    /// The draft of `request` for `customer`, from `provider_name`, holding
    /// `link`.
    pub fn draft(
        &self,
        request: &RelationshipRequest,
        customer: &Customer,
        provider_name: &str,
        link: &str,
    ) -> Result<EmailDraft, DraftError> {
        let language = match request.language_code.as_str() {
            "de" => "de",
            _ => "en",
        };
        let text = self.templates.get_template(language)?.render(context! {
            provider_name,
            reseller_company => &request.reseller_company_name,
            partner_id => &request.partner_id,
            customer_company => &customer.company_name,
            customer_domain => customer.domain(),
            link,
            expires => expiry_date(request.expires_at, language),
        })?;
        let (subject, body) = text.split_once('\n').unwrap_or((&text, ""));
        Ok(EmailDraft::new(
            &request.admin_email,
            subject.trim().to_owned(),
            body.to_owned(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, Utc};

    use super::*;
    use crate::domain::NewRelationshipRequest;
    use crate::domain::customer::tests::{new_customer, reseller};

    #[test]
    fn r22_drafts_hold_the_link_in_both_languages() {
        let customer = new_customer("contoso", None)
            .create("alice", Utc::now(), None)
            .unwrap()
            .customer;
        let link = "https://customers.example/accept?token=abc";
        for (language, phrase) in [("en", "administer"), ("de", "Verwaltung")] {
            let request = RelationshipRequest::new(
                &customer,
                &reseller("4567890"),
                NewRelationshipRequest {
                    admin_email: String::new(),
                    language_code: language.into(),
                    created_by: "alice".into(),
                    created_by_email: String::new(),
                },
                Utc::now(),
                TimeDelta::days(14),
            )
            .unwrap();
            let draft = RelationshipDrafts::new()
                .draft(&request, &customer, "Contoso", link)
                .unwrap();
            assert_eq!(draft.to, "admin@adatum.onmicrosoft.com");
            assert!(
                draft.subject.contains(phrase),
                "{language}: {}",
                draft.subject
            );
            assert!(draft.subject.contains("Reseller 4567890"));
            assert!(!draft.subject.contains('\n'));
            assert!(draft.body.contains(link), "{language}");
            assert!(draft.body.contains("adatum.onmicrosoft.com"));
            assert!(draft.mailto_uri.contains("token%3Dabc"));
        }
    }
}
