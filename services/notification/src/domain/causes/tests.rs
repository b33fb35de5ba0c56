//! The R20 decisions: which emails, to whom, in which language.

use super::*;
use crate::domain::{Content, Language};

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
    assert!(created.tells_anyone());
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
    assert!(!direct.tells_anyone());
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

#[test]
fn r22_the_relationship_request_goes_to_the_customer_admin_as_written_with_its_link_sealed() {
    let emails = RelationshipEmail {
        request_id: "req-1".into(),
        to: "admin@adatum.onmicrosoft.com".into(),
        subject: "Fabrikam for Adatum".into(),
        body: "accept: [[marker]]".into(),
        language_code: "de".into(),
    }
    .emails();
    let [email] = emails.as_slice() else {
        panic!("one email: {emails:?}");
    };
    assert_eq!(email.recipient, "admin@adatum.onmicrosoft.com");
    assert_eq!(email.template, Template::ResellerRelationshipRequest);
    assert_eq!(email.language, Language::German);
    let Content::Written { link, body, .. } = &email.content else {
        panic!("written, not rendered");
    };
    assert_eq!(body, "accept: [[marker]]");
    assert_eq!(link, &SealedLink::relationship("req-1"));
    assert_eq!(link.to_string(), "relationship:req-1");
}

#[test]
fn r22_an_acceptance_tells_the_reseller_and_the_provider_each_in_its_language() {
    let acceptance = RelationshipAcceptance {
        reseller: reseller("4567890", "admin@fabrikam.example", "de"),
        provider_email: "alice@contoso.example".into(),
        customer_company: "Adatum AG".into(),
        customer_domain: "adatum.onmicrosoft.com".into(),
    };
    let emails = acceptance.clone().emails(&provider("en"));
    let summary: Vec<_> = emails
        .iter()
        .map(|e| (e.recipient.as_str(), e.template, e.language))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "admin@fabrikam.example",
                Template::ResellerRelationshipAccepted,
                Language::German
            ),
            (
                "alice@contoso.example",
                Template::ResellerRelationshipAcceptedProvider,
                Language::English
            ),
        ]
    );
    assert_eq!(
        value(&emails[1], "customer_domain"),
        "adatum.onmicrosoft.com"
    );
    let unnamed = RelationshipAcceptance {
        provider_email: String::new(),
        ..acceptance
    };
    assert_eq!(
        unnamed.emails(&provider("en"))[1].recipient,
        "sales@contoso.example"
    );
}
