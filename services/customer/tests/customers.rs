//! R9-R11 and R13 through the customer service's gRPC interface.

mod common;

use common::*;
use tonic::Code;
use twotier_platform::auth::Role;
use twotier_proto::customer as pb;
use twotier_testkit::{assert_error, violated_fields};

#[tokio::test]
async fn customer_for_a_partner_reseller_gets_delegated_admin_and_credentials_once() {
    let h = start().await;
    h.onboard(RESELLER, RESELLER_TENANT, "Fabrikam GmbH").await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let mut client = h.customers(&provider_admin(PROVIDER));

    let created = client
        .create_customer(create(
            PROVIDER,
            new_customer("Adatum AG", "Adatum", RESELLER),
        ))
        .await
        .expect("create")
        .into_inner();
    let customer = created.customer.unwrap();
    assert!(customer.name.starts_with("providers/contoso/customers/"));
    assert_eq!(customer.domain_prefix, "adatum", "prefixes are lower case");
    assert_eq!(customer.domain, "adatum.onmicrosoft.com");
    assert_eq!(customer.indirect_reseller_partner_id, RESELLER);
    let credentials = created
        .admin_credentials
        .expect("credentials on the first create");
    assert_eq!(credentials.user_name, "admin@adatum.onmicrosoft.com");
    assert!(credentials.temporary_password.len() >= 16);
    assert!(!created.credentials_already_returned);
    assert!(
        !format!("{credentials:?}").contains(&credentials.temporary_password),
        "Debug redacts the password"
    );

    let read = client
        .get_customer(pb::GetCustomerRequest {
            name: customer.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read, customer);
    let relationships = client
        .list_delegated_admin_relationships(pb::ListDelegatedAdminRelationshipsRequest {
            parent: customer.name.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .delegated_admin_relationships;
    assert_eq!(relationships.len(), 1);
    assert_eq!(relationships[0].partner_id, RESELLER);
    assert_eq!(relationships[0].reseller_company_name, "Fabrikam GmbH");
    assert_eq!(
        relationships[0].scopes.len(),
        2,
        "account and subscription administration"
    );

    let events = h.events(2).await;
    let types: Vec<_> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        vec![
            "twotier.customer.v1.CustomerCreated",
            "twotier.customer.v1.DelegatedAdminGranted"
        ]
    );
    let payload: pb::CustomerCreated = events[0].payload.as_ref().unwrap().to_msg().unwrap();
    assert_eq!(
        payload.indirect_reseller.unwrap().contact_email,
        "admin@fabrikam.example"
    );
}

#[tokio::test]
async fn review_and_submit_report_the_same_errors_and_review_creates_nothing() {
    let h = start().await;
    let mut client = h.customers(&provider_admin(PROVIDER));
    let mut bad = new_customer("", "x!", "12");
    bad.primary_contact.as_mut().unwrap().email = "nope".into();
    bad.address.as_mut().unwrap().country_code = "Germany".into();
    let mut review = create(PROVIDER, bad.clone());
    review.validate_only = true;
    let review_error = assert_error(
        client.create_customer(review).await,
        Code::InvalidArgument,
        "INVALID_CUSTOMER",
    );
    let submit_error = assert_error(
        client.create_customer(create(PROVIDER, bad)).await,
        Code::InvalidArgument,
        "INVALID_CUSTOMER",
    );
    let mut fields = violated_fields(&review_error);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "customer.address.country_code",
            "customer.company_name",
            "customer.domain_prefix",
            "customer.indirect_reseller_partner_id",
            "customer.primary_contact.email",
        ]
    );
    assert_eq!(
        violated_fields(&review_error),
        violated_fields(&submit_error)
    );

    // A valid review shows the customer as it would be and creates nothing.
    let mut review = create(PROVIDER, new_customer("Adatum AG", "adatum", ""));
    review.validate_only = true;
    let preview = client
        .create_customer(review)
        .await
        .expect("review")
        .into_inner();
    assert!(preview.validate_only);
    assert!(preview.admin_credentials.is_none());
    assert_eq!(preview.customer.unwrap().domain, "adatum.onmicrosoft.com");
    let listed = client
        .list_customers(pb::ListCustomersRequest {
            parent: "providers/contoso".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.customers.is_empty());
    let check = client
        .check_domain_prefix(pb::CheckDomainPrefixRequest {
            domain_prefix: "adatum".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(check.available);
    assert!(h.events(0).await.is_empty(), "review emits nothing");
}

#[tokio::test]
async fn taken_domain_prefix_is_refused_in_review_and_submit_and_once_under_concurrency() {
    let h = start().await;
    let mut client = h.customers(&provider_admin(PROVIDER));
    client
        .create_customer(create(PROVIDER, new_customer("Adatum", "adatum", "")))
        .await
        .unwrap();
    let mut review = create(PROVIDER, new_customer("Adatum 2", "ADATUM", ""));
    review.validate_only = true;
    assert_error(
        client.create_customer(review).await,
        Code::AlreadyExists,
        "DOMAIN_PREFIX_TAKEN",
    );
    // Another provider cannot take it either: the onmicrosoft.com namespace is global.
    assert_error(
        h.customers(&provider_admin(OTHER_PROVIDER))
            .create_customer(create(OTHER_PROVIDER, new_customer("Other", "adatum", "")))
            .await,
        Code::AlreadyExists,
        "DOMAIN_PREFIX_TAKEN",
    );
    let check = client
        .check_domain_prefix(pb::CheckDomainPrefixRequest {
            domain_prefix: "adatum".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!check.available);

    let attempts: Vec<_> = (0..8)
        .map(|i| {
            let mut client = h.customers(&provider_admin(PROVIDER));
            tokio::spawn(async move {
                client
                    .create_customer(create(
                        PROVIDER,
                        new_customer(&format!("Race {i}"), "racing", ""),
                    ))
                    .await
            })
        })
        .collect();
    let mut won = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => won += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::AlreadyExists);
                assert_error::<()>(Err(status), Code::AlreadyExists, "DOMAIN_PREFIX_TAKEN");
            }
        }
    }
    assert_eq!(won, 1, "exactly one concurrent create wins the prefix");
}

