//! R25 on the partnership service: an update of a provider listing or an
//! onboarded reseller with the values it has already succeeds, keeps the
//! etag and logs no event (so no projection changes and no email goes
//! out); a stale etag is still refused.

mod common;

use common::*;
use tonic::Code;
use twotier_proto::partnership as pb;
use twotier_testkit::assert_error;

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

/// R25
#[tokio::test]
async fn updates_with_the_current_values_keep_the_etag_and_log_nothing() {
    let h = start().await;
    let listed = h
        .listings(&operator())
        .create_provider_listing(pb::CreateProviderListingRequest {
            provider_id: PROVIDER.into(),
            provider_listing: Some(pb::ProviderListing {
                display_name: "Contoso Distribution".into(),
                markets: vec!["DE".into()],
                contact_email: "partners@contoso.example".into(),
                preferred_language: "en".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("listing")
        .into_inner();
    let onboarded = h
        .onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    // ProviderListingChanged, ResellerOnboarded.
    assert_eq!(h.events(2).await.len(), 2);

    let same_listing = h
        .listings(&operator())
        .update_provider_listing(pb::UpdateProviderListingRequest {
            provider_listing: Some(listed.clone()),
            update_mask: mask(&["display_name", "markets", "contact_email"]),
        })
        .await
        .expect("the listing as it is")
        .into_inner();
    assert_eq!(same_listing, listed, "nothing changed, not even the etag");
    let same_reseller = h
        .resellers(&operator())
        .update_reseller(pb::UpdateResellerRequest {
            reseller: Some(onboarded.clone()),
            update_mask: None,
        })
        .await
        .expect("the reseller as it is")
        .into_inner();
    assert_eq!(same_reseller, onboarded);
    let mut stale = onboarded.clone();
    stale.etag = "W/\"0\"".into();
    assert_error(
        h.resellers(&operator())
            .update_reseller(pb::UpdateResellerRequest {
                reseller: Some(stale),
                update_mask: None,
            })
            .await,
        Code::Aborted,
        "ETAG_MISMATCH",
    );

    // One real change later, the log holds it and nothing of the no-ops.
    let mut renamed = onboarded.clone();
    renamed.company_name = "Fabrikam GmbH".into();
    let updated = h
        .resellers(&operator())
        .update_reseller(pb::UpdateResellerRequest {
            reseller: Some(renamed),
            update_mask: mask(&["company_name"]),
        })
        .await
        .expect("a real change")
        .into_inner();
    assert_ne!(updated.etag, onboarded.etag);
    let types: Vec<String> = h
        .events(3)
        .await
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        types,
        [
            "twotier.partnership.v1.ProviderListingChanged",
            "twotier.partnership.v1.ResellerOnboarded",
            "twotier.partnership.v1.ResellerUpdated",
        ]
    );
}
