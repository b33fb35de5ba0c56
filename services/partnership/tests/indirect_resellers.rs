//! R8 (the provider's indirect resellers) through gRPC: listed by company
//! name, filtered, paged, and read one by one with the partnership's state.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::partnership as pb;
use twotier_testkit::assert_error;

#[tokio::test]
async fn provider_lists_filters_pages_and_reads_its_indirect_resellers() {
    let h = start().await;
    let companies = [
        ("1000001", "alpha", "Alpha Systems"),
        ("1000002", "bravo", "Bravo IT"),
        ("1000003", "charlie", "Charlie Cloud"),
        ("1000004", "delta", "Delta Cloud Services"),
    ];
    for (partner_id, tenant, company) in companies {
        h.onboard(partner_id, tenant, company).await;
        h.partner(PROVIDER, tenant).await;
    }
    let mut client = h.partnerships(&sales_agent(PROVIDER));
    let first = client
        .list_indirect_resellers(pb::ListIndirectResellersRequest {
            page_size: 3,
            ..list(PROVIDER)
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = first
        .indirect_resellers
        .iter()
        .map(|r| r.company_name.as_str())
        .collect();
    assert_eq!(names, vec!["Alpha Systems", "Bravo IT", "Charlie Cloud"]);
    let rest = client
        .list_indirect_resellers(pb::ListIndirectResellersRequest {
            page_size: 3,
            page_token: first.next_page_token.clone(),
            ..list(PROVIDER)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.indirect_resellers.len(), 1);
    assert!(rest.next_page_token.is_empty());

    let filtered = client
        .list_indirect_resellers(pb::ListIndirectResellersRequest {
            company_name_filter: "CLOUD".into(),
            ..list(PROVIDER)
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = filtered
        .indirect_resellers
        .iter()
        .map(|r| r.company_name.as_str())
        .collect();
    assert_eq!(names, vec!["Charlie Cloud", "Delta Cloud Services"]);
    assert_error(
        client
            .list_indirect_resellers(pb::ListIndirectResellersRequest {
                company_name_filter: "cloud".into(),
                page_token: first.next_page_token,
                ..list(PROVIDER)
            })
            .await,
        Code::InvalidArgument,
        "INVALID_PAGE_TOKEN",
    );

    let one = client
        .get_indirect_reseller(pb::GetIndirectResellerRequest {
            name: "providers/contoso/indirectResellers/1000002".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(one.company_name, "Bravo IT");
    assert_eq!(one.partnership_state, pb::PartnershipState::Active as i32);
    assert!(one.partnership_state_time.is_some(), "since when");
    assert_error(
        client
            .get_indirect_reseller(pb::GetIndirectResellerRequest {
                name: "providers/contoso/indirectResellers/9999999".into(),
            })
            .await,
        Code::NotFound,
        "INDIRECT_RESELLER_NOT_FOUND",
    );
}
