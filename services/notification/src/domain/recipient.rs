//! Who each kind of email is addressed to, by the part they play: what the
//! notification log reports instead of the address (R30).

use super::Template;

/// The part an email's recipient plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipientRole {
    /// The provider.
    Provider,
    /// An indirect reseller.
    Reseller,
    /// An invited reseller, not yet a partner.
    Invitee,
    /// A customer's administrator.
    CustomerAdmin,
}

impl Template {
    /// Every kind of email; a new one is added here and to
    /// [`Template::recipient`].
    pub const ALL: [Template; 14] = [
        Template::PartnershipInvitation,
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
        Template::ResellerRelationshipRequest,
        Template::ResellerRelationshipAccepted,
        Template::ResellerRelationshipAcceptedProvider,
    ];

    /// The template recorded as `name`, if this build knows it.
    pub fn parse(name: &str) -> Option<Template> {
        Template::ALL
            .into_iter()
            .find(|template| template.name() == name)
    }

    /// Who this email is for.
    pub fn recipient(self) -> RecipientRole {
        match self {
            Template::PartnershipInvitation => RecipientRole::Invitee,
            Template::PartnershipAccepted
            | Template::OrderPlaced
            | Template::ResellerRelationshipAcceptedProvider => RecipientRole::Provider,
            Template::ResellerRelationshipRequest => RecipientRole::CustomerAdmin,
            Template::CustomerCreatedForReseller
            | Template::OrderPlacedReseller
            | Template::ResellerOfRecordAssigned
            | Template::SupportContactAssigned
            | Template::SubscriptionSuspended
            | Template::SubscriptionReactivated
            | Template::SubscriptionCancelled
            | Template::AutoRenewChanged
            | Template::ResellerRelationshipAccepted => RecipientRole::Reseller,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses_from_its_name_and_has_a_recipient() {
        for template in Template::ALL {
            assert_eq!(Template::parse(template.name()), Some(template));
        }
        assert_eq!(Template::parse("unknown"), None);
        assert_eq!(Template::OrderPlaced.recipient(), RecipientRole::Provider);
        assert_eq!(
            Template::PartnershipInvitation.recipient(),
            RecipientRole::Invitee
        );
        assert_eq!(
            Template::SupportContactAssigned.recipient(),
            RecipientRole::Reseller
        );
    }
}
