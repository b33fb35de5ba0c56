//! Email templates (minijinja), one per email and language, each with a
//! `subject` and a `body` block.

use minijinja::Environment;

use super::{Content, Email, Language, NewNotification, RenderError};

macro_rules! template_files {
    ($($name:literal),* $(,)?) => {
        &[$(
            (concat!($name, ".en"), include_str!(concat!("../../templates/", $name, ".en.txt"))),
            (concat!($name, ".de"), include_str!(concat!("../../templates/", $name, ".de.txt"))),
        )*]
    };
}

/// Every template compiled into the binary.
const FILES: &[(&str, &str)] = template_files!(
    "partnership_accepted",
    "customer_created_for_reseller",
    "order_placed",
    "order_placed_reseller",
    "reseller_of_record_assigned",
    "support_contact_assigned",
    "subscription_suspended",
    "subscription_reactivated",
    "subscription_cancelled",
    "auto_renew_changed",
    "reseller_relationship_accepted",
    "reseller_relationship_accepted_provider",
);

/// The compiled templates.
pub struct Templates {
    environment: Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    /// Compiles the templates.
    pub fn new() -> Self {
        let mut environment = Environment::new();
        for (name, source) in FILES {
            if let Err(error) = environment.add_template(name, source) {
                // The templates are part of the binary; a broken one is a build bug.
                panic!("email template {name} does not compile: {error}");
            }
        }
        Self { environment }
    }

    /// `email` rendered: its template's subject and body in its language,
    /// or the text it was written with.
    pub fn render(&self, email: Email) -> Result<NewNotification, RenderError> {
        let (subject, body, sealed_link) = match email.content {
            Content::Written {
                subject,
                body,
                link,
            } => (subject, body, Some(link)),
            Content::Template(values) => {
                let (subject, body) =
                    self.render_template(email.template.name(), email.language, values)?;
                (subject, body, None)
            }
        };
        Ok(NewNotification {
            recipient: email.recipient,
            template: email.template,
            language: email.language,
            subject,
            body,
            sealed_link,
            about: email.about,
        })
    }

    fn render_template(
        &self,
        template: &'static str,
        language: Language,
        values: minijinja::Value,
    ) -> Result<(String, String), RenderError> {
        let failed = |e: minijinja::Error| RenderError {
            template,
            language: language.code(),
            detail: e.to_string(),
        };
        let name = format!("{template}.{}", language.code());
        let compiled = self.environment.get_template(&name).map_err(failed)?;
        let mut captured = compiled.render_captured(values).map_err(failed)?;
        let subject = captured
            .with_state_mut(|state| state.render_block("subject"))
            .map_err(failed)?;
        let body = captured
            .with_state_mut(|state| state.render_block("body"))
            .map_err(failed)?;
        Ok((subject.trim().to_owned(), body.trim_start().to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{SealedLink, Template};

    /// Every template rendered from a file.
    const ALL: [Template; 12] = [
        Template::PartnershipAccepted,
        Template::CustomerCreatedForReseller,
        Template::OrderPlaced,
        Template::OrderPlacedReseller,
        Template::ResellerOfRecordAssigned,
        Template::SupportContactAssigned,
        Template::SubscriptionSuspended,
        Template::SubscriptionReactivated,
        Template::SubscriptionCancelled,
        Template::AutoRenewChanged,
        Template::ResellerRelationshipAccepted,
        Template::ResellerRelationshipAcceptedProvider,
    ];

    #[test]
    fn every_template_renders_in_both_languages() {
        let templates = Templates::new();
        let context = minijinja::context! {
            provider_name => "Contoso", reseller_company => "Fabrikam", partner_id => "4567890",
            customer_company => "Adatum", customer_domain => "adatum.onmicrosoft.com",
            order => "providers/contoso/orders/1", offer => "Microsoft 365 E5", quantity => 5,
            lines => vec![minijinja::context! { quantity => 5, offer => "Microsoft 365 E5", reseller => "4567890" }],
        };
        for (name, _) in FILES {
            let (template, language) = name.rsplit_once('.').unwrap();
            let language = Language::preferred(language);
            let template = ALL
                .into_iter()
                .find(|t| t.name() == template)
                .unwrap_or_else(|| panic!("{template} is not a Template"));
            let email =
                Email::rendered("a@example.com", template, language.code(), context.clone());
            let rendered = templates.render(email).unwrap();
            assert!(
                !rendered.subject.is_empty() && !rendered.subject.contains('\n'),
                "{name}"
            );
            assert!(rendered.body.len() > 40, "{name}");
            assert_eq!(rendered.sealed_link, None);
        }
        let email = Email::rendered(
            "a@example.com",
            Template::PartnershipAccepted,
            "de",
            context,
        );
        assert!(
            templates
                .render(email)
                .unwrap()
                .subject
                .contains("angenommen")
        );
    }

    #[test]
    fn a_written_email_is_recorded_exactly_as_written_with_its_link() {
        let email = Email {
            recipient: "admin@fabrikam.example".into(),
            template: Template::PartnershipInvitation,
            language: Language::German,
            content: Content::Written {
                subject: "  Let's partner ".into(),
                body: "\n accept: [[twotier:link-token]]".into(),
                link: SealedLink::invitation("inv-1"),
            },
            about: String::new(),
        };
        let recorded = Templates::new().render(email).unwrap();
        assert_eq!(recorded.subject, "  Let's partner ");
        assert_eq!(recorded.body, "\n accept: [[twotier:link-token]]");
        assert_eq!(recorded.sealed_link, Some(SealedLink::invitation("inv-1")));
        assert_eq!(recorded.language, Language::German);
    }
}
