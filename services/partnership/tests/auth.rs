//! Identity and roles: bad tokens never reach the service, roles gate every
//! provider task.

mod common;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use tonic::Code;
use twotier_platform::auth::{Role, Secret, TokenMinter};
use twotier_proto::partnership as pb;
use twotier_testkit::{Bearer, assert_error};

fn invite_request() -> pb::RequestPartnershipRequest {
    pb::RequestPartnershipRequest {
        parent: "providers/contoso".into(),
        reseller_email: "sales@fabrikam.example".into(),
        language_code: "en".into(),
        request_id: String::new(),
    }
}

fn minter(secret: &str, issuer: &str, audience: &str) -> TokenMinter {
    TokenMinter::new(
        &Secret::new("test", secret.as_bytes().to_vec()).unwrap(),
        issuer,
        audience,
    )
}

#[tokio::test]
async fn expired_forged_misaddressed_unsigned_and_missing_tokens_are_unauthenticated_and_change_nothing()
 {
    let h = start().await;
    let expired = {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = twotier_platform::auth::Claims {
            sub: "alice".into(),
            tid: PROVIDER.into(),
            roles: vec!["GlobalAdmin".into()],
            iss: twotier_testkit::ISSUER.into(),
            aud: twotier_testkit::AUDIENCE.into(),
            exp: now - 3600,
            nbf: None,
            iat: Some(now - 7200),
            email: None,
        };
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(twotier_testkit::SECRET.as_bytes()),
        )
        .unwrap()
    };
    let wrong_signature = minter(
        "not-the-secret-but-just-as-long-as-it",
        twotier_testkit::ISSUER,
        twotier_testkit::AUDIENCE,
    )
    .mint(
        "alice",
        PROVIDER,
        &[Role::GlobalAdmin],
        None,
        Duration::from_secs(600),
    )
    .unwrap();
    let wrong_audience = minter(
        twotier_testkit::SECRET,
        twotier_testkit::ISSUER,
        "someone-else",
    )
    .mint(
        "alice",
        PROVIDER,
        &[Role::GlobalAdmin],
        None,
        Duration::from_secs(600),
    )
    .unwrap();
    let wrong_issuer = minter(twotier_testkit::SECRET, "evil", twotier_testkit::AUDIENCE)
        .mint(
            "alice",
            PROVIDER,
            &[Role::GlobalAdmin],
            None,
            Duration::from_secs(600),
        )
        .unwrap();
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(
            format!(r#"{{"sub":"alice","tid":"contoso","roles":["GlobalAdmin"],"iss":"twotier","aud":"twotier","exp":{}}}"#, jsonwebtoken::get_current_timestamp() + 600).as_bytes()
        )
    );
    let cases = [
        ("expired", Bearer::new(&expired), "INVALID_TOKEN"),
        (
            "wrong signature",
            Bearer::new(&wrong_signature),
            "INVALID_TOKEN",
        ),
        (
            "wrong audience",
            Bearer::new(&wrong_audience),
            "INVALID_TOKEN",
        ),
        ("wrong issuer", Bearer::new(&wrong_issuer), "INVALID_TOKEN"),
        ("alg none", Bearer::new(&alg_none), "INVALID_TOKEN"),
        ("garbage", Bearer::new("not.a.jwt"), "INVALID_TOKEN"),
        ("missing header", Bearer::none(), "MISSING_CREDENTIALS"),
        (
            "not a bearer",
            Bearer::raw("Basic YWxpY2U6c2VjcmV0"),
            "MISSING_CREDENTIALS",
        ),
    ];
    for (case, bearer, reason) in cases {
        let status = assert_error(
            h.partnerships_with(bearer)
                .request_partnership(invite_request())
                .await,
            Code::Unauthenticated,
            reason,
        );
        assert!(!status.message().is_empty(), "{case}");
    }
    let invitations = h
        .partnerships(&provider_admin(PROVIDER))
        .list_invitations(pb::ListInvitationsRequest {
            parent: "providers/contoso".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        invitations.invitations.is_empty(),
        "no refused call changed anything"
    );
}

#[tokio::test]
async fn only_global_admins_and_sales_agents_perform_provider_tasks() {
    let h = start().await;
    for role in [
        Role::BillingAdmin,
        Role::HelpdeskAgent,
        Role::ResellerAdmin,
        Role::PlatformOperator,
    ] {
        let token = twotier_testkit::token("user", PROVIDER, &[role]);
        assert_error(
            h.partnerships(&token)
                .request_partnership(invite_request())
                .await,
            Code::PermissionDenied,
            "ROLE_NOT_ALLOWED",
        );
        assert_error(
            h.partnerships(&token)
                .list_indirect_resellers(pb::ListIndirectResellersRequest {
                    parent: "providers/contoso".into(),
                    ..Default::default()
                })
                .await,
            Code::PermissionDenied,
            "ROLE_NOT_ALLOWED",
        );
    }
    for token in [provider_admin(PROVIDER), sales_agent(PROVIDER)] {
        h.partnerships(&token)
            .request_partnership(invite_request())
            .await
            .expect("provider roles may invite");
    }
}

#[tokio::test]
async fn health_and_reflection_answer_without_a_token() {
    let h = start().await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(h.server.channel());
    for service in [
        "",
        "twotier.partnership.v1.PartnershipService",
        "twotier.events.v1.EventLogService",
    ] {
        let status = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: service.into(),
            })
            .await
            .expect("health check")
            .into_inner()
            .status;
        assert_eq!(
            status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32,
            "{service}"
        );
    }
}
