//! R14 through the subscription service's gRPC interface: the catalog's
//! offers with their licence limits and terms, paging, unknown offers, and who
//! may read it.

mod common;

use common::*;
use tonic::Code;
use twotier_platform::auth::Role;
use twotier_proto::subscription as pb;
use twotier_testkit::assert_error;

#[tokio::test]
async fn catalog_has_realistic_offers_with_limits_terms_and_cycles() {
    let h = start().await;
    let mut client = h.subscriptions(&provider_admin(PROVIDER));
    let offers = client
        .list_offers(pb::ListOffersRequest::default())
        .await
        .unwrap()
        .into_inner()
        .offers;
    assert!(offers.len() >= 8);
    let names: Vec<_> = offers.iter().map(|o| o.display_name.as_str()).collect();
    for expected in [
        "Microsoft 365 Business Basic",
        "Microsoft 365 Business Premium",
        "Microsoft 365 E5",
        "Azure plan",
        "Microsoft Teams Essentials",
    ] {
        assert!(names.contains(&expected), "{expected} is in the catalog");
    }
    let basic = client
        .get_offer(pb::GetOfferRequest {
            name: "offers/m365-business-basic".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((basic.min_licenses, basic.max_licenses), (1, 300));
    assert_eq!(
        basic.terms,
        vec![pb::Term::Monthly as i32, pb::Term::Annual as i32]
    );
    let paged = client
        .list_offers(pb::ListOffersRequest {
            page_size: 3,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(paged.offers.len(), 3);
    assert!(!paged.next_page_token.is_empty());
    assert_error(
        client
            .get_offer(pb::GetOfferRequest {
                name: "offers/nope".into(),
            })
            .await,
        Code::NotFound,
        "OFFER_NOT_FOUND",
    );
    let billing = twotier_testkit::token("bob", PROVIDER, &[Role::BillingAdmin]);
    assert_error(
        h.subscriptions(&billing)
            .list_offers(pb::ListOffersRequest::default())
            .await,
        Code::PermissionDenied,
        "ROLE_NOT_ALLOWED",
    );
}
