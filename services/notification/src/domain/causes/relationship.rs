//! R22: the request the provider asked to send to a customer's admin, and
//! an acceptance, told to the reseller and to the provider.

use minijinja::context;

use super::ResellerContact;
use crate::domain::{Email, ProviderProfile, SealedLink, Template};

/// The reseller relationship request a provider asked the system to send.
#[derive(Debug, Clone, Default)]
pub struct RelationshipEmail {
    /// The request's id.
    pub request_id: String,
    /// The customer admin's address.
    pub to: String,
    /// Subject, as the provider left it.
    pub subject: String,
    /// Body, as the provider left it, its link sealed.
    pub body: String,
    /// Language of the text.
    pub language_code: String,
}

impl RelationshipEmail {
    /// The one email: the provider's text to the customer's admin.
    pub fn emails(self) -> Vec<Email> {
        let link = SealedLink::relationship(&self.request_id);
        vec![Email::written(
            self.to,
            Template::ResellerRelationshipRequest,
            &self.language_code,
            (self.subject, self.body),
            link,
        )]
    }
}

/// A customer's admin accepted a reseller relationship.
#[derive(Debug, Clone, Default)]
pub struct RelationshipAcceptance {
    /// The reseller now administering the customer.
    pub reseller: ResellerContact,
    /// The requesting provider user's address; empty for the listing's.
    pub provider_email: String,
    /// The customer's company name.
    pub customer_company: String,
    /// The customer's initial domain.
    pub customer_domain: String,
}

impl RelationshipAcceptance {
    /// One email to the reseller (in its language) and one to the provider
    /// (the user who asked, else the listing's address, in the provider's
    /// language).
    pub fn emails(self, provider: &ProviderProfile) -> Vec<Email> {
        let values = context! {
            provider_name => &provider.display_name,
            reseller_company => &self.reseller.company_name,
            partner_id => &self.reseller.partner_id,
            customer_company => self.customer_company,
            customer_domain => self.customer_domain,
        };
        let to_provider = if self.provider_email.is_empty() {
            &provider.contact_email
        } else {
            &self.provider_email
        };
        vec![
            Email::rendered(
                &self.reseller.contact_email,
                Template::ResellerRelationshipAccepted,
                &self.reseller.language_code,
                values.clone(),
            ),
            Email::rendered(
                to_provider,
                Template::ResellerRelationshipAcceptedProvider,
                &provider.language,
                values,
            ),
        ]
    }
}
