//! R23 and R22 across services, through gRPC: the provider ends a delegated
//! admin relationship with confirmation, and the reseller no longer reads
//! the customer nor, through the subscription service, its subscriptions,
//! which keep their reseller of record; a relationship the customer's admin
//! accepts (R22) gives the reading back. Partnership removal (R7) leaves
//! delegated admin untouched: `reseller_customers.rs`.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::customer as pb;
use twotier_proto::subscription as spb;
use twotier_testkit::{System, assert_error, flows};

#[tokio::test]
async fn r23_ending_a_relationship_ends_the_resellers_reads_and_r22_gives_them_back() {
    let h = Harness {
        system: System::start(&["partnership", "customer", "subscription"], &[]).await,
    };
    h.onboard(RESELLER, RESELLER_TENANT, "Fabrikam").await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let customer = flows::customer(h.channel("customer"), PROVIDER, "adatum", RESELLER, true).await;
    let order = flows::buy(
        h.channel("subscription"),
        PROVIDER,
        &customer,
        vec![flows::line("m365-business-premium", 5, RESELLER)],
    )
    .await;
    let subscription = order.lines[0].subscription.clone();
    let list = || spb::ListSubscriptionsRequest {
        parent: customer.clone(),
        ..Default::default()
    };
    let get = || pb::GetCustomerRequest {
        name: customer.clone(),
    };
    let mut reseller_subscriptions = h.subscriptions(&reseller_admin(RESELLER_TENANT));
    let mut reseller_customers = h.customers(&reseller_admin(RESELLER_TENANT));
    reseller_subscriptions
        .list_subscriptions(list())
        .await
        .expect("delegated by R9");

    let mut provider = h.customers(&provider_admin(PROVIDER));
    let delegation = format!("{customer}/delegatedAdminRelationships/{RESELLER}");
    let end = |confirm| pb::EndDelegatedAdminRelationshipRequest {
        name: delegation.clone(),
        confirm,
    };
    let status = assert_error(
        provider.end_delegated_admin_relationship(end(false)).await,
        Code::InvalidArgument,
        "END_NOT_CONFIRMED",
    );
    assert_eq!(twotier_testkit::violated_fields(&status), ["confirm"]);
    reseller_customers
        .get_customer(get())
        .await
        .expect("nothing changed without confirmation");
    assert_error(
        h.customers(&provider_admin(OTHER_PROVIDER))
            .end_delegated_admin_relationship(end(true))
            .await,
        Code::NotFound,
        "PROVIDER_NOT_FOUND",
    );
    let ended = provider
        .end_delegated_admin_relationship(end(true))
        .await
        .expect("end")
        .into_inner();
    assert_eq!(ended.name, delegation);
    assert_error(
        provider.end_delegated_admin_relationship(end(true)).await,
        Code::NotFound,
        "DELEGATED_ADMIN_RELATIONSHIP_NOT_FOUND",
    );

    // The reseller reads neither the customer nor its subscriptions.
    assert_error(
        reseller_customers.get_customer(get()).await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    assert_error(
        reseller_subscriptions.list_subscriptions(list()).await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    assert_error(
        reseller_subscriptions
            .get_subscription(spb::GetSubscriptionRequest {
                name: subscription.clone(),
            })
            .await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    let listed = reseller_customers
        .list_reseller_customers(pb::ListResellerCustomersRequest {
            parent: format!("resellers/{RESELLER}"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.customers.is_empty());
    // The customer has no reseller; its subscription keeps its reseller of
    // record.
    let read = provider.get_customer(get()).await.unwrap().into_inner();
    assert_eq!(read.indirect_reseller_partner_id, "");
    let relationships = provider
        .list_delegated_admin_relationships(pb::ListDelegatedAdminRelationshipsRequest {
            parent: customer.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(relationships.delegated_admin_relationships.is_empty());
    let kept = h
        .subscriptions(&provider_admin(PROVIDER))
        .get_subscription(spb::GetSubscriptionRequest {
            name: subscription.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(kept.reseller_partner_id, RESELLER);
    let events = h.events(1).await;
    assert!(
        events
            .iter()
            .any(|e| e.event_type == "twotier.customer.v1.DelegatedAdminEnded")
    );

    // R22: the customer's admin accepts a new request; the reads are back.
    let requested = h.ask(PROVIDER, &customer, RESELLER).await;
    h.customers(&customer_admin("adatum.onmicrosoft.com"))
        .accept_reseller_relationship(accept(&token_of(&requested)))
        .await
        .expect("accept");
    let listed = reseller_subscriptions
        .list_subscriptions(list())
        .await
        .expect("delegated again by R22")
        .into_inner();
    assert_eq!(listed.subscriptions.len(), 1);

    // R22: a delegated customer is not asked again until the provider ends
    // the relationship; a used link stays used.
    assert_error(
        provider
            .request_reseller_relationship(relationship(&customer, RESELLER))
            .await,
        Code::FailedPrecondition,
        "CUSTOMER_ALREADY_DELEGATED",
    );
    provider
        .end_delegated_admin_relationship(end(true))
        .await
        .expect("end again");
    assert_error(
        h.customers(&customer_admin("adatum.onmicrosoft.com"))
            .accept_reseller_relationship(accept(&token_of(&requested)))
            .await,
        Code::FailedPrecondition,
        "RELATIONSHIP_REQUEST_ALREADY_USED",
    );
}
