//! Trust boundaries through gRPC: platform roles only where the platform
//! grants them, service identity apart from user identity, and tokens held
//! to RFC 8725.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use tonic::Code;
use tonic::metadata::MetadataValue;
use twotier_partnership::PartnershipService;
use twotier_platform::auth::{
    Claims, ON_BEHALF_OF_HEADER, Role, SERVICE_ISSUER, SERVICE_KEY_PURPOSE, SERVICE_TENANT, Secret,
    TokenMinter,
};
use twotier_proto::events::event_log_service_client::EventLogServiceClient;
use twotier_proto::events::{GetLogHeadRequest, SubscribeRequest};
use twotier_proto::partnership as pb;
use twotier_testkit::{Bearer, JwksServer, assert_error};

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn user_claims(subject: &str, tenant: &str, roles: &[&str]) -> Claims {
    Claims {
        sub: subject.into(),
        tid: tenant.into(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        iss: twotier_testkit::ISSUER.into(),
        aud: twotier_testkit::AUDIENCE.into(),
        exp: now() + 600,
        nbf: None,
        iat: Some(now()),
        email: None,
    }
}

fn signed(claims: &Claims) -> String {
    twotier_testkit::minter().mint_claims(claims).unwrap()
}

/// Signs `claims` with the service key itself, as a stolen service key
/// would: it still cannot grant user roles.
fn signed_with_service_key(claims: &Claims) -> String {
    let key = twotier_testkit::service_secret().derive(SERVICE_KEY_PURPOSE);
    TokenMinter::new(
        &Secret::new("service key", key.to_vec()).unwrap(),
        SERVICE_ISSUER,
        SERVICE_ISSUER,
    )
    .mint_claims(claims)
    .unwrap()
}

fn onboard_request() -> pb::OnboardResellerRequest {
    pb::OnboardResellerRequest {
        reseller: Some(pb::Reseller {
            partner_id: "7654321".into(),
            tenant_id: "ghostly".into(),
            company_name: "Ghostly".into(),
            contact_email: "admin@ghostly.example".into(),
            country_code: "DE".into(),
            preferred_language: "de".into(),
            account_kind: pb::AccountKind::Location.into(),
            mpa_active: true,
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

#[tokio::test]
async fn platform_operator_role_in_a_token_of_another_tenant_is_refused_everywhere() {
    let h = start().await;
    for tenant in ["ghost", PROVIDER] {
        let token = twotier_testkit::token("mallory", tenant, &[Role::PlatformOperator]);
        assert_error(
            h.resellers(&token)
                .onboard_reseller(onboard_request())
                .await,
            Code::PermissionDenied,
            "ROLE_NOT_ALLOWED",
        );
        assert_error(
            h.listings(&token)
                .list_provider_listings(pb::ListProviderListingsRequest::default())
                .await,
            Code::PermissionDenied,
            "ROLE_NOT_ALLOWED",
        );
    }
    // The platform tenant's operator is honoured.
    h.resellers(&operator())
        .onboard_reseller(onboard_request())
        .await
        .expect("the platform operator onboards");
}

#[tokio::test]
async fn the_platform_tenant_is_configurable() {
    let h = start_with(&[("TWOTIER_PLATFORM_TENANT", "operations")]).await;
    let old = twotier_testkit::token("op", "twotier", &[Role::PlatformOperator]);
    assert_error(
        h.resellers(&old).onboard_reseller(onboard_request()).await,
        Code::PermissionDenied,
        "ROLE_NOT_ALLOWED",
    );
    let new = twotier_testkit::token("op", "operations", &[Role::PlatformOperator]);
    h.resellers(&new)
        .onboard_reseller(onboard_request())
        .await
        .expect("the configured platform tenant's operator onboards");
}

#[tokio::test]
async fn service_role_in_a_user_token_never_reads_the_event_log() {
    let h = start().await;
    h.invite(PROVIDER, "sales@fabrikam.example").await;
    for tenant in ["ghost", "twotier", PROVIDER] {
        let token = twotier_testkit::token("mallory", tenant, &[Role::Service]);
        let mut log =
            EventLogServiceClient::with_interceptor(h.server.channel(), Bearer::new(&token));
        assert_error(
            log.subscribe(SubscribeRequest::default()).await,
            Code::PermissionDenied,
            "ROLE_NOT_ALLOWED",
        );
        assert_error(
            log.get_log_head(GetLogHeadRequest {}).await,
            Code::PermissionDenied,
            "ROLE_NOT_ALLOWED",
        );
    }
    // A real service token follows the log.
    let mut log = EventLogServiceClient::with_interceptor(
        h.server.channel(),
        Bearer::new(&twotier_testkit::service_token("customer")),
    );
    log.get_log_head(GetLogHeadRequest {})
        .await
        .expect("services read the log");
}

#[tokio::test]
async fn the_service_key_cannot_mint_user_roles() {
    let h = start().await;
    let mut forged = user_claims("service:evil", SERVICE_TENANT, &["GlobalAdmin", "Service"]);
    forged.iss = SERVICE_ISSUER.into();
    forged.aud = SERVICE_ISSUER.into();
    let forged = signed_with_service_key(&forged);
    assert_error(
        h.partnerships(&forged)
            .list_indirect_resellers(pb::ListIndirectResellersRequest {
                parent: "providers/twotier-services".into(),
                ..Default::default()
            })
            .await,
        Code::PermissionDenied,
        "ROLE_NOT_ALLOWED",
    );
    // A user token cannot be passed off as a service token: the issuer
    // picks the service key, whose check it fails.
    let mut impostor = user_claims("service:evil", SERVICE_TENANT, &["Service"]);
    impostor.iss = SERVICE_ISSUER.into();
    impostor.aud = SERVICE_ISSUER.into();
    let mut log = EventLogServiceClient::with_interceptor(
        h.server.channel(),
        Bearer::new(&signed(&impostor)),
    );
    assert_error(
        log.get_log_head(GetLogHeadRequest {}).await,
        Code::Unauthenticated,
        "INVALID_TOKEN",
    );
}

#[tokio::test]
async fn a_user_token_of_the_services_tenant_is_refused() {
    let h = start().await;
    for roles in [&["GlobalAdmin"][..], &["Integration"], &[]] {
        let token = signed(&user_claims("mallory", SERVICE_TENANT, roles));
        assert_error(
            h.partnerships(&token)
                .list_indirect_resellers(list(SERVICE_TENANT))
                .await,
            Code::PermissionDenied,
            "TENANT_RESERVED",
        );
        let mut log =
            EventLogServiceClient::with_interceptor(h.server.channel(), Bearer::new(&token));
        assert_error(
            log.get_log_head(GetLogHeadRequest {}).await,
            Code::PermissionDenied,
            "TENANT_RESERVED",
        );
    }
    // Nor can a service carry one on its behalf.
    let user = signed(&user_claims("mallory", SERVICE_TENANT, &["GlobalAdmin"]));
    let service = twotier_testkit::service_token("partnership-test");
    assert_error(
        on_behalf(&h, &service, &user)
            .list_indirect_resellers(list(SERVICE_TENANT))
            .await,
        Code::PermissionDenied,
        "TENANT_RESERVED",
    );
}

/// A client sending a service token plus the original caller's token.
fn on_behalf(
    h: &Harness,
    bearer: &str,
    original: &str,
) -> pb::partnership_service_client::PartnershipServiceClient<
    tonic::service::interceptor::InterceptedService<
        tonic::transport::Channel,
        impl tonic::service::Interceptor + use<>,
    >,
> {
    let bearer: MetadataValue<_> = format!("Bearer {bearer}").parse().unwrap();
    let original: MetadataValue<_> = format!("Bearer {original}").parse().unwrap();
    pb::partnership_service_client::PartnershipServiceClient::with_interceptor(
        h.server.channel(),
        move |mut request: tonic::Request<()>| {
            request
                .metadata_mut()
                .insert("authorization", bearer.clone());
            request
                .metadata_mut()
                .insert(ON_BEHALF_OF_HEADER, original.clone());
            Ok(request)
        },
    )
}

#[tokio::test]
async fn services_call_on_behalf_of_users_with_the_users_rights_and_users_cannot() {
    let h = start().await;
    let invitation = h.invite(PROVIDER, "sales@fabrikam.example").await;
    let name = invitation.invitation.unwrap().name;
    let service = twotier_testkit::service_token("subscription");
    let get = |name: &str| pb::GetInvitationRequest { name: name.into() };

    let read = on_behalf(&h, &service, &provider_admin(PROVIDER))
        .get_invitation(get(&name))
        .await
        .expect("the provider's own invitation, read through a service");
    assert_eq!(read.into_inner().name, name);
    assert_error(
        on_behalf(&h, &service, &provider_admin(OTHER_PROVIDER))
            .get_invitation(get(&name))
            .await,
        Code::NotFound,
        "PROVIDER_NOT_FOUND",
    );
    // A user may not claim to act for someone else.
    assert_error(
        on_behalf(
            &h,
            &provider_admin(OTHER_PROVIDER),
            &provider_admin(PROVIDER),
        )
        .get_invitation(get(&name))
        .await,
        Code::PermissionDenied,
        "ON_BEHALF_OF_NOT_ALLOWED",
    );
}

#[tokio::test]
async fn tokens_not_yet_valid_with_unknown_crit_empty_or_oversized_identity_or_too_long_lifetime_are_refused()
 {
    let h = start_with(&[("TWOTIER_JWT_MAX_LIFETIME", "1h")]).await;
    let mut not_yet = user_claims("alice", PROVIDER, &["GlobalAdmin"]);
    not_yet.nbf = Some(now() + 600);
    let empty_subject = user_claims(" ", PROVIDER, &["GlobalAdmin"]);
    let long_subject = user_claims(&"a".repeat(201), PROVIDER, &["GlobalAdmin"]);
    let long_tenant = user_claims("alice", &"t".repeat(64), &["GlobalAdmin"]);
    let forged_line = user_claims("alice\r\nadmin", PROVIDER, &["GlobalAdmin"]);
    let mut too_long = user_claims("alice", PROVIDER, &["GlobalAdmin"]);
    too_long.exp = now() + 2 * 3600;
    let mut too_long_without_iat = too_long.clone();
    too_long_without_iat.iat = None;
    let crit = {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.crit = Some(vec!["exp-critical".into()]);
        jsonwebtoken::encode(
            &header,
            &user_claims("alice", PROVIDER, &["GlobalAdmin"]),
            &jsonwebtoken::EncodingKey::from_secret(twotier_testkit::SECRET.as_bytes()),
        )
        .unwrap()
    };
    let cases = [
        ("nbf in the future", signed(&not_yet), "not valid yet"),
        ("empty subject", signed(&empty_subject), "empty subject"),
        ("subject too long", signed(&long_subject), "longer than 200"),
        ("tenant too long", signed(&long_tenant), "longer than 63"),
        (
            "a line break in the subject",
            signed(&forged_line),
            "control characters",
        ),
        (
            "a direction override in the subject",
            signed(&user_claims(
                "alice\u{202E}nimda",
                PROVIDER,
                &["GlobalAdmin"],
            )),
            "control characters",
        ),
        (
            "lifetime above the maximum",
            signed(&too_long),
            "longer than",
        ),
        (
            "lifetime above the maximum, no iat",
            signed(&too_long_without_iat),
            "longer than",
        ),
        ("unknown crit header", crit, "critical"),
    ];
    for (case, token, says) in cases {
        let status = assert_error(
            h.partnerships(&token)
                .list_indirect_resellers(pb::ListIndirectResellersRequest {
                    parent: "providers/contoso".into(),
                    ..Default::default()
                })
                .await,
            Code::Unauthenticated,
            "INVALID_TOKEN",
        );
        assert!(status.message().contains(says), "{case}: {status:?}");
    }
    // Within the leeway, a token whose nbf is a moment away already works.
    let mut skewed = user_claims("alice", PROVIDER, &["GlobalAdmin"]);
    skewed.nbf = Some(now() + 5);
    h.partnerships(&signed(&skewed))
        .list_indirect_resellers(pb::ListIndirectResellersRequest {
            parent: "providers/contoso".into(),
            ..Default::default()
        })
        .await
        .expect("clock skew within the leeway is tolerated");
}

#[tokio::test]
async fn refusals_say_what_is_wrong_in_our_words_not_the_librarys() {
    let h = start().await;
    let mut expired = user_claims("alice", PROVIDER, &["GlobalAdmin"]);
    expired.exp = now() - 3600;
    expired.iat = Some(now() - 7200);
    let forged = TokenMinter::new(
        &Secret::new("other", vec![9; 32]).unwrap(),
        twotier_testkit::ISSUER,
        twotier_testkit::AUDIENCE,
    )
    .mint_claims(&user_claims("alice", PROVIDER, &["GlobalAdmin"]))
    .unwrap();
    let garbage = format!(
        "{}.{}.sig",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#),
        URL_SAFE_NO_PAD.encode(b"[1,2,3]")
    );
    for (token, says) in [
        (signed(&expired), "the bearer token has expired"),
        (forged, "the bearer token's signature does not verify"),
        (garbage, "the bearer token is not a well-formed JWT"),
    ] {
        let status = assert_error(
            h.partnerships(&token)
                .list_indirect_resellers(pb::ListIndirectResellersRequest::default())
                .await,
            Code::Unauthenticated,
            "INVALID_TOKEN",
        );
        assert_eq!(status.message(), says);
    }
}

#[tokio::test]
async fn a_service_configured_with_a_jwks_url_accepts_the_providers_tokens_only() {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(include_bytes!(
        "../../../shared/platform/tests/fixtures/rs256-test-private.pem"
    ))
    .unwrap();
    let mut jwk =
        jsonwebtoken::jwk::Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::RS256).unwrap();
    jwk.common.key_id = Some("k1".into());
    let provider = JwksServer::start(
        &serde_json::to_string(&jsonwebtoken::jwk::JwkSet { keys: vec![jwk] }).unwrap(),
    )
    .await;
    let db = twotier_testkit::TestDatabase::new("partnership").await;
    let mut env = twotier_testkit::env(&db, &[("TWOTIER_JWT_JWKS_URL", &provider.url())]);
    env.remove("TWOTIER_JWT_HS256_SECRET");
    let server = twotier_testkit::start_service_with_env::<PartnershipService>(env).await;
    let h = Harness { server, db };

    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("k1".into());
    let from_provider = jsonwebtoken::encode(
        &header,
        &user_claims("alice", PROVIDER, &["GlobalAdmin"]),
        &key,
    )
    .unwrap();
    h.partnerships(&from_provider)
        .request_partnership(pb::RequestPartnershipRequest {
            parent: "providers/contoso".into(),
            reseller_email: "sales@fabrikam.example".into(),
            language_code: "en".into(),
            request_id: String::new(),
        })
        .await
        .expect("a token the identity provider signed");
    assert_error(
        h.partnerships(&provider_admin(PROVIDER))
            .list_indirect_resellers(pb::ListIndirectResellersRequest::default())
            .await,
        Code::Unauthenticated,
        "INVALID_TOKEN",
    );
    // Services still reach each other with their own tokens.
    EventLogServiceClient::with_interceptor(
        h.server.channel(),
        Bearer::new(&twotier_testkit::service_token("customer")),
    )
    .get_log_head(GetLogHeadRequest {})
    .await
    .expect("service tokens do not depend on the identity provider");
}