#[tokio::test]
async fn retried_create_returns_the_customer_but_never_the_password_again() {
    let h = start().await;
    let mut client = h.customers(&provider_admin(PROVIDER));
    let mut request = create(PROVIDER, new_customer("Adatum", "adatum", ""));
    request.request_id = "create-adatum".into();
    let first = client
        .create_customer(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(first.admin_credentials.is_some());
    let retry = client
        .create_customer(request.clone())
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(retry.customer, first.customer);
    assert!(retry.admin_credentials.is_none());
    assert!(
        retry.credentials_already_returned,
        "the replay says the credentials were returned before"
    );
    request.customer.as_mut().unwrap().company_name = "Adatum Renamed".into();
    assert_error(
        client.create_customer(request).await,
        Code::InvalidArgument,
        "REQUEST_ID_REUSED",
    );
    let listed = client
        .list_customers(pb::ListCustomersRequest {
            parent: "providers/contoso".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.customers.len(), 1);
}

#[tokio::test]
async fn reseller_must_be_an_active_partner_and_removal_keeps_existing_customers() {
    let h = start().await;
    h.onboard(RESELLER, RESELLER_TENANT, "Fabrikam").await;
    let mut client = h.customers(&provider_admin(PROVIDER));
    assert_error(
        client
            .create_customer(create(PROVIDER, new_customer("Early", "early", RESELLER)))
            .await,
        Code::FailedPrecondition,
        "RESELLER_NOT_PARTNER",
    );
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let created = client
        .create_customer(create(PROVIDER, new_customer("Adatum", "adatum", RESELLER)))
        .await
        .expect("partnered")
        .into_inner();
    let customer = created.customer.unwrap();

    h.remove_partnership(PROVIDER, RESELLER).await;
    // Removal reaches the projection; from then on new customers cannot be associated.
    twotier_testkit::wait_until(
        "the removal reaches the customer service",
        std::time::Duration::from_secs(30),
        || {
            let mut client = client.clone();
            async move {
                let mut review = create(PROVIDER, new_customer("Later", "later", RESELLER));
                review.validate_only = true;
                client.create_customer(review).await.is_err()
            }
        },
    )
    .await;
    assert_error(
        client
            .create_customer(create(PROVIDER, new_customer("Later", "later", RESELLER)))
            .await,
        Code::FailedPrecondition,
        "RESELLER_NOT_PARTNER",
    );
    // The existing customer and its delegated admin relationship are unchanged.
    let read = client
        .get_customer(pb::GetCustomerRequest {
            name: customer.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read, customer);
    let relationships = client
        .list_delegated_admin_relationships(pb::ListDelegatedAdminRelationshipsRequest {
            parent: customer.name.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .delegated_admin_relationships;
    assert_eq!(relationships.len(), 1);
    let as_reseller = h
        .customers(&reseller_admin(RESELLER_TENANT))
        .get_customer(pb::GetCustomerRequest {
            name: customer.name,
        })
        .await;
    assert!(
        as_reseller.is_ok(),
        "the reseller keeps its delegated access"
    );
}

#[tokio::test]
async fn reseller_admin_sees_exactly_its_delegated_customers_across_providers() {
    let h = start().await;
    h.onboard(RESELLER, RESELLER_TENANT, "Fabrikam").await;
    h.onboard("7654321", "tailspin", "Tailspin").await;
    for provider in [PROVIDER, OTHER_PROVIDER] {
        h.partner(provider, RESELLER_TENANT).await;
        h.partner(provider, "tailspin").await;
    }
    let mut contoso = h.customers(&provider_admin(PROVIDER));
    let mut northwind = h.customers(&provider_admin(OTHER_PROVIDER));
    let a = contoso
        .create_customer(create(PROVIDER, new_customer("Alpha", "alpha", RESELLER)))
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    let b = northwind
        .create_customer(create(
            OTHER_PROVIDER,
            new_customer("Bravo", "bravo", RESELLER),
        ))
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    let c = contoso
        .create_customer(create(
            PROVIDER,
            new_customer("Charlie", "charlie", "7654321"),
        ))
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    let d = contoso
        .create_customer(create(PROVIDER, new_customer("Delta", "delta", "")))
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();

    let mut fabrikam = h.customers(&reseller_admin(RESELLER_TENANT));
    let listed = fabrikam
        .list_reseller_customers(pb::ListResellerCustomersRequest {
            parent: format!("resellers/{RESELLER}"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = listed.customers.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, vec![a.name.clone(), b.name.clone()]);
    fabrikam
        .get_customer(pb::GetCustomerRequest {
            name: b.name.clone(),
        })
        .await
        .expect("delegated across providers");
    for foreign in [&c, &d] {
        assert_error(
            fabrikam
                .get_customer(pb::GetCustomerRequest {
                    name: foreign.name.clone(),
                })
                .await,
            Code::NotFound,
            "CUSTOMER_NOT_FOUND",
        );
    }
    assert_error(
        fabrikam
            .list_reseller_customers(pb::ListResellerCustomersRequest {
                parent: "resellers/7654321".into(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        "RESELLER_NOT_FOUND",
    );

    // Provider views: all, or one reseller's; never another provider's.
    let all = contoso
        .list_customers(pb::ListCustomersRequest {
            parent: "providers/contoso".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.customers.len(), 3);
    let of_fabrikam = contoso
        .list_customers(pb::ListCustomersRequest {
            parent: "providers/contoso".into(),
            indirect_reseller_partner_id: RESELLER.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        of_fabrikam
            .customers
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>(),
        vec![a.name.clone()]
    );
    let paged = contoso
        .list_customers(pb::ListCustomersRequest {
            parent: "providers/contoso".into(),
            page_size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(paged.customers.len(), 2);
    let rest = contoso
        .list_customers(pb::ListCustomersRequest {
            parent: "providers/contoso".into(),
            page_size: 2,
            page_token: paged.next_page_token,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.customers.len(), 1);
    assert_error(
        northwind
            .get_customer(pb::GetCustomerRequest {
                name: a.name.clone(),
            })
            .await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    assert_error(
        northwind
            .list_customers(pb::ListCustomersRequest {
                parent: "providers/contoso".into(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        "PROVIDER_NOT_FOUND",
    );
    assert_error(
        northwind
            .list_delegated_admin_relationships(pb::ListDelegatedAdminRelationshipsRequest {
                parent: a.name.clone(),
            })
            .await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    let billing = twotier_testkit::token("bob", PROVIDER, &[Role::BillingAdmin]);
    assert_error(
        h.customers(&billing)
            .get_customer(pb::GetCustomerRequest { name: a.name })
            .await,
        Code::PermissionDenied,
        "ROLE_NOT_ALLOWED",
    );
    assert_error(
        h.customers(&billing)
            .create_customer(create(PROVIDER, new_customer("Echo", "echo", "")))
            .await,
        Code::PermissionDenied,
        "ROLE_NOT_ALLOWED",
    );
}

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
        date_agreed: "2999-01-01".into(),
        ..Default::default()
    };
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
        vec!["customer_agreement.date_agreed"]
    );
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
