//! Which emails each upstream event causes, to whom and in which language
//! (R20, R21). A partnership removal causes none (R7): it is not among the
//! events here, and the partnership log's registration does not even
//! subscribe to it.

use minijinja::context;

use super::{Content, Email, Language, ProviderProfile, SealedLink, Template};

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
        vec![Email {
            recipient: self.to,
            template: Template::PartnershipInvitation,
            language: Language::preferred(&self.language_code),
            content: Content::Written {
                subject: self.subject,
                body: self.body,
                link: SealedLink::invitation(&self.invitation_id),
            },
        }]
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
            emails.push(Email::rendered(
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
            ));
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
        vec![Email::rendered(
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
            },
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(language: &str) -> ProviderProfile {
        ProviderProfile {
            display_name: "Contoso".into(),
            contact_email: "sales@contoso.example".into(),
            language: language.into(),
        }
    }

    fn reseller(partner_id: &str, email: &str, language: &str) -> ResellerContact {
        ResellerContact {
            partner_id: partner_id.into(),
            company_name: format!("Reseller {partner_id}"),
            contact_email: email.into(),
            language_code: language.into(),
        }
    }

    fn value(email: &Email, key: &str) -> String {
        let Content::Template(values) = &email.content else {
            panic!("{:?} is not rendered from a template", email.template);
        };
        values
            .get_attr(key)
            .map(|v| v.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn the_invitation_goes_out_as_written_with_its_link_sealed() {
        let emails = InvitationEmail {
            invitation_id: "inv-1".into(),
            to: "admin@fabrikam.example".into(),
            subject: "Let's partner".into(),
            body: "accept: [[marker]]".into(),
            language_code: "de".into(),
        }
        .emails();
        let [email] = emails.as_slice() else {
            panic!("one email: {emails:?}");
        };
        assert_eq!(email.recipient, "admin@fabrikam.example");
        assert_eq!(email.template, Template::PartnershipInvitation);
        assert_eq!(email.language, Language::German);
        let Content::Written {
            subject,
            body,
            link,
        } = &email.content
        else {
            panic!("written, not rendered");
        };
        assert_eq!(
            (subject.as_str(), body.as_str()),
            ("Let's partner", "accept: [[marker]]")
        );
        assert_eq!(link, &SealedLink::invitation("inv-1"));
    }

    #[test]
    fn an_acceptance_tells_the_named_contact_else_the_listing_in_the_contacts_language() {
        let acceptance = Acceptance {
            contact: ProviderContact {
                display_name: "Contoso".into(),
                email: "alice@contoso.example".into(),
                language_code: "de".into(),
            },
            reseller_company: "Fabrikam GmbH".into(),
            partner_id: "4567890".into(),
        };
        let emails = acceptance.clone().emails(&provider("en"));
        assert_eq!(emails.len(), 1);
        assert_eq!(emails[0].recipient, "alice@contoso.example");
        assert_eq!(emails[0].template, Template::PartnershipAccepted);
        assert_eq!(
            emails[0].language,
            Language::German,
            "the contact's, not the listing's"
        );
        assert_eq!(value(&emails[0], "partner_id"), "4567890");

        let mut unnamed = acceptance;
        unnamed.contact.email.clear();
        let emails = unnamed.emails(&provider("en"));
        assert_eq!(emails[0].recipient, "sales@contoso.example");
    }

    #[test]
    fn a_customer_created_for_a_reseller_tells_that_reseller_and_a_direct_one_no_one() {
        let created = CustomerCreated {
            reseller: Some(reseller("4567890", "admin@fabrikam.example", "de")),
            customer_company: "Adatum AG".into(),
            customer_domain: "adatum.onmicrosoft.com".into(),
        };
        let emails = created.clone().emails(&provider("en"));
        assert_eq!(emails.len(), 1);
        assert_eq!(emails[0].recipient, "admin@fabrikam.example");
        assert_eq!(emails[0].template, Template::CustomerCreatedForReseller);
        assert_eq!(emails[0].language, Language::German);
        assert_eq!(value(&emails[0], "provider_name"), "Contoso");

        let direct = CustomerCreated {
            reseller: None,
            ..created
        };
        assert!(direct.emails(&provider("en")).is_empty());
    }

    #[test]
    fn an_order_tells_the_provider_everything_and_each_reseller_of_record_its_own_lines() {
        let line = |offer: &str, reseller: &str| OrderLine {
            quantity: 5,
            offer: offer.into(),
            reseller_partner_id: reseller.into(),
        };
        let order = Order {
            name: "providers/contoso/orders/1".into(),
            customer_company: "Adatum AG".into(),
            placed_by_email: String::new(),
            lines: vec![
                line("E5", "111111"),
                line("E3", "222222"),
                line("Teams", ""),
            ],
            resellers_of_record: vec![
                reseller("111111", "one@example.com", "de"),
                reseller("222222", "two@example.com", "en"),
            ],
        };
        let emails = order.clone().emails(&provider("de"));
        let summary: Vec<_> = emails
            .iter()
            .map(|e| (e.recipient.as_str(), e.template, e.language))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "sales@contoso.example",
                    Template::OrderPlaced,
                    Language::German
                ),
                (
                    "one@example.com",
                    Template::OrderPlacedReseller,
                    Language::German
                ),
                (
                    "two@example.com",
                    Template::OrderPlacedReseller,
                    Language::English
                ),
            ]
        );
        let lines = |email: &Email| {
            let Content::Template(values) = &email.content else {
                return 0;
            };
            values
                .get_attr("lines")
                .ok()
                .and_then(|lines| lines.len())
                .unwrap_or_default()
        };
        assert_eq!(lines(&emails[0]), 3);
        assert_eq!(lines(&emails[1]), 1);
        assert_eq!(lines(&emails[2]), 1);

        let placed_by_a_user = Order {
            placed_by_email: "alice@contoso.example".into(),
            ..order
        };
        let emails = placed_by_a_user.emails(&provider("en"));
        assert_eq!(emails[0].recipient, "alice@contoso.example");
    }

    #[test]
    fn an_assignment_tells_the_reseller_now_in_the_role_and_a_clearing_no_one() {
        for (role, template) in [
            (
                AssignmentRole::ResellerOfRecord,
                Template::ResellerOfRecordAssigned,
            ),
            (
                AssignmentRole::SupportContact,
                Template::SupportContactAssigned,
            ),
        ] {
            let assignment = Assignment {
                role,
                reseller: Some(reseller("4567890", "admin@fabrikam.example", "de")),
                customer_company: "Adatum AG".into(),
                offer: "Microsoft 365 E5".into(),
                quantity: 12,
            };
            let emails = assignment.clone().emails(&provider("en"));
            assert_eq!(emails.len(), 1);
            assert_eq!(emails[0].template, template);
            assert_eq!(emails[0].recipient, "admin@fabrikam.example");
            assert_eq!(emails[0].language, Language::German);
            assert_eq!(value(&emails[0], "quantity"), "12");
            let cleared = Assignment {
                reseller: None,
                ..assignment
            };
            assert!(cleared.emails(&provider("en")).is_empty(), "{role:?}");
        }
    }
}
