//! R9-R11 through the customer service's gRPC interface: a customer for a
//! partner reseller gets a delegated admin relationship (R9); "Next: Review"
//! and "Submit" report the same errors, review creates nothing, and a domain
//! prefix is taken once, even under concurrency (R10); the admin credentials
//! come with the first create only, never with a retry (R11).

mod common;

use common::*;
use tonic::Code;
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
async fn a_review_answers_a_used_request_id_as_a_submit_does() {
    let h = start().await;
    let mut client = h.customers(&provider_admin(PROVIDER));
    let mut submit = create(PROVIDER, new_customer("Adatum AG", "adatum", ""));
    submit.request_id = "create-adatum".into();
    let created = client
        .create_customer(submit.clone())
        .await
        .expect("created")
        .into_inner();

    // The same id with other input: refused alike by review and submit.
    let mut other = create(PROVIDER, new_customer("Tailspin AG", "tailspin", ""));
    other.request_id = submit.request_id.clone();
    let submit_error = assert_error(
        client.create_customer(other.clone()).await,
        Code::InvalidArgument,
        "REQUEST_ID_REUSED",
    );
    other.validate_only = true;
    let review_error = assert_error(
        client.create_customer(other).await,
        Code::InvalidArgument,
        "REQUEST_ID_REUSED",
    );
    assert_eq!(violated_fields(&review_error), vec!["request_id"]);
    assert_eq!(
        violated_fields(&review_error),
        violated_fields(&submit_error)
    );

    // The same input reviewed again: what a retry returns (not "prefix
    // taken" by its own customer), as a review, without the credentials.
    let mut review = submit.clone();
    review.validate_only = true;
    let reviewed = client
        .create_customer(review)
        .await
        .expect("review of the submitted request")
        .into_inner();
    assert!(reviewed.validate_only);
    assert!(reviewed.admin_credentials.is_none());
    assert!(reviewed.credentials_already_returned);
    assert_eq!(reviewed.customer, created.customer);
    let retried = client
        .create_customer(submit)
        .await
        .expect("retry")
        .into_inner();
    assert!(!retried.validate_only);
    assert_eq!(retried.customer, created.customer);

    let listed = client
        .list_customers(pb::ListCustomersRequest {
            parent: format!("providers/{PROVIDER}"),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.customers.len(), 1, "nothing else was created");
}

#[tokio::test]
async fn a_company_name_that_grows_when_lower_cased_is_created_and_listed() {
    let h = start().await;
    let mut client = h.customers(&provider_admin(PROVIDER));
    // 200 characters, each two when lower-cased (the list's sort key).
    let company = "İ".repeat(200);
    let created = client
        .create_customer(create(PROVIDER, new_customer(&company, "istanbul", "")))
        .await
        .expect("created")
        .into_inner()
        .customer
        .expect("customer");
    assert_eq!(created.company_name, company);
    let listed = client
        .list_customers(pb::ListCustomersRequest {
            parent: format!("providers/{PROVIDER}"),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.customers, vec![created]);
}
