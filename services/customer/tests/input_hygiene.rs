//! Input hygiene through gRPC: every single-line field of a customer and
//! of its agreement refuses line breaks, names the field and changes
//! nothing.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::customer as pb;
use twotier_testkit::{assert_error, violated_fields};

const LINE_BREAK: &str = "Adatum\r\nBcc: victim@example.com";

type CustomerSpoiler = (&'static str, fn(&mut pb::Customer));

const CUSTOMER_LINES: [CustomerSpoiler; 10] = [
    ("customer.company_name", |c| {
        c.company_name = LINE_BREAK.into()
    }),
    ("customer.address.address_line1", |c| {
        address_of(c).address_line1 = LINE_BREAK.into()
    }),
    ("customer.address.address_line2", |c| {
        address_of(c).address_line2 = LINE_BREAK.into()
    }),
    ("customer.address.city", |c| {
        address_of(c).city = "Ber\nlin".into()
    }),
    ("customer.address.region", |c| {
        address_of(c).region = "Ber\rlin".into()
    }),
    ("customer.address.postal_code", |c| {
        address_of(c).postal_code = "101\n15".into()
    }),
    ("customer.primary_contact.first_name", |c| {
        contact_of(c).first_name = LINE_BREAK.into()
    }),
    ("customer.primary_contact.last_name", |c| {
        contact_of(c).last_name = "Win\u{2028}ter".into()
    }),
    ("customer.primary_contact.phone", |c| {
        contact_of(c).phone = "+49\r\n30".into()
    }),
    ("customer.primary_contact.email", |c| {
        contact_of(c).email = "wendy@adatum.example\r\nBcc: x@y.example".into()
    }),
];

fn address_of(customer: &mut pb::Customer) -> &mut pb::Address {
    customer.address.get_or_insert_with(address)
}

fn contact_of(customer: &mut pb::Customer) -> &mut pb::Contact {
    customer.primary_contact.get_or_insert_with(contact)
}

type AgreementSpoiler = (&'static str, fn(&mut pb::CustomerAgreement));

const AGREEMENT_LINES: [AgreementSpoiler; 4] = [
    ("customer_agreement.signatory_first_name", |a| {
        a.signatory_first_name = LINE_BREAK.into()
    }),
    ("customer_agreement.signatory_last_name", |a| {
        a.signatory_last_name = "Win\nter".into()
    }),
    ("customer_agreement.signatory_phone", |a| {
        a.signatory_phone = "+49\r30".into()
    }),
    ("customer_agreement.signatory_email", |a| {
        a.signatory_email = "wendy@adatum.example\n".into()
    }),
];

/// Every refusal changed nothing: the provider lists no customer.
async fn assert_no_customer_was_created(h: &Harness) {
    let listed = h
        .customers(&provider_admin(PROVIDER))
        .list_customers(pb::ListCustomersRequest {
            parent: format!("providers/{PROVIDER}"),
            ..Default::default()
        })
        .await
        .expect("list customers")
        .into_inner();
    assert!(listed.customers.is_empty(), "no customer was created");
}

#[tokio::test]
async fn line_breaks_in_single_line_customer_and_agreement_fields_are_refused_and_change_nothing() {
    let h = start().await;
    let mut client = h.customers(&provider_admin(PROVIDER));
    for (field, spoil) in CUSTOMER_LINES {
        let mut customer = new_customer("Adatum", "adatum", "");
        spoil(&mut customer);
        for validate_only in [true, false] {
            let status = assert_error(
                client
                    .create_customer(pb::CreateCustomerRequest {
                        validate_only,
                        ..create(PROVIDER, customer.clone())
                    })
                    .await,
                Code::InvalidArgument,
                "INVALID_CUSTOMER",
            );
            assert_eq!(violated_fields(&status), vec![field]);
        }
    }
    assert_no_customer_was_created(&h).await;

    let customer = client
        .create_customer(create(PROVIDER, new_customer("Adatum", "adatum", "")))
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    let agreement = pb::CustomerAgreement {
        signatory_first_name: "Wendy".into(),
        signatory_last_name: "Winter".into(),
        signatory_email: "wendy@adatum.example".into(),
        signatory_phone: "+49 30 1234".into(),
        date_agreed: "2026-01-02".into(),
        ..Default::default()
    };
    for (field, spoil) in AGREEMENT_LINES {
        let mut spoiled = agreement.clone();
        spoil(&mut spoiled);
        let status = assert_error(
            client
                .record_customer_agreement(pb::RecordCustomerAgreementRequest {
                    parent: customer.name.clone(),
                    customer_agreement: Some(spoiled),
                })
                .await,
            Code::InvalidArgument,
            "INVALID_CUSTOMER_AGREEMENT",
        );
        assert_eq!(violated_fields(&status), vec![field]);
    }
    assert_error(
        client
            .get_customer_agreement(pb::GetCustomerAgreementRequest {
                name: format!("{}/customerAgreement", customer.name),
            })
            .await,
        Code::NotFound,
        "CUSTOMER_AGREEMENT_NOT_FOUND",
    );
}

/// Required fields a customer cannot do without; spaces alone fill none.
const REQUIRED_LINES: [CustomerSpoiler; 6] = [
    ("customer.company_name", |c| c.company_name = "   ".into()),
    ("customer.address.address_line1", |c| {
        address_of(c).address_line1 = " ".into()
    }),
    ("customer.address.city", |c| {
        address_of(c).city = "\u{a0}".into()
    }),
    ("customer.address.postal_code", |c| {
        address_of(c).postal_code = "  ".into()
    }),
    ("customer.primary_contact.first_name", |c| {
        contact_of(c).first_name = " ".into()
    }),
    ("customer.primary_contact.last_name", |c| {
        contact_of(c).last_name = "\u{3000}".into()
    }),
];

#[tokio::test]
async fn required_customer_fields_of_spaces_alone_are_refused_as_blank_and_change_nothing() {
    let h = start().await;
    let mut client = h.customers(&provider_admin(PROVIDER));
    for (field, spoil) in REQUIRED_LINES {
        let mut customer = new_customer("Adatum", "adatum", "");
        spoil(&mut customer);
        for validate_only in [true, false] {
            let status = assert_error(
                client
                    .create_customer(pb::CreateCustomerRequest {
                        validate_only,
                        ..create(PROVIDER, customer.clone())
                    })
                    .await,
                Code::InvalidArgument,
                "INVALID_CUSTOMER",
            );
            assert_eq!(violated_fields(&status), vec![field]);
            assert!(
                status.message().contains("must not be blank"),
                "{field}: {}",
                status.message()
            );
        }
    }
    assert_no_customer_was_created(&h).await;
}

// Names that look blank or read backwards: a company name of invisible
// characters alone is blank, and one that overrides the direction of the
// text after it ("Trojan Source") is refused; nothing is created.
#[tokio::test]
async fn names_of_invisible_characters_or_overriding_text_direction_are_refused() {
    let h = start().await;
    let mut client = h.customers(&provider_admin(PROVIDER));
    for (company, complaint) in [
        ("\u{200B}\u{FEFF}", "must not be blank"),
        ("Adatum \u{202E}gnp.exe", "direction"),
    ] {
        let status = assert_error(
            client
                .create_customer(create(PROVIDER, new_customer(company, "adatum", "")))
                .await,
            Code::InvalidArgument,
            "INVALID_CUSTOMER",
        );
        assert_eq!(violated_fields(&status), ["customer.company_name"]);
        assert!(status.message().contains(complaint), "{}", status.message());
    }
    assert_no_customer_was_created(&h).await;
}

// A malformed name is the caller's mistake before anything is looked up,
// also for a reseller's admin whose reseller twotier does not know.
#[tokio::test]
async fn a_malformed_customer_name_is_refused_before_the_caller_is_looked_up() {
    let h = start().await;
    let stranger = reseller_admin("no-such-reseller");
    let status = assert_error(
        h.customers(&stranger)
            .get_customer(pb::GetCustomerRequest {
                name: "garbage".into(),
            })
            .await,
        Code::InvalidArgument,
        "INVALID_RESOURCE_NAME",
    );
    assert_eq!(violated_fields(&status), ["name"]);
}
