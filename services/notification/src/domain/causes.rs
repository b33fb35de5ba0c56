//! Which emails each upstream event causes, to whom and in which language
//! (R20, R21, and R22's request and acceptance). A partnership removal causes none (R7): it is not among the
//! events here, and the partnership log's registration does not even
//! subscribe to it.

use minijinja::context;

mod relationship;

pub use relationship::{RelationshipAcceptance, RelationshipEmail};

use super::{Email, ProviderProfile, SealedLink, Template};

mod lifecycle;

pub use lifecycle::{LifecycleChange, LifecycleNotice};

/// How to reach a reseller, as the event tells it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResellerContact {
    /// PartnerID.
    pub partner_id: String,
    /// Company name.
    pub company_name: String,
    /// Address; may be empty.
    pub contact_email: String,
    /// Preferred language code.
    pub language_code: String,
}

/// Who at the provider hears of an acceptance, as the partnership service
/// resolved it when the event was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderContact {
    /// The provider's display name.
    pub display_name: String,
    /// The inviting user's address, else the listing's; may be empty.
    pub email: String,
    /// Preferred language code.
    pub language_code: String,
}

/// The invitation email a provider asked the system to send (R4).
#[derive(Debug, Clone, Default)]
pub struct InvitationEmail {
    /// The invitation's id.
    pub invitation_id: String,
    /// Recipient address.
    pub to: String,
    /// Subject, as the provider left it.
    pub subject: String,
    /// Body, as the provider left it, its link sealed.
    pub body: String,
    /// Language of the text.
    pub language_code: String,
}

impl InvitationEmail {
    /// The one email: the provider's text to the invited reseller.
    pub fn emails(self) -> Vec<Email> {
        let link = SealedLink::invitation(&self.invitation_id);
        vec![Email::written(
            self.to,
            Template::PartnershipInvitation,
            &self.language_code,
            (self.subject, self.body),
            link,
        )]
    }
}

/// A reseller accepted a provider's partnership.
#[derive(Debug, Clone, Default)]
pub struct Acceptance {
    /// Who at the provider hears of it.
    pub contact: ProviderContact,
    /// The reseller's company name.
    pub reseller_company: String,
    /// The reseller's PartnerID.
    pub partner_id: String,
}

impl Acceptance {
    /// One email to the provider: to the contact the event names, else to
    /// the listing's address, in the contact's language.
    pub fn emails(self, provider: &ProviderProfile) -> Vec<Email> {
        let recipient = if self.contact.email.is_empty() {
            &provider.contact_email
        } else {
            &self.contact.email
        };
        vec![Email::rendered(
            recipient,
            Template::PartnershipAccepted,
            &self.contact.language_code,
            context! {
                provider_name => self.contact.display_name,
                reseller_company => self.reseller_company,
                partner_id => self.partner_id,
            },
        )]
    }
}

/// A customer was created, perhaps for an indirect reseller.
#[derive(Debug, Clone, Default)]
pub struct CustomerCreated {
    /// The reseller it was created for, if any.
    pub reseller: Option<ResellerContact>,
    /// The customer's company name.
    pub customer_company: String,
    /// The customer's domain.
    pub customer_domain: String,
}

impl CustomerCreated {
    /// Whether anyone is told: the reseller it was created for (R20); a
    /// direct customer's creation emails no one.
    pub fn tells_anyone(&self) -> bool {
        self.reseller.is_some()
    }

    /// One email to the reseller it was created for; none for a direct
    /// customer.
    pub fn emails(self, provider: &ProviderProfile) -> Vec<Email> {
        let Some(reseller) = self.reseller else {
            return Vec::new();
        };
        vec![Email::rendered(
            &reseller.contact_email,
            Template::CustomerCreatedForReseller,
            &reseller.language_code,
            context! {
                provider_name => &provider.display_name,
                reseller_company => reseller.company_name,
                customer_company => self.customer_company,
                customer_domain => self.customer_domain,
            },
        )]
    }
}

