//! R9, R13 and R6 through gRPC: only an active partner becomes a customer's
//! reseller, and removing the partnership keeps existing customers and their
//! delegated access; a reseller admin sees exactly its delegated customers
//! across providers, a provider lists (all or one reseller's) only its own.

mod common;

use common::*;
use tonic::Code;
use twotier_platform::auth::Role;
use twotier_proto::customer as pb;
use twotier_testkit::assert_error;

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
