//! R28: a subscription's lifecycle changed (suspended, reactivated,
//! cancelled, auto-renew turned on or off); its reseller of record hears of
//! it, since its incentives depend on the subscription.

use minijinja::context;

use super::super::{Email, ProviderProfile, Template};
use super::{ResellerContact, SubscriptionFacts};

/// What happened to the subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleChange {
    /// Suspended by the provider.
    Suspended,
    /// Reactivated after a suspension.
    Reactivated,
    /// Cancelled within its window.
    Cancelled,
    /// Auto-renew turned on (`true`) or off.
    AutoRenew(bool),
}

/// A subscription's lifecycle changed.
#[derive(Debug, Clone)]
pub struct LifecycleNotice {
    /// What happened.
    pub change: LifecycleChange,
    /// Its reseller of record, if it has one.
    pub reseller_of_record: Option<ResellerContact>,
    /// The customer's company name.
    pub customer_company: String,
    /// The subscription's product name.
    pub offer: String,
    /// Its licences.
    pub quantity: i32,
}

impl LifecycleNotice {
    /// One email to the reseller of record, in its language; none without
    /// one.
    pub fn emails(self, provider: &ProviderProfile) -> Vec<Email> {
        let Some(reseller) = self.reseller_of_record else {
            return Vec::new();
        };
        let (template, auto_renew) = match self.change {
            LifecycleChange::Suspended => (Template::SubscriptionSuspended, false),
            LifecycleChange::Reactivated => (Template::SubscriptionReactivated, false),
            LifecycleChange::Cancelled => (Template::SubscriptionCancelled, false),
            LifecycleChange::AutoRenew(on) => (Template::AutoRenewChanged, on),
        };
        let subscription = SubscriptionFacts {
            customer_company: self.customer_company,
            offer: self.offer,
            quantity: self.quantity,
        };
        let extra = context! { auto_renew };
        vec![subscription.email(reseller, template, provider, extra)]
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::{Content, Language};
    use super::*;

    fn provider() -> ProviderProfile {
        ProviderProfile {
            display_name: "Contoso".into(),
            contact_email: "sales@contoso.example".into(),
            language: "en".into(),
        }
    }

    /// R28
    #[test]
    fn each_lifecycle_change_tells_the_reseller_of_record_in_its_language_and_no_one_else() {
        for (change, template) in [
            (LifecycleChange::Suspended, Template::SubscriptionSuspended),
            (
                LifecycleChange::Reactivated,
                Template::SubscriptionReactivated,
            ),
            (LifecycleChange::Cancelled, Template::SubscriptionCancelled),
            (
                LifecycleChange::AutoRenew(false),
                Template::AutoRenewChanged,
            ),
        ] {
            let notice = LifecycleNotice {
                change,
                reseller_of_record: Some(ResellerContact {
                    partner_id: "4567890".into(),
                    company_name: "Fabrikam GmbH".into(),
                    contact_email: "admin@fabrikam.example".into(),
                    language_code: "de".into(),
                }),
                customer_company: "Adatum AG".into(),
                offer: "Microsoft 365 E5".into(),
                quantity: 12,
            };
            let emails = notice.clone().emails(&provider());
            let [email] = emails.as_slice() else {
                panic!("one email: {emails:?}");
            };
            assert_eq!(email.template, template);
            assert_eq!(email.recipient, "admin@fabrikam.example");
            assert_eq!(email.language, Language::German);
            let Content::Template(values) = &email.content else {
                panic!("rendered from its template");
            };
            assert_eq!(
                values.get_attr("customer_company").unwrap().to_string(),
                "Adatum AG"
            );
            let without = LifecycleNotice {
                reseller_of_record: None,
                ..notice
            };
            assert!(without.emails(&provider()).is_empty(), "{change:?}");
        }
    }
}