/// One line of an order.
#[derive(Debug, Clone, Default)]
pub struct OrderLine {
    /// Licences bought.
    pub quantity: i32,
    /// The offer's product name.
    pub offer: String,
    /// PartnerID of its reseller of record, or empty.
    pub reseller_partner_id: String,
}

/// An order was placed.
#[derive(Debug, Clone, Default)]
pub struct Order {
    /// Its resource name.
    pub name: String,
    /// The customer's company name.
    pub customer_company: String,
    /// The provider user who placed it, if known.
    pub placed_by_email: String,
    /// Its lines.
    pub lines: Vec<OrderLine>,
    /// Each distinct reseller of record on it.
    pub resellers_of_record: Vec<ResellerContact>,
}

impl Order {
    /// One email to the provider (the user who placed it, else the
    /// listing's address, in the provider's language) with every line, and
    /// one to each reseller of record with its own lines.
    pub fn emails(self, provider: &ProviderProfile) -> Vec<Email> {
        let line = |l: &OrderLine| {
            context! { quantity => l.quantity, offer => &l.offer, reseller => &l.reseller_partner_id }
        };
        let to_provider = if self.placed_by_email.is_empty() {
            &provider.contact_email
        } else {
            &self.placed_by_email
        };
        let mut emails = vec![Email::rendered(
            to_provider,
            Template::OrderPlaced,
            &provider.language,
            context! {
                provider_name => &provider.display_name,
                customer_company => &self.customer_company,
                order => &self.name,
                lines => self.lines.iter().map(line).collect::<Vec<_>>(),
            },
        )];
        for reseller in &self.resellers_of_record {
            let lines: Vec<_> = self
                .lines
                .iter()
                .filter(|l| l.reseller_partner_id == reseller.partner_id)
                .map(line)
                .collect();
            emails.push(
                Email::rendered(
                    &reseller.contact_email,
                    Template::OrderPlacedReseller,
                    &reseller.language_code,
                    context! {
                        provider_name => &provider.display_name,
                        reseller_company => &reseller.company_name,
                        partner_id => &reseller.partner_id,
                        customer_company => &self.customer_company,
                        lines,
                    },
                )
                .about(&reseller.partner_id),
            );
        }
        emails
    }
}

/// The role a reseller was given on a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentRole {
    /// Reseller of record.
    ResellerOfRecord,
    /// Support contact.
    SupportContact,
}

/// A subscription's reseller of record or support contact changed.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// Which role.
    pub role: AssignmentRole,
    /// The reseller now in it; `None` when it was cleared.
    pub reseller: Option<ResellerContact>,
    /// The customer's company name.
    pub customer_company: String,
    /// The subscription's product name.
    pub offer: String,
    /// Its licences.
    pub quantity: i32,
}

impl Assignment {
    /// One email to the reseller now in the role; clearing it tells no one.
    pub fn emails(self, provider: &ProviderProfile) -> Vec<Email> {
        let Some(reseller) = self.reseller else {
            return Vec::new();
        };
        let template = match self.role {
            AssignmentRole::ResellerOfRecord => Template::ResellerOfRecordAssigned,
            AssignmentRole::SupportContact => Template::SupportContactAssigned,
        };
        let subscription = SubscriptionFacts {
            customer_company: self.customer_company,
            offer: self.offer,
            quantity: self.quantity,
        };
        vec![subscription.email(reseller, template, provider, context! {})]
    }
}

/// What an email to a reseller about one subscription says of it.
struct SubscriptionFacts {
    customer_company: String,
    offer: String,
    quantity: i32,
}

impl SubscriptionFacts {
    /// The email `template` to `reseller` about the subscription, in the
    /// reseller's language, with `extra` values.
    fn email(
        self,
        reseller: ResellerContact,
        template: Template,
        provider: &ProviderProfile,
        extra: minijinja::Value,
    ) -> Email {
        Email::rendered(
            &reseller.contact_email,
            template,
            &reseller.language_code,
            context! {
                provider_name => &provider.display_name,
                reseller_company => reseller.company_name,
                partner_id => reseller.partner_id,
                customer_company => self.customer_company,
                offer => self.offer,
                quantity => self.quantity,
                ..extra
            },
        )
    }
}

#[cfg(test)]
mod tests;
