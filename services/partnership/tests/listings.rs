//! R1: the official list of indirect providers.

mod common;

use common::*;
use tonic::Code;
use twotier_platform::auth::Role;
use twotier_proto::partnership as pb;
use twotier_testkit::{assert_error, violated_fields};

fn listing(name: &str, markets: &[&str]) -> pb::ProviderListing {
    pb::ProviderListing {
        display_name: name.into(),
        markets: markets.iter().map(|m| (*m).to_owned()).collect(),
        regions: vec!["EMEA".into()],
        contact_email: "partners@contoso.example".into(),
        website_uri: "https://contoso.example".into(),
        preferred_language: "en".into(),
        ..Default::default()
    }
}

fn create(provider_id: &str, listing: pb::ProviderListing) -> pb::CreateProviderListingRequest {
    pb::CreateProviderListingRequest {
        provider_id: provider_id.into(),
        provider_listing: Some(listing),
        request_id: String::new(),
    }
}

#[tokio::test]
async fn operator_lists_providers_and_everyone_authenticated_reads_the_list() {
    let h = start().await;
    let created = h
        .listings(&operator())
        .create_provider_listing(create(
            PROVIDER,
            listing("Contoso Distribution", &["DE", "AT"]),
        ))
        .await
        .expect("operator creates")
        .into_inner();
    assert_eq!(created.name, "providerListings/contoso");
    assert!(!created.etag.is_empty());

    // Any authenticated user reads the list; a provider reads its own entry.
    for token in [
        reseller_admin(RESELLER_TENANT),
        twotier_testkit::token("bob", "contoso", &[Role::BillingAdmin]),
        provider_admin(PROVIDER),
    ] {
        let listed = h
            .listings(&token)
            .list_provider_listings(pb::ListProviderListingsRequest::default())
            .await
            .expect("list")
            .into_inner();
        assert_eq!(listed.provider_listings.len(), 1);
    }
    let own = h
        .listings(&provider_admin(PROVIDER))
        .get_provider_listing(pb::GetProviderListingRequest {
            name: "providerListings/contoso".into(),
        })
        .await
        .expect("own listing")
        .into_inner();
    assert_eq!(own.display_name, "Contoso Distribution");
    assert_eq!(own.markets, vec!["DE", "AT"]);
    assert_error(
        h.listings(&provider_admin(PROVIDER))
            .get_provider_listing(pb::GetProviderListingRequest {
                name: "providerListings/nobody".into(),
            })
            .await,
        Code::NotFound,
        "LISTING_NOT_FOUND",
    );
}

