//! R24 (customer side) and R22 through gRPC: a reseller failing R3 is
//! reported by `CreateCustomer` (review and submit) and
//! `RequestResellerRelationship` exactly as `VerifyPartnerId` reports it,
//! and a reseller whose partnership or eligibility lapsed after the request
//! cannot be accepted.

mod common;

use std::time::Duration;

use common::*;
use tonic::Code;
use twotier_proto::customer as pb;
use twotier_proto::partnership as ppb;
use twotier_testkit::{ChaosProxy, System, assert_error, flows, wait_until};

const DOMAIN: &str = "adatum.onmicrosoft.com";

/// Waits until reviewing a new customer for Fabrikam is refused with
/// `reason`: the partner projection has seen `what` (a review changes
/// nothing, unlike an acceptance).
async fn review_refused(h: &Harness, reason: &str, what: &str) {
    wait_until(what, Duration::from_secs(30), || {
        let mut client = h.customers(&provider_admin(PROVIDER));
        async move {
            let mut review = create(PROVIDER, new_customer("Probe", "probe", RESELLER));
            review.validate_only = true;
            client.create_customer(review).await.is_err_and(|status| {
                twotier_platform::upstream::reason_of(&status).as_deref() == Some(reason)
            })
        }
    })
    .await;
}

/// The operator lets Fabrikam's MPA lapse, and the customer service knows.
async fn lapse(h: &Harness) {
    set_mpa(h, false).await;
    review_refused(
        h,
        "PARTNER_MPA_NOT_ACTIVE",
        "the lapse reaches the customer service",
    )
    .await;
}

/// Fabrikam's MPA restored, but its partnership removed, and the customer
/// service knows.
async fn restore_and_remove(h: &Harness) {
    set_mpa(h, true).await;
    h.remove_partnership(PROVIDER, RESELLER).await;
    review_refused(
        h,
        "RESELLER_NOT_PARTNER",
        "the removal reaches the customer service",
    )
    .await;
}

