//! R29 through gRPC: a command refused for its input is in the audit trail
//! once, and what a customer's admin does with a provider's relationship
//! request (R22), refused or not, is in that provider's trail under the
//! request's name.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::audit::AuditRecord;
use twotier_proto::customer as pb;
use twotier_testkit::{assert_error, audit_records};

const DOMAIN: &str = "adatum.onmicrosoft.com";

/// The provider's records of `rpc` on `resource` (any, when empty).
async fn recorded(h: &Harness, resource: &str, rpc: &str) -> Vec<AuditRecord> {
    audit_records(
        h.channel("customer"),
        &provider_admin(PROVIDER),
        resource,
        rpc,
    )
    .await
}

#[tokio::test]
async fn an_unconfirmed_end_of_a_delegation_is_recorded_once() {
    let h = start().await;
    h.onboard(RESELLER, RESELLER_TENANT, "Fabrikam").await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let customer = h.customer(PROVIDER, "adatum", RESELLER).await;
    let delegation = format!("{}/delegatedAdminRelationships/{RESELLER}", customer.name);
    assert_error(
        h.customers(&provider_admin(PROVIDER))
            .end_delegated_admin_relationship(pb::EndDelegatedAdminRelationshipRequest {
                name: delegation.clone(),
                confirm: false,
            })
            .await,
        Code::InvalidArgument,
        "END_NOT_CONFIRMED",
    );

    let records = recorded(&h, &delegation, "EndDelegatedAdminRelationship").await;
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0].outcome, "END_NOT_CONFIRMED");
    assert_eq!(records[0].code, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn a_customer_admins_refused_and_accepted_requests_are_in_the_providers_trail() {
    let h = start().await;
    let adatum = partnered_with_customer(&h).await;
    let revoked = h.ask(PROVIDER, &adatum.name, RESELLER).await;
    let revoked_name = revoked
        .reseller_relationship_request
        .clone()
        .expect("request")
        .name;
    h.customers(&provider_admin(PROVIDER))
        .revoke_reseller_relationship_request(pb::RevokeResellerRelationshipRequestRequest {
            name: revoked_name.clone(),
        })
        .await
        .expect("revoke");
    let mut admin = h.customers(&customer_admin(DOMAIN));
    assert_error(
        admin
            .accept_reseller_relationship(accept(&token_of(&revoked)))
            .await,
        Code::FailedPrecondition,
        "RELATIONSHIP_REQUEST_REVOKED",
    );
    let accepted = h.ask(PROVIDER, &adatum.name, RESELLER).await;
    let second = h.ask(PROVIDER, &adatum.name, RESELLER).await;
    let relationship = admin
        .accept_reseller_relationship(accept(&token_of(&accepted)))
        .await
        .expect("accept")
        .into_inner();
    // The second link, accepted while delegated: used up, answered with the
    // relationship, and in the trail under its own name.
    admin
        .accept_reseller_relationship(accept(&token_of(&second)))
        .await
        .expect("the second answers the relationship");
    let second_name = second
        .reseller_relationship_request
        .clone()
        .expect("request")
        .name;
    // Opened once more, used up: answered alike, and recorded again.
    admin
        .accept_reseller_relationship(accept(&token_of(&second)))
        .await
        .expect("a used link answers the relationship");
    let used = recorded(&h, &second_name, "AcceptResellerRelationship").await;
    assert_eq!(used.len(), 2, "{used:#?}");
    assert!(used.iter().all(|record| record.outcome == "OK"));
    assert_eq!(used[0].resource_tenant_id, PROVIDER);

    let refused = recorded(&h, &revoked_name, "AcceptResellerRelationship").await;
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert_eq!(refused[0].outcome, "RELATIONSHIP_REQUEST_REVOKED");
    assert_eq!(refused[0].resource_tenant_id, PROVIDER);
    let actor = refused[0].actor.as_ref().expect("actor");
    assert_eq!(actor.tenant_id, DOMAIN);
    let done = recorded(&h, &relationship.name, "AcceptResellerRelationship").await;
    assert_eq!(done.len(), 1, "{done:#?}");
    assert_eq!(done[0].outcome, "OK");
}

// R29: a create refused for its input before it reaches its unit of work
// is recorded with the request id it was sent with; a request id refused
// for its form is not kept.
#[tokio::test]
async fn a_create_refused_for_its_input_is_recorded_with_its_request_id() {
    let h = start().await;
    let mut customers = h.customers(&provider_admin(PROVIDER));
    let invalid = pb::CreateCustomerRequest {
        request_id: "create-adatum-1".into(),
        ..create(PROVIDER, new_customer("Adatum", "x", ""))
    };
    assert_error(
        customers.create_customer(invalid).await,
        Code::InvalidArgument,
        "INVALID_CUSTOMER",
    );
    let malformed_id = pb::CreateCustomerRequest {
        request_id: "not a request id".into(),
        ..create(PROVIDER, new_customer("Adatum", "adatum", ""))
    };
    assert_error(
        customers.create_customer(malformed_id).await,
        Code::InvalidArgument,
        "INVALID_CUSTOMER",
    );

    let records = recorded(&h, &format!("providers/{PROVIDER}"), "CreateCustomer").await;
    let request_ids: Vec<&str> = records.iter().map(|r| r.request_id.as_str()).collect();
    assert_eq!(request_ids, ["", "create-adatum-1"], "newest first");
    assert!(records.iter().all(|r| r.outcome == "INVALID_CUSTOMER"));
}

// R29: a created customer's and relationship request's records are found
// by their own names.
#[tokio::test]
async fn creates_are_recorded_under_what_they_created() {
    let h = start().await;
    let customer = partnered_with_customer(&h).await;
    let created = recorded(&h, &customer.name, "CreateCustomer").await;
    assert_eq!(created.len(), 1, "{created:#?}");
    assert_eq!(created[0].outcome, "OK");
    let asked = h.ask(PROVIDER, &customer.name, RESELLER).await;
    let request = asked
        .reseller_relationship_request
        .expect("relationship request")
        .name;
    let requested = recorded(&h, &request, "RequestResellerRelationship").await;
    assert_eq!(requested.len(), 1, "{requested:#?}");
}