#[tokio::test]
async fn provider_changing_its_listing_is_told_to_ask_its_representative() {
    let h = start().await;
    let created = h
        .listings(&operator())
        .create_provider_listing(create(PROVIDER, listing("Contoso", &["DE"])))
        .await
        .unwrap()
        .into_inner();

    let status = assert_error(
        h.listings(&provider_admin(PROVIDER))
            .create_provider_listing(create("contoso-two", listing("Contoso 2", &["DE"])))
            .await,
        Code::PermissionDenied,
        "LISTING_CHANGE_REQUIRES_REPRESENTATIVE",
    );
    assert!(status.message().contains("representative"));
    let mut changed = created.clone();
    changed.display_name = "Contoso Global".into();
    let status = assert_error(
        h.listings(&sales_agent(PROVIDER))
            .update_provider_listing(pb::UpdateProviderListingRequest {
                provider_listing: Some(changed),
                update_mask: None,
            })
            .await,
        Code::PermissionDenied,
        "LISTING_CHANGE_REQUIRES_REPRESENTATIVE",
    );
    assert!(status.message().contains("representative"));
    for role in [Role::BillingAdmin, Role::HelpdeskAgent] {
        let status = assert_error(
            h.listings(&twotier_testkit::token("bob", PROVIDER, &[role]))
                .create_provider_listing(create("other", listing("Other", &["DE"])))
                .await,
            Code::PermissionDenied,
            "LISTING_CHANGE_REQUIRES_REPRESENTATIVE",
        );
        assert!(status.message().contains("representative"));
    }
    assert_error(
        h.listings(&reseller_admin(RESELLER_TENANT))
            .create_provider_listing(create("other", listing("Other", &["DE"])))
            .await,
        Code::PermissionDenied,
        "ROLE_NOT_ALLOWED",
    );
    let unchanged = h
        .listings(&operator())
        .get_provider_listing(pb::GetProviderListingRequest {
            name: created.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unchanged.display_name, "Contoso");
    let all = h
        .listings(&operator())
        .list_provider_listings(pb::ListProviderListingsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.provider_listings.len(), 1, "nothing was created");
}

#[tokio::test]
async fn operator_updates_with_current_etag_and_stale_etag_is_aborted() {
    let h = start().await;
    let created = h
        .listings(&operator())
        .create_provider_listing(create(PROVIDER, listing("Contoso", &["DE"])))
        .await
        .unwrap()
        .into_inner();
    let mut changed = created.clone();
    changed.display_name = "Contoso Europe".into();
    changed.markets = vec!["DE".into(), "FR".into()];
    let updated = h
        .listings(&operator())
        .update_provider_listing(pb::UpdateProviderListingRequest {
            provider_listing: Some(changed.clone()),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["display_name".into()],
            }),
        })
        .await
        .expect("update")
        .into_inner();
    assert_eq!(updated.display_name, "Contoso Europe");
    assert_eq!(updated.markets, vec!["DE"], "only masked fields change");
    assert_ne!(updated.etag, created.etag);

    // The old etag is stale now.
    assert_error(
        h.listings(&operator())
            .update_provider_listing(pb::UpdateProviderListingRequest {
                provider_listing: Some(changed),
                update_mask: None,
            })
            .await,
        Code::Aborted,
        "ETAG_MISMATCH",
    );
    let mut bad_mask = updated.clone();
    bad_mask.display_name = "x".into();
    let status = assert_error(
        h.listings(&operator())
            .update_provider_listing(pb::UpdateProviderListingRequest {
                provider_listing: Some(bad_mask),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["create_time".into()],
                }),
            })
            .await,
        Code::InvalidArgument,
        "INVALID_UPDATE_MASK",
    );
    assert_eq!(violated_fields(&status), vec!["update_mask"]);
}

#[tokio::test]
async fn invalid_listing_reports_every_offending_field_and_creates_nothing() {
    let h = start().await;
    let mut bad = listing("", &["Germany"]);
    bad.contact_email = "not-an-email".into();
    bad.website_uri = "ftp://x".into();
    let status = assert_error(
        h.listings(&operator())
            .create_provider_listing(create("Bad Id", bad))
            .await,
        Code::InvalidArgument,
        "INVALID_PROVIDER_LISTING",
    );
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "provider_id",
            "provider_listing.contact_email",
            "provider_listing.display_name",
            "provider_listing.markets",
            "provider_listing.website_uri",
        ]
    );
    let all = h
        .listings(&operator())
        .list_provider_listings(pb::ListProviderListingsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(all.provider_listings.is_empty());
}

