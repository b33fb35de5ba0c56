//! Input hygiene through gRPC: single-line fields refuse line breaks and
//! change nothing, and text filters match `%` and `_` literally.

mod common;

use common::*;
use tonic::Code;
use twotier_platform::config::{LogFormat, TelemetrySettings};
use twotier_proto::partnership as pb;
use twotier_testkit::{assert_error, violated_fields};

/// Values that would start a new line in an email header, a CSV export or
/// a log record.
const LINE_BREAKS: [&str; 4] = [
    "Contoso\r\nBcc: victim@example.com",
    "Contoso\nDistribution",
    "Contoso\rDistribution",
    "Contoso\u{2028}Distribution",
];

fn listing() -> pb::ProviderListing {
    pb::ProviderListing {
        display_name: "Contoso Distribution".into(),
        markets: vec!["DE".into()],
        regions: vec!["EMEA".into()],
        contact_email: "partners@contoso.example".into(),
        contact_phone: "+49 30 1234".into(),
        preferred_language: "en".into(),
        ..Default::default()
    }
}

type ListingSpoiler = (&'static str, fn(&mut pb::ProviderListing, &str));

const LISTING_LINES: [ListingSpoiler; 3] = [
    ("display_name", |l, v| l.display_name = v.into()),
    ("contact_phone", |l, v| l.contact_phone = v.into()),
    ("regions", |l, v| l.regions = vec!["EMEA".into(), v.into()]),
];

#[tokio::test]
async fn line_breaks_in_listing_names_phones_and_regions_are_refused_and_change_nothing() {
    let h = start().await;
    let mut client = h.listings(&operator());
    let kept = client
        .create_provider_listing(pb::CreateProviderListingRequest {
            provider_id: PROVIDER.into(),
            provider_listing: Some(listing()),
            request_id: String::new(),
        })
        .await
        .expect("a clean listing is created")
        .into_inner();
    for (field, spoil) in LISTING_LINES {
        for value in LINE_BREAKS {
            let mut spoiled = listing();
            spoil(&mut spoiled, value);
            let status = assert_error(
                client
                    .create_provider_listing(pb::CreateProviderListingRequest {
                        provider_id: OTHER_PROVIDER.into(),
                        provider_listing: Some(spoiled.clone()),
                        request_id: String::new(),
                    })
                    .await,
                Code::InvalidArgument,
                "INVALID_PROVIDER_LISTING",
            );
            assert_eq!(
                violated_fields(&status),
                vec![format!("provider_listing.{field}")]
            );
            spoiled.name = kept.name.clone();
            spoiled.etag = kept.etag.clone();
            let status = assert_error(
                client
                    .update_provider_listing(pb::UpdateProviderListingRequest {
                        provider_listing: Some(spoiled),
                        update_mask: Some(prost_types::FieldMask {
                            paths: vec![field.into()],
                        }),
                    })
                    .await,
                Code::InvalidArgument,
                "INVALID_PROVIDER_LISTING",
            );
            assert_eq!(
                violated_fields(&status),
                vec![format!("provider_listing.{field}")]
            );
        }
    }
    let listed = client
        .list_provider_listings(pb::ListProviderListingsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .provider_listings;
    assert_eq!(listed, vec![kept], "nothing created, nothing changed");
}

#[tokio::test]
async fn line_breaks_in_reseller_names_subjects_and_filters_are_refused_and_change_nothing() {
    let h = start().await;
    let kept = h
        .onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    let invitation = h.invite(PROVIDER, "sales@fabrikam.example").await;
    let invited = invitation.invitation.clone().unwrap();
    let mut resellers = h.resellers(&operator());
    let mut partnerships = h.partnerships(&provider_admin(PROVIDER));
    for value in LINE_BREAKS {
        let status = assert_error(
            resellers
                .onboard_reseller(pb::OnboardResellerRequest {
                    reseller: Some(pb::Reseller {
                        company_name: value.into(),
                        partner_id: "7654321".into(),
                        tenant_id: "adatum".into(),
                        ..kept.clone()
                    }),
                    request_id: String::new(),
                })
                .await,
            Code::InvalidArgument,
            "INVALID_RESELLER",
        );
        assert_eq!(violated_fields(&status), vec!["reseller.company_name"]);
        let status = assert_error(
            resellers
                .update_reseller(pb::UpdateResellerRequest {
                    reseller: Some(pb::Reseller {
                        company_name: value.into(),
                        ..kept.clone()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["company_name".into()],
                    }),
                })
                .await,
            Code::InvalidArgument,
            "INVALID_RESELLER",
        );
        assert_eq!(violated_fields(&status), vec!["reseller.company_name"]);
        let status = assert_error(
            partnerships
                .send_invitation_email(pb::SendInvitationEmailRequest {
                    invitation: invited.name.clone(),
                    subject: value.into(),
                    body: format!("Please open {}", invitation.invitation_link),
                    request_id: String::new(),
                })
                .await,
            Code::InvalidArgument,
            "INVALID_INVITATION_EMAIL",
        );
        assert_eq!(violated_fields(&status), vec!["subject"]);
        let status = assert_error(
            partnerships
                .list_indirect_resellers(pb::ListIndirectResellersRequest {
                    parent: format!("providers/{PROVIDER}"),
                    company_name_filter: value.into(),
                    ..Default::default()
                })
                .await,
            Code::InvalidArgument,
            "INVALID_FILTER",
        );
        assert_eq!(violated_fields(&status), vec!["company_name_filter"]);
    }
    let reseller = resellers
        .get_reseller(pb::GetResellerRequest {
            name: kept.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reseller, kept, "the reseller is unchanged");
    assert!(
        resellers
            .get_reseller(pb::GetResellerRequest {
                name: "resellers/7654321".into(),
            })
            .await
            .is_err(),
        "nothing was onboarded"
    );
    let unchanged = partnerships
        .get_invitation(pb::GetInvitationRequest {
            name: invited.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unchanged, invited, "the invitation is unchanged");
}

#[tokio::test]
async fn company_name_filters_match_percent_underscore_and_backslash_literally() {
    let h = start().await;
    let companies = [
        ("1000001", "hundred", "100% Cloud"),
        ("1000002", "thousand", "1000 Clouds"),
        ("1000003", "cloudone", "Cloud_One"),
        ("1000004", "cloudxone", "CloudXOne"),
        ("1000005", "backslash", "Back\\Slash IT"),
    ];
    for (partner_id, tenant, company) in companies {
        h.onboard(partner_id, tenant, company).await;
        h.partner(PROVIDER, tenant).await;
    }
    let mut client = h.partnerships(&sales_agent(PROVIDER));
    for (filter, expected) in [
        ("%", vec!["100% Cloud"]),
        ("0%", vec!["100% Cloud"]),
        ("_", vec!["Cloud_One"]),
        ("D_O", vec!["Cloud_One"]),
        ("\\", vec!["Back\\Slash IT"]),
        ("k\\s", vec!["Back\\Slash IT"]),
        ("%%", vec![]),
        (
            "cloud",
            vec!["100% Cloud", "1000 Clouds", "Cloud_One", "CloudXOne"],
        ),
    ] {
        let listed = client
            .list_indirect_resellers(pb::ListIndirectResellersRequest {
                parent: format!("providers/{PROVIDER}"),
                company_name_filter: filter.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let names: Vec<_> = listed
            .indirect_resellers
            .iter()
            .map(|r| r.company_name.as_str())
            .collect();
        assert_eq!(names, expected, "filter {filter:?}");
    }
}

#[tokio::test]
async fn repeated_request_fields_beyond_their_documented_caps_are_refused_naming_the_field() {
    let h = start().await;
    let mut client = h.listings(&operator());
    let create = |listing: pb::ProviderListing| pb::CreateProviderListingRequest {
        provider_id: PROVIDER.into(),
        provider_listing: Some(listing),
        request_id: String::new(),
    };
    let status = assert_error(
        client
            .create_provider_listing(create(pb::ProviderListing {
                markets: vec!["DE".into(); 251],
                ..listing()
            }))
            .await,
        Code::InvalidArgument,
        "INVALID_PROVIDER_LISTING",
    );
    assert_eq!(violated_fields(&status), vec!["provider_listing.markets"]);
    let status = assert_error(
        client
            .create_provider_listing(create(pb::ProviderListing {
                regions: vec!["EMEA".into(); 51],
                ..listing()
            }))
            .await,
        Code::InvalidArgument,
        "INVALID_PROVIDER_LISTING",
    );
    assert_eq!(violated_fields(&status), vec!["provider_listing.regions"]);
    let kept = client
        .create_provider_listing(create(pb::ProviderListing {
            markets: (0..250u8)
                .map(|i| format!("{}{}", char::from(b'A' + i / 26), char::from(b'A' + i % 26)))
                .collect(),
            regions: vec!["EMEA".into(); 50],
            ..listing()
        }))
        .await
        .expect("at the caps")
        .into_inner();
    let status = assert_error(
        client
            .update_provider_listing(pb::UpdateProviderListingRequest {
                provider_listing: Some(kept.clone()),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["display_name".into(); 8],
                }),
            })
            .await,
        Code::InvalidArgument,
        "INVALID_UPDATE_MASK",
    );
    assert_eq!(violated_fields(&status), vec!["update_mask"]);
    let reseller = h
        .onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, "Fabrikam")
        .await;
    let status = assert_error(
        h.resellers(&operator())
            .update_reseller(pb::UpdateResellerRequest {
                reseller: Some(reseller),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["company_name".into(); 40_000],
                }),
            })
            .await,
        Code::InvalidArgument,
        "INVALID_UPDATE_MASK",
    );
    assert_eq!(violated_fields(&status), vec!["update_mask"]);
}

#[tokio::test]
async fn subscribe_refuses_40000_event_types_and_malformed_ones_but_takes_100() {
    use twotier_proto::events::SubscribeRequest;
    use twotier_proto::events::event_log_service_client::EventLogServiceClient;
    let h = start().await;
    let mut client = EventLogServiceClient::with_interceptor(
        h.server.channel(),
        twotier_testkit::Bearer::new(&twotier_testkit::service_token("test")),
    );
    let subscribe = |event_types: Vec<String>| SubscribeRequest {
        after_position: 0,
        event_types,
    };
    let many = vec!["twotier.partnership.v1.PartnershipAccepted".to_owned(); 40_000];
    let status = assert_error(
        client.subscribe(subscribe(many)).await,
        Code::InvalidArgument,
        "INVALID_EVENT_TYPES",
    );
    assert_eq!(violated_fields(&status), vec!["event_types"]);
    let status = assert_error(
        client
            .subscribe(subscribe(vec![
                "twotier.partnership.v1.PartnershipAccepted".into(),
                "twotier.partnership.v1.PartnershipAccepted\r\nx".into(),
                String::new(),
            ]))
            .await,
        Code::InvalidArgument,
        "INVALID_EVENT_TYPES",
    );
    assert_eq!(
        violated_fields(&status),
        vec!["event_types[1]", "event_types[2]"]
    );
    client
        .subscribe(subscribe(vec![
            "twotier.partnership.v1.PartnershipAccepted"
                .to_owned();
            100
        ]))
        .await
        .expect("100 event types are taken");
}

#[tokio::test]
async fn a_reseller_or_listing_named_with_spaces_alone_is_refused_as_blank_and_changes_nothing() {
    let h = start().await;
    let status = assert_error(
        h.resellers(&operator())
            .onboard_reseller(pb::OnboardResellerRequest {
                reseller: Some(pb::Reseller {
                    partner_id: "4567890".into(),
                    tenant_id: "fabrikam".into(),
                    company_name: "   ".into(),
                    contact_email: "admin@fabrikam.example".into(),
                    country_code: "DE".into(),
                    preferred_language: "en".into(),
                    account_kind: pb::AccountKind::Location.into(),
                    mpa_active: true,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "INVALID_RESELLER",
    );
    assert_eq!(violated_fields(&status), vec!["reseller.company_name"]);
    assert!(status.message().contains("must not be blank"), "{status:?}");
    assert_error(
        h.resellers(&operator())
            .get_reseller(pb::GetResellerRequest {
                name: "resellers/4567890".into(),
            })
            .await,
        Code::NotFound,
        "RESELLER_NOT_FOUND",
    );

    let mut blank = listing();
    blank.display_name = "\u{a0} ".into();
    let status = assert_error(
        h.listings(&operator())
            .create_provider_listing(pb::CreateProviderListingRequest {
                provider_id: PROVIDER.into(),
                provider_listing: Some(blank),
                request_id: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "INVALID_PROVIDER_LISTING",
    );
    assert_eq!(
        violated_fields(&status),
        vec!["provider_listing.display_name"]
    );
}

#[tokio::test]
async fn names_that_grow_when_lower_cased_are_partnered_listed_and_filtered() {
    let h = start().await;
    // 200 characters, the most a company name may have, each of which is
    // two characters lower-cased: its sort key must still fit its column.
    let company = "İ".repeat(200);
    h.onboard(RESELLER_PARTNER_ID, RESELLER_TENANT, &company)
        .await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let listed = h
        .partnerships(&sales_agent(PROVIDER))
        .list_indirect_resellers(pb::ListIndirectResellersRequest {
            parent: format!("providers/{PROVIDER}"),
            company_name_filter: "İ".into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.indirect_resellers.len(), 1);
    assert_eq!(listed.indirect_resellers[0].company_name, company);
}

// A caller's `tracestate` may carry up to 32 members, more than an event
// row keeps: the command still succeeds, in the caller's trace, with the
// header cut as W3C Trace Context says.
#[tokio::test]
async fn a_callers_tracestate_longer_than_an_event_keeps_is_cut_and_the_command_succeeds() {
    // Calls join their caller's trace only with the process's telemetry
    // installed, as in production (the one test of this binary that does).
    let _telemetry = twotier_platform::telemetry::init(&TelemetrySettings {
        service_name: "input-hygiene-test".into(),
        log_filter: "info".into(),
        log_format: LogFormat::Human,
        otlp_endpoint: None,
    })
    .expect("telemetry");
    let h = start().await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let members: Vec<String> = (0..32)
        .map(|i| format!("v{i:02}={}", "s".repeat(40)))
        .collect();
    let mut request = tonic::Request::new(pb::RequestPartnershipRequest {
        parent: format!("providers/{PROVIDER}"),
        reseller_email: "admin@fabrikam.example".into(),
        language_code: "en".into(),
        request_id: String::new(),
    });
    let metadata = request.metadata_mut();
    metadata.insert(
        "traceparent",
        format!("00-{trace_id}-00f067aa0ba902b7-01")
            .parse()
            .unwrap(),
    );
    metadata.insert("tracestate", members.join(",").parse().unwrap());
    let requested = h
        .partnerships(&provider_admin(PROVIDER))
        .request_partnership(request)
        .await
        .expect("a long tracestate does not fail the command");
    let name = requested.into_inner().invitation.expect("invitation").name;

    let records = twotier_testkit::audit_records(
        h.server.channel(),
        &provider_admin(PROVIDER),
        &name,
        "RequestPartnership",
    )
    .await;
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0].trace_id, trace_id, "in the caller's trace");
    let events = h.events(1).await;
    let trace = events[0].trace_context.clone().expect("trace context");
    assert!(trace.traceparent.contains(trace_id));
    assert!(trace.tracestate.len() <= 512, "{}", trace.tracestate.len());
    assert!(trace.tracestate.starts_with(&members[..5].join(",")));
}
