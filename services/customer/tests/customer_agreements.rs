//! R12 through gRPC: a customer agreement is validated, recorded, read back
//! and marked on the customer, and only the customer's provider records it.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::customer as pb;
use twotier_testkit::{assert_error, violated_fields};

#[tokio::test]
async fn customer_agreement_is_recorded_read_back_and_validated() {
    let h = start().await;
    let mut client = h.customers(&provider_admin(PROVIDER));
    let customer = client
        .create_customer(create(PROVIDER, new_customer("Adatum", "adatum", "")))
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    assert!(!customer.customer_agreement_accepted);
    let agreement_name = format!("{}/customerAgreement", customer.name);
    assert_error(
        client
            .get_customer_agreement(pb::GetCustomerAgreementRequest {
                name: agreement_name.clone(),
            })
            .await,
        Code::NotFound,
        "CUSTOMER_AGREEMENT_NOT_FOUND",
    );
    let mut agreement = pb::CustomerAgreement {
        signatory_first_name: "Wendy".into(),
        signatory_last_name: "Winter".into(),
        signatory_email: "wendy@adatum.example".into(),
        signatory_phone: String::new(),
        ..Default::default()
    };
    // In the future, or not exactly `YYYY-MM-DD` (an 11-character year
    // would not even fit the column on PostgreSQL).
    for date_agreed in ["2999-01-01", "2026-1-5", " 2026-01-05", "+2026-01-05"] {
        agreement.date_agreed = date_agreed.into();
        let status = assert_error(
            client
                .record_customer_agreement(pb::RecordCustomerAgreementRequest {
                    parent: customer.name.clone(),
                    customer_agreement: Some(agreement.clone()),
                })
                .await,
            Code::InvalidArgument,
            "INVALID_CUSTOMER_AGREEMENT",
        );
        assert_eq!(
            violated_fields(&status),
            vec!["customer_agreement.date_agreed"],
            "{date_agreed:?}"
        );
    }
    agreement.date_agreed = "2026-11-20".into();
    let recorded = client
        .record_customer_agreement(pb::RecordCustomerAgreementRequest {
            parent: customer.name.clone(),
            customer_agreement: Some(agreement),
        })
        .await
        .expect("record")
        .into_inner();
    assert_eq!(recorded.name, agreement_name);
    assert_eq!(recorded.recorded_by, "alice");
    let read = client
        .get_customer_agreement(pb::GetCustomerAgreementRequest {
            name: agreement_name,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read, recorded);
    let customer = client
        .get_customer(pb::GetCustomerRequest {
            name: customer.name,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(customer.customer_agreement_accepted);
    let events = h.events(2).await;
    assert!(
        events
            .iter()
            .any(|e| e.event_type == "twotier.customer.v1.CustomerAgreementAccepted")
    );

    let other = h.customers(&provider_admin(OTHER_PROVIDER));
    let mut other = other;
    assert_error(
        other
            .record_customer_agreement(pb::RecordCustomerAgreementRequest {
                parent: customer.name.clone(),
                customer_agreement: Some(read),
            })
            .await,
        Code::NotFound,
        "PROVIDER_NOT_FOUND",
    );
}

/// The customer `name`'s etag as its provider reads it now.
async fn etag_now(h: &Harness, name: &str) -> String {
    h.customers(&provider_admin(PROVIDER))
        .get_customer(pb::GetCustomerRequest { name: name.into() })
        .await
        .expect("read the customer")
        .into_inner()
        .etag
}

#[tokio::test]
async fn recording_the_same_agreement_again_keeps_the_etag_and_logs_nothing() {
    let h = start().await;
    let mut client = h.customers(&provider_admin(PROVIDER));
    let customer = h.customer(PROVIDER, "adatum", "").await;
    let agreement = pb::CustomerAgreement {
        signatory_first_name: "Wendy".into(),
        signatory_last_name: "Winter".into(),
        signatory_email: "wendy@adatum.example".into(),
        signatory_phone: String::new(),
        date_agreed: "2026-01-02".into(),
        ..Default::default()
    };
    let record = |agreement: pb::CustomerAgreement| pb::RecordCustomerAgreementRequest {
        parent: customer.name.clone(),
        customer_agreement: Some(agreement),
    };
    let first = client
        .record_customer_agreement(record(agreement.clone()))
        .await
        .expect("record")
        .into_inner();
    let after_first = etag_now(&h, &customer.name).await;
    let again = client
        .record_customer_agreement(record(agreement.clone()))
        .await
        .expect("record again")
        .into_inner();
    assert_eq!(again, first, "who recorded it and when stay as they were");
    assert_eq!(etag_now(&h, &customer.name).await, after_first, "R25");
    let changed = client
        .record_customer_agreement(record(pb::CustomerAgreement {
            date_agreed: "2026-01-03".into(),
            ..agreement
        }))
        .await
        .expect("record a changed one")
        .into_inner();
    assert_eq!(changed.date_agreed, "2026-01-03");
    assert_ne!(etag_now(&h, &customer.name).await, after_first);
    let accepted = h
        .events(3)
        .await
        .iter()
        .filter(|event| event.event_type.ends_with("CustomerAgreementAccepted"))
        .count();
    assert_eq!(accepted, 2, "the first and the changed one, not the repeat");
}

// R9, R12: the reseller a customer is delegated to reads its attestation,
// but not which of the provider's users recorded it.
#[tokio::test]
async fn the_delegated_reseller_reads_the_attestation_without_the_providers_user() {
    let h = start().await;
    h.onboard(RESELLER, RESELLER_TENANT, "Fabrikam").await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let customer = h.customer(PROVIDER, "adatum", RESELLER).await;
    let recorded = h
        .customers(&provider_admin(PROVIDER))
        .record_customer_agreement(pb::RecordCustomerAgreementRequest {
            parent: customer.name.clone(),
            customer_agreement: Some(pb::CustomerAgreement {
                signatory_first_name: "Wendy".into(),
                signatory_last_name: "Winter".into(),
                signatory_email: "wendy@adatum.example".into(),
                date_agreed: "2026-11-20".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("record")
        .into_inner();
    assert_eq!(recorded.recorded_by, "alice");

    let read = h
        .customers(&reseller_admin(RESELLER_TENANT))
        .get_customer_agreement(pb::GetCustomerAgreementRequest {
            name: recorded.name.clone(),
        })
        .await
        .expect("the delegated reseller reads it")
        .into_inner();
    assert!(read.recorded_by.is_empty());
    assert_eq!(
        pb::CustomerAgreement {
            recorded_by: recorded.recorded_by.clone(),
            ..read
        },
        recorded
    );
}