#[tokio::test]
async fn listings_page_by_name_filter_by_market_and_refuse_foreign_tokens() {
    let h = start().await;
    for (id, name, market) in [
        ("p-a", "Alpha", "DE"),
        ("p-b", "Bravo", "FR"),
        ("p-c", "Charlie", "DE"),
        ("p-d", "Delta", "DE"),
    ] {
        h.listings(&operator())
            .create_provider_listing(create(id, listing(name, &[market])))
            .await
            .unwrap();
    }
    let mut client = h.listings(&provider_admin(PROVIDER));
    let first = client
        .list_provider_listings(pb::ListProviderListingsRequest {
            page_size: 2,
            market: "DE".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = first
        .provider_listings
        .iter()
        .map(|l| l.display_name.as_str())
        .collect();
    assert_eq!(names, vec!["Alpha", "Charlie"]);
    let second = client
        .list_provider_listings(pb::ListProviderListingsRequest {
            page_size: 2,
            market: "DE".into(),
            page_token: first.next_page_token.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = second
        .provider_listings
        .iter()
        .map(|l| l.display_name.as_str())
        .collect();
    assert_eq!(names, vec!["Delta"]);
    assert!(second.next_page_token.is_empty());
    assert_error(
        client
            .list_provider_listings(pb::ListProviderListingsRequest {
                page_size: 2,
                market: "FR".into(),
                page_token: first.next_page_token,
            })
            .await,
        Code::InvalidArgument,
        "INVALID_PAGE_TOKEN",
    );
}

#[tokio::test]
async fn retried_create_with_the_same_request_id_returns_the_first_listing() {
    let h = start().await;
    let mut request = create(PROVIDER, listing("Contoso", &["DE"]));
    request.request_id = "create-contoso-1".into();
    let first = h
        .listings(&operator())
        .create_provider_listing(request.clone())
        .await
        .unwrap()
        .into_inner();
    let again = h
        .listings(&operator())
        .create_provider_listing(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, again);
    request.provider_listing.as_mut().unwrap().display_name = "Different".into();
    let status = assert_error(
        h.listings(&operator())
            .create_provider_listing(request)
            .await,
        Code::InvalidArgument,
        "REQUEST_ID_REUSED",
    );
    assert_eq!(violated_fields(&status), vec!["request_id"]);
    assert_error(
        h.listings(&operator())
            .create_provider_listing(create(PROVIDER, listing("Contoso", &["DE"])))
            .await,
        Code::AlreadyExists,
        "LISTING_ALREADY_EXISTS",
    );
}

/// Concurrent creates of one provider's listing: one wins, every other
/// caller is told it exists (not an internal error).
#[tokio::test]
async fn eight_concurrent_creates_of_one_listing_create_it_once() {
    let h = start().await;
    let attempts: Vec<_> = (0..8)
        .map(|i| {
            let mut client = h.listings(&operator());
            let request = create(PROVIDER, listing(&format!("Contoso {i}"), &["DE"]));
            tokio::spawn(async move { client.create_provider_listing(request).await })
        })
        .collect();
    let mut created = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => created += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
                assert_eq!(
                    twotier_platform::upstream::reason_of(&status).as_deref(),
                    Some("LISTING_ALREADY_EXISTS")
                );
            }
        }
    }
    assert_eq!(created, 1);
}

// R1 with the input bar: a listing's website may hold no control or
// invisible character (PostgreSQL stores no NUL; an ESC would drive a
// terminal that shows it), and a market is named once.
#[tokio::test]
async fn a_website_with_control_or_invisible_characters_or_a_market_named_twice_is_refused() {
    let h = start().await;
    for website in [
        "https://contoso.example/\u{0}",
        "https://contoso.example/\u{1b}[2J",
        "https://conto\u{200B}so.example/",
    ] {
        let status = assert_error(
            h.listings(&operator())
                .create_provider_listing(create(
                    PROVIDER,
                    pb::ProviderListing {
                        website_uri: website.into(),
                        ..listing("Contoso", &["DE"])
                    },
                ))
                .await,
            Code::InvalidArgument,
            "INVALID_PROVIDER_LISTING",
        );
        assert_eq!(violated_fields(&status), ["provider_listing.website_uri"]);
    }
    let status = assert_error(
        h.listings(&operator())
            .create_provider_listing(create(PROVIDER, listing("Contoso", &["DE", "AT", "DE"])))
            .await,
        Code::InvalidArgument,
        "INVALID_PROVIDER_LISTING",
    );
    assert_eq!(violated_fields(&status), ["provider_listing.markets"]);
    assert_error(
        h.listings(&provider_admin(PROVIDER))
            .get_provider_listing(pb::GetProviderListingRequest {
                name: format!("providerListings/{PROVIDER}"),
            })
            .await,
        Code::NotFound,
        "LISTING_NOT_FOUND",
    );
}

// R1, R29: what the operator does to a provider's listing is in that
// provider's audit trail.
#[tokio::test]
async fn the_operators_change_to_a_listing_is_in_its_providers_trail() {
    let h = start().await;
    h.listings(&operator())
        .create_provider_listing(create(PROVIDER, listing("Contoso", &["DE"])))
        .await
        .expect("operator creates");
    let name = format!("providerListings/{PROVIDER}");
    for (provider, seen) in [(PROVIDER, 1), (OTHER_PROVIDER, 0)] {
        let records = twotier_testkit::audit_records(
            h.server.channel(),
            &provider_admin(provider),
            &name,
            "",
        )
        .await;
        assert_eq!(records.len(), seen, "{provider}: {records:#?}");
    }
}
