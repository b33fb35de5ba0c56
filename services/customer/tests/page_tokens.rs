//! Page tokens through gRPC: authenticated, bound to their list, filter and
//! tenant, and honoured by every replica.

mod common;

use common::*;
use tonic::Code;
use twotier_customer::CustomerService;
use twotier_platform::paging::{self, PageTokens};
use twotier_proto::customer as pb;
use twotier_proto::partnership as ppb;
use twotier_proto::partnership::provider_listing_service_client::ProviderListingServiceClient;
use twotier_testkit::{Bearer, assert_error, violated_fields};

#[track_caller]
fn assert_refused<T: std::fmt::Debug>(result: Result<T, tonic::Status>) {
    let status = assert_error(result, Code::InvalidArgument, "INVALID_PAGE_TOKEN");
    assert_eq!(violated_fields(&status), vec!["page_token"]);
}

fn customers_of(provider: &str, page_token: &str) -> pb::ListCustomersRequest {
    pb::ListCustomersRequest {
        parent: format!("providers/{provider}"),
        page_size: 1,
        page_token: page_token.into(),
        ..Default::default()
    }
}

fn indirect_resellers_of(provider: &str, page_token: &str) -> ppb::ListIndirectResellersRequest {
    ppb::ListIndirectResellersRequest {
        parent: format!("providers/{provider}"),
        page_size: 1,
        page_token: page_token.into(),
        ..Default::default()
    }
}

/// The provider's customers: Adatum, Bellows, Contoso Retail.
async fn three_customers(h: &Harness) {
    let mut client = h.customers(&provider_admin(PROVIDER));
    for (company, prefix) in [
        ("Adatum", "adatum"),
        ("Bellows", "bellows"),
        ("Contoso Retail", "contosoretail"),
    ] {
        client
            .create_customer(create(PROVIDER, new_customer(company, prefix, "")))
            .await
            .expect("create customer");
    }
}

#[tokio::test]
async fn a_list_customers_token_is_refused_by_list_indirect_resellers_and_the_other_way_round() {
    let h = start().await;
    three_customers(&h).await;
    for (partner_id, tenant) in [("1000001", "alpha"), ("1000002", "bravo")] {
        h.onboard(partner_id, tenant, tenant).await;
        h.partner(PROVIDER, tenant).await;
    }
    let token = provider_admin(PROVIDER);
    let customers_token = h
        .customers(&token)
        .list_customers(customers_of(PROVIDER, ""))
        .await
        .unwrap()
        .into_inner()
        .next_page_token;
    let resellers_token = h
        .partnerships(&token)
        .list_indirect_resellers(indirect_resellers_of(PROVIDER, ""))
        .await
        .unwrap()
        .into_inner()
        .next_page_token;
    assert!(!customers_token.is_empty() && !resellers_token.is_empty());

    assert_refused(
        h.partnerships(&token)
            .list_indirect_resellers(indirect_resellers_of(PROVIDER, &customers_token))
            .await,
    );
    assert_refused(
        h.customers(&token)
            .list_customers(customers_of(PROVIDER, &resellers_token))
            .await,
    );
    // Each token still works where it came from.
    let more = h
        .partnerships(&token)
        .list_indirect_resellers(indirect_resellers_of(PROVIDER, &resellers_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(more.indirect_resellers[0].company_name, "bravo");
}

#[tokio::test]
async fn page_tokens_of_another_filter_or_key_and_altered_ones_are_refused_while_the_next_page_works_on_any_replica()
 {
    let h = start().await;
    three_customers(&h).await;
    let mut client = h.customers(&provider_admin(PROVIDER));
    let first = client
        .list_customers(customers_of(PROVIDER, ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.customers[0].company_name, "Adatum");
    let token = first.next_page_token;

    // Another filter.
    assert_refused(
        client
            .list_customers(pb::ListCustomersRequest {
                indirect_reseller_partner_id: RESELLER.into(),
                ..customers_of(PROVIDER, &token)
            })
            .await,
    );
    // Altered: a character of the key or of the MAC changed, the MAC
    // dropped, or a token minted with another key.
    let (body, mac) = token.rsplit_once('.').expect("a sealed token");
    let flip = |s: &str| {
        let mut chars: Vec<char> = s.chars().collect();
        chars[2] = if chars[2] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    let unsigned = paging::encode_token(
        &("zzz".to_string(), "x".to_string()),
        &paging::fingerprint(&[PROVIDER, ""]),
    );
    let altered = [
        format!("{}.{mac}", flip(body)),
        format!("{body}.{}", flip(mac)),
        body.to_owned(),
        unsigned.clone(),
        PageTokens::new([7; 32])
            .list::<pb::ListCustomersRequest>(PROVIDER)
            .seal(&unsigned),
    ];
    for bad in altered {
        assert_refused(client.list_customers(customers_of(PROVIDER, &bad)).await);
    }

    // The genuine token continues the list, here and on another replica
    // (same service secret, same database).
    let second = client
        .list_customers(customers_of(PROVIDER, &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.customers[0].company_name, "Bellows");
    let replica = twotier_testkit::start_service::<CustomerService>(
        h.db("customer"),
        &[(
            "TWOTIER_PARTNERSHIP_ENDPOINT",
            &h.server("partnership").endpoint(),
        )],
    )
    .await;
    let mut on_replica = pb::customer_service_client::CustomerServiceClient::with_interceptor(
        replica.channel(),
        Bearer::new(&provider_admin(PROVIDER)),
    );
    let again = on_replica
        .list_customers(customers_of(PROVIDER, &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.customers, second.customers);
    let third = on_replica
        .list_customers(customers_of(PROVIDER, &second.next_page_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(third.customers[0].company_name, "Contoso Retail");
}

#[tokio::test]
async fn a_page_token_of_one_tenant_is_refused_to_another_even_on_a_list_both_may_read() {
    let h = start().await;
    let listings = |token: &str| {
        ProviderListingServiceClient::with_interceptor(h.channel("partnership"), Bearer::new(token))
    };
    for provider in ["contoso", "fabrikam", "northwind"] {
        listings(&operator())
            .create_provider_listing(ppb::CreateProviderListingRequest {
                provider_id: provider.into(),
                provider_listing: Some(ppb::ProviderListing {
                    display_name: provider.into(),
                    markets: vec!["DE".into()],
                    contact_email: format!("partners@{provider}.example"),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .expect("listing");
    }
    let page = |page_token: &str| ppb::ListProviderListingsRequest {
        page_size: 1,
        page_token: page_token.into(),
        market: String::new(),
    };
    let token = listings(&provider_admin(PROVIDER))
        .list_provider_listings(page(""))
        .await
        .unwrap()
        .into_inner()
        .next_page_token;
    assert_refused(
        listings(&provider_admin(OTHER_PROVIDER))
            .list_provider_listings(page(&token))
            .await,
    );
    let next = listings(&provider_admin(PROVIDER))
        .list_provider_listings(page(&token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(next.provider_listings[0].display_name, "fabrikam");
}
