//! Email templates (minijinja), one per email and language, each with a
//! `subject` and a `body` block.

use minijinja::Environment;
use twotier_platform::Error;

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

    /// Subject and body of `template` in `language` (English when the
    /// language has no template).
    pub fn render(
        &self,
        template: &str,
        language: &str,
        context: minijinja::Value,
    ) -> Result<(String, String), Error> {
        let language = if language == "de" { "de" } else { "en" };
        let name = format!("{template}.{language}");
        let failed = |e: minijinja::Error| Error::Internal(format!("rendering {name}: {e}"));
        let compiled = self.environment.get_template(&name).map_err(failed)?;
        let mut captured = compiled.render_captured(context).map_err(failed)?;
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
            let (subject, body) = templates
                .render(template, language, context.clone())
                .unwrap();
            assert!(!subject.is_empty() && !subject.contains('\n'), "{name}");
            assert!(body.len() > 40, "{name}");
        }
        let (subject, _) = templates
            .render("partnership_accepted", "de", context)
            .unwrap();
        assert!(subject.contains("angenommen"));
    }
}