#[tokio::test]
async fn r22_r24_a_reseller_no_longer_partnered_or_eligible_cannot_be_accepted() {
    let h = start().await;
    let adatum = partnered_with_customer(&h).await;
    let contoso = h.customer(PROVIDER, "contosocust", "").await;
    let mut provider = h.customers(&provider_admin(PROVIDER));
    let lapsing = provider
        .request_reseller_relationship(relationship(&contoso.name, RESELLER))
        .await
        .expect("request")
        .into_inner();
    let removed = provider
        .request_reseller_relationship(relationship(&adatum.name, RESELLER))
        .await
        .expect("request")
        .into_inner();

    // The operator lets Fabrikam's MPA lapse: R3 fails at acceptance.
    lapse(&h).await;
    let mut admin = h.customers(&customer_admin("contosocust.onmicrosoft.com"));
    assert_error(
        admin
            .accept_reseller_relationship(accept(&token_of(&lapsing)))
            .await,
        Code::FailedPrecondition,
        "PARTNER_MPA_NOT_ACTIVE",
    );

    // Restored, but the partnership removed: not a partner any more.
    restore_and_remove(&h).await;
    assert_error(
        h.customers(&customer_admin(DOMAIN))
            .accept_reseller_relationship(accept(&token_of(&removed)))
            .await,
        Code::FailedPrecondition,
        "RESELLER_NOT_PARTNER",
    );
    // Nothing was delegated.
    let read = provider
        .get_customer(pb::GetCustomerRequest {
            name: adatum.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.indirect_reseller_partner_id, "");
    assert_eq!(read.etag, adatum.etag);
}

#[tokio::test]
async fn r24_create_customer_and_r22_report_a_failing_reseller_as_verify_partner_id_does() {
    let h = start().await;
    let partnership = h.channel("partnership");
    flows::onboard_kind(
        partnership.clone(),
        "7000001",
        "globex",
        "Globex",
        "en",
        ppb::AccountKind::Global,
        true,
    )
    .await;
    flows::onboard(partnership, "7000002", "lapsed", "Lapsed", "en", false).await;
    let adatum = h.customer(PROVIDER, "adatum", "").await;
    let mut verify = h.resellers(&provider_admin(PROVIDER));
    let mut customers = h.customers(&provider_admin(PROVIDER));
    for (partner_id, code, reason) in [
        ("12", Code::InvalidArgument, "PARTNER_ID_MALFORMED"),
        ("9999999", Code::NotFound, "PARTNER_ID_NOT_FOUND"),
        (
            "7000001",
            Code::FailedPrecondition,
            "PARTNER_ID_NOT_LOCATION_ACCOUNT",
        ),
        (
            "7000002",
            Code::FailedPrecondition,
            "PARTNER_MPA_NOT_ACTIVE",
        ),
    ] {
        assert_error(
            verify
                .verify_partner_id(ppb::VerifyPartnerIdRequest {
                    partner_id: partner_id.into(),
                })
                .await,
            code,
            reason,
        );
        let prefix = format!("c{partner_id}");
        let mut review = create(PROVIDER, new_customer("Review", &prefix, partner_id));
        review.validate_only = true;
        assert_error(customers.create_customer(review).await, code, reason);
        assert_error(
            customers
                .create_customer(create(PROVIDER, new_customer("New", &prefix, partner_id)))
                .await,
            code,
            reason,
        );
        assert_error(
            customers
                .request_reseller_relationship(relationship(&adatum.name, partner_id))
                .await,
            code,
            reason,
        );
    }
    // Eligible but not a partner of this provider.
    h.onboard(RESELLER, RESELLER_TENANT, "Fabrikam").await;
    assert_error(
        customers
            .request_reseller_relationship(relationship(&adatum.name, RESELLER))
            .await,
        Code::FailedPrecondition,
        "RESELLER_NOT_PARTNER",
    );
}

/// The operator sets Fabrikam's MPA to `active`.
async fn set_mpa(h: &Harness, active: bool) {
    flows::update_reseller(
        h.channel("partnership"),
        RESELLER,
        "mpa_active",
        |reseller| {
            reseller.mpa_active = active;
        },
    )
    .await;
}

#[tokio::test]
async fn r24_a_lapse_or_removal_acknowledged_a_moment_ago_refuses_the_very_next_choice() {
    // The customer service follows the partnership log over a slow link, so
    // its partner projection learns of each change a good while after the
    // operator's call returned: a "yes" from it alone would be stale.
    let mut system = System::start(&["partnership"], &[]).await;
    let link = ChaosProxy::start(system.server("partnership").addr).await;
    let through_link = format!("http://{}", link.addr);
    system
        .add(
            "customer",
            &[("TWOTIER_PARTNERSHIP_ENDPOINT", &through_link)],
        )
        .await;
    let h = Harness { system };
    let adatum = partnered_with_customer(&h).await;
    let mut customers = h.customers(&provider_admin(PROVIDER));
    let mut review = create(PROVIDER, new_customer("New", "partnered", RESELLER));
    review.validate_only = true;
    customers
        .create_customer(review.clone())
        .await
        .expect("the projection knows the partnership");
    link.lag(Duration::from_millis(300));
    for round in 0..2 {
        set_mpa(&h, false).await;
        let prefix = format!("lapsed{round}");
        assert_error(
            customers
                .create_customer(create(PROVIDER, new_customer("New", &prefix, RESELLER)))
                .await,
            Code::FailedPrecondition,
            "PARTNER_MPA_NOT_ACTIVE",
        );
        assert_error(
            customers
                .request_reseller_relationship(relationship(&adatum.name, RESELLER))
                .await,
            Code::FailedPrecondition,
            "PARTNER_MPA_NOT_ACTIVE",
        );
        set_mpa(&h, true).await;
        customers
            .create_customer(review.clone())
            .await
            .expect("eligible again at once");
    }
    h.remove_partnership(PROVIDER, RESELLER).await;
    assert_error(
        customers
            .create_customer(create(PROVIDER, new_customer("New", "removed", RESELLER)))
            .await,
        Code::FailedPrecondition,
        "RESELLER_NOT_PARTNER",
    );
    assert_error(
        customers
            .request_reseller_relationship(relationship(&adatum.name, RESELLER))
            .await,
        Code::FailedPrecondition,
        "RESELLER_NOT_PARTNER",
    );
    // Nothing was created for Fabrikam or delegated to it.
    let listed = customers
        .list_customers(pb::ListCustomersRequest {
            parent: format!("providers/{PROVIDER}"),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.customers.len(), 1, "{listed:?}");
    assert_eq!(listed.customers[0].indirect_reseller_partner_id, "");
}

/// A second link to the reseller the customer is delegated to already
/// changes nothing when accepted, yet still names that reseller: one no
/// longer eligible, or no longer a partner, is refused as at a first
/// acceptance, and the link stays pending.
#[tokio::test]
async fn r22_r24_a_second_link_to_the_delegated_reseller_is_refused_once_it_lapsed_or_was_removed()
{
    let h = start().await;
    let adatum = partnered_with_customer(&h).await;
    let mut provider = h.customers(&provider_admin(PROVIDER));
    let request = || {
        let mut provider = provider.clone();
        let name = adatum.name.clone();
        async move {
            provider
                .request_reseller_relationship(relationship(&name, RESELLER))
                .await
                .expect("request")
                .into_inner()
        }
    };
    let first = request().await;
    let second = request().await;
    let mut admin = h.customers(&customer_admin(DOMAIN));
    admin
        .accept_reseller_relationship(accept(&token_of(&first)))
        .await
        .expect("the first delegates the customer");

    lapse(&h).await;
    assert_error(
        admin
            .accept_reseller_relationship(accept(&token_of(&second)))
            .await,
        Code::FailedPrecondition,
        "PARTNER_MPA_NOT_ACTIVE",
    );
    restore_and_remove(&h).await;
    assert_error(
        admin
            .accept_reseller_relationship(accept(&token_of(&second)))
            .await,
        Code::FailedPrecondition,
        "RESELLER_NOT_PARTNER",
    );
    let still = provider
        .get_reseller_relationship_request(pb::GetResellerRelationshipRequestRequest {
            name: second.reseller_relationship_request.unwrap().name,
        })
        .await
        .expect("read the second")
        .into_inner();
    assert_eq!(
        still.state,
        pb::ResellerRelationshipRequestState::Pending as i32
    );
}
