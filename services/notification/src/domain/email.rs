//! An email as the rules ask for it: recipient, template, language (R21)
//! and what it says, before rendering.

use minijinja::Value;

/// The language of an email (R21).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// `en`.
    English,
    /// `de`.
    German,
}

impl Language {
    /// The recipient's preference; English when it is unknown or not one
    /// the templates are written in.
    pub fn preferred(code: &str) -> Self {
        if code == "de" {
            Self::German
        } else {
            Self::English
        }
    }

    /// The ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Self::English => "en",
            Self::German => "de",
        }
    }
}

/// Every kind of email; each but the invitation and the relationship
/// request is rendered from its template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// The provider's invitation text, sent as written (R4).
    PartnershipInvitation,
    /// To the provider: a reseller accepted.
    PartnershipAccepted,
    /// To the reseller: a customer was created for it.
    CustomerCreatedForReseller,
    /// To the provider: an order was placed.
    OrderPlaced,
    /// To a reseller of record on an order.
    OrderPlacedReseller,
    /// To the new reseller of record of a subscription.
    ResellerOfRecordAssigned,
    /// To the new support contact of a subscription.
    SupportContactAssigned,
    /// To the reseller of record: the subscription was suspended (R28).
    SubscriptionSuspended,
    /// To the reseller of record: the subscription was reactivated (R28).
    SubscriptionReactivated,
    /// To the reseller of record: the subscription was cancelled (R28).
    SubscriptionCancelled,
    /// To the reseller of record: auto-renew was turned on or off (R28).
    AutoRenewChanged,
    /// The provider's reseller relationship request to a customer's admin,
    /// sent as written (R22).
    ResellerRelationshipRequest,
    /// To the reseller: a customer's admin accepted a relationship (R22).
    ResellerRelationshipAccepted,
    /// To the provider: a customer's admin accepted a relationship (R22).
    ResellerRelationshipAcceptedProvider,
}

impl Template {
    /// The name notifications are recorded and listed with.
    pub fn name(self) -> &'static str {
        match self {
            Self::PartnershipInvitation => "partnership_invitation",
            Self::PartnershipAccepted => "partnership_accepted",
            Self::CustomerCreatedForReseller => "customer_created_for_reseller",
            Self::OrderPlaced => "order_placed",
            Self::OrderPlacedReseller => "order_placed_reseller",
            Self::ResellerOfRecordAssigned => "reseller_of_record_assigned",
            Self::SupportContactAssigned => "support_contact_assigned",
            Self::SubscriptionSuspended => "subscription_suspended",
            Self::SubscriptionReactivated => "subscription_reactivated",
            Self::SubscriptionCancelled => "subscription_cancelled",
            Self::AutoRenewChanged => "auto_renew_changed",
            Self::ResellerRelationshipRequest => "reseller_relationship_request",
            Self::ResellerRelationshipAccepted => "reseller_relationship_accepted",
            Self::ResellerRelationshipAcceptedProvider => "reseller_relationship_accepted_provider",
        }
    }
}

/// A personal link in an email's body, by reference: the body holds a
/// marker, and the dispatcher puts the token of resource `id` of `kind`
/// in only as it sends, so that no table ever holds the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedLink {
    /// The capability's kind, e.g. `invitation`.
    pub kind: String,
    /// The resource it opens.
    pub id: String,
}

impl SealedLink {
    /// The link of invitation `id`.
    pub fn invitation(id: &str) -> Self {
        Self::of("invitation", id)
    }

    /// The link of reseller relationship request `id` (R22).
    pub fn relationship(id: &str) -> Self {
        Self::of("relationship", id)
    }

    fn of(kind: &str, id: &str) -> Self {
        Self {
            kind: kind.to_owned(),
            id: id.to_owned(),
        }
    }

    /// The link written as `<kind>:<id>`.
    pub fn parse(written: &str) -> Option<Self> {
        let (kind, id) = written.split_once(':')?;
        Some(Self {
            kind: kind.to_owned(),
            id: id.to_owned(),
        })
    }
}

impl std::fmt::Display for SealedLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

/// What an email says.
#[derive(Debug, Clone)]
pub enum Content {
    /// Its template rendered with these values.
    Template(Value),
    /// The provider's own text, checked for the link by the partnership
    /// service, sent exactly as given (R4).
    Written {
        /// Subject line.
        subject: String,
        /// Body, with the link sealed.
        body: String,
        /// The link the body's marker stands for.
        link: SealedLink,
    },
}

/// One email an event asks for, before rendering.
#[derive(Debug, Clone)]
pub struct Email {
    /// Recipient address; empty when the event knew none (nothing is sent).
    pub recipient: String,
    /// Which email.
    pub template: Template,
    /// The recipient's language.
    pub language: Language,
    /// What it says.
    pub content: Content,
    /// Whom or what it is about, when one event sends the same email to one
    /// address for several of them (an order's resellers of record sharing
    /// a contact address each get theirs); empty otherwise.
    pub about: String,
}

impl Email {
    /// This email, about `about` (see [`Email::about`]).
    pub(super) fn about(self, about: &str) -> Self {
        Self {
            about: about.to_owned(),
            ..self
        }
    }

    /// An email rendered from `template` with `values`, in the language
    /// the recipient prefers.
    pub(super) fn rendered(
        recipient: &str,
        template: Template,
        language: &str,
        values: Value,
    ) -> Self {
        Self {
            recipient: recipient.to_owned(),
            template,
            language: Language::preferred(language),
            content: Content::Template(values),
            about: String::new(),
        }
    }

    /// An email sent as the provider wrote it (`subject`, `body`), its
    /// `link` sealed in the body.
    pub(super) fn written(
        recipient: String,
        template: Template,
        language: &str,
        (subject, body): (String, String),
        link: SealedLink,
    ) -> Self {
        Self {
            recipient,
            template,
            language: Language::preferred(language),
            content: Content::Written {
                subject,
                body,
                link,
            },
            about: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_is_the_recipients_preference_english_when_unknown() {
        assert_eq!(Language::preferred("de"), Language::German);
        assert_eq!(Language::preferred("en"), Language::English);
        for unknown in ["", "fr", "DE", "de-AT"] {
            assert_eq!(Language::preferred(unknown), Language::English, "{unknown}");
        }
        assert_eq!(Language::German.code(), "de");
        assert_eq!(Language::English.code(), "en");
    }

    #[test]
    fn a_sealed_link_is_written_as_kind_and_id_and_read_back() {
        let link = SealedLink::invitation("0193-abc");
        assert_eq!(link.to_string(), "invitation:0193-abc");
        assert_eq!(SealedLink::parse(&link.to_string()), Some(link));
        assert_eq!(SealedLink::parse("no separator"), None);
    }
}
