//! The authorization matrix, generated from the descriptor set: every RPC
//! of every service x every role x a token of the caller's own tenant and
//! of the platform tenant or another tenant. It fails when an RPC has no
//! authorization rule, when a role the rule does not name gets past the
//! door, when a role it names is turned away, when a platform role is
//! honoured outside the platform, and when a provider reaches another
//! provider's resources.

use prost_reflect::{DynamicMessage, Kind, MethodDescriptor, Value};
use tonic::Code;
use tonic::transport::Channel;
use twotier_outbox::audit::AuditLog;
use twotier_outbox::{DeadLetters, EventLog};
use twotier_platform::auth::{Policy, Role, Rule};
use twotier_platform::upstream::reason_of;
use twotier_testkit::System;
use twotier_testkit::dynamic::{call, methods};

const OWN: &str = "contoso";
const FOREIGN: &str = "northwind";

fn policy() -> Policy {
    let rules: Vec<&[Rule]> = vec![
        twotier_partnership::api::access::LISTING_RULES,
        twotier_partnership::api::access::RESELLER_RULES,
        twotier_partnership::api::access::PARTNERSHIP_RULES,
        twotier_customer::api::access::CUSTOMER_RULES,
        twotier_subscription::api::access::SUBSCRIPTION_RULES,
        twotier_notification::api::access::NOTIFICATION_RULES,
        EventLog::RULES,
        DeadLetters::RULES,
        AuditLog::RULES,
    ];
    Policy::new(rules.into_iter().flatten())
}

/// The server of `method`; the shared event services answer on each
/// service, the partnership and notification services stand for them here.
fn channel_of(system: &System, method: &MethodDescriptor) -> Channel {
    let service = method.parent_service().full_name().to_owned();
    if service.starts_with("twotier.customer.") {
        system.channel("customer")
    } else if service.starts_with("twotier.subscription.") {
        system.channel("subscription")
    } else if service.starts_with("twotier.notification.") || service.ends_with("DeadLetterService")
    {
        system.channel("notification")
    } else {
        system.channel("partnership")
    }
}

/// A bearer token of `role` in `tenant` (services have their own tokens).
fn bearer(role: Role, tenant: &str) -> String {
    let token = match role {
        Role::Service => twotier_testkit::service_token("authorization-test"),
        role => twotier_testkit::token("someone", tenant, &[role]),
    };
    format!("Bearer {token}")
}

/// The request with every resource name pointing into `tenant`'s
/// provider space: `parent`, `name` and friends get `providers/<tenant>`
/// followed by `tail`.
fn request(method: &MethodDescriptor, tenant: &str, tail: &str) -> DynamicMessage {
    let mut message = DynamicMessage::new(method.input());
    for field in method.input().fields() {
        let named = ["parent", "name", "invitation", "cart"].contains(&field.name());
        if named && matches!(field.kind(), Kind::String) && !field.is_list() {
            message.set_field(&field, Value::String(format!("providers/{tenant}{tail}")));
        }
    }
    message
}

/// Name tails of the provider-scoped resources.
const TAILS: [&str; 7] = [
    "",
    "/invitations/01900000-0000-7000-8000-000000000000",
    "/indirectResellers/4567890",
    "/partnerships/01900000-0000-7000-8000-000000000000",
    "/customers/01900000-0000-7000-8000-000000000000",
    "/carts/01900000-0000-7000-8000-000000000000",
    "/orders/01900000-0000-7000-8000-000000000000",
];

fn role_refused(outcome: &Result<(), tonic::Status>) -> bool {
    matches!(outcome, Err(status)
        if status.code() == Code::PermissionDenied
            && reason_of(status).as_deref() == Some("ROLE_NOT_ALLOWED"))
}

/// DOMAIN.md's "Who acts", independent of the rules: a rule that hands a
/// role more than the domain gives it fails here.
#[test]
fn the_rules_give_no_role_more_than_the_domain_does() {
    let policy = policy();
    for method in methods() {
        let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
        let Some(access) = policy.access(&path) else {
            panic!("{path} has no authorization rule");
        };
        if access == twotier_platform::auth::Access::Authenticated {
            assert!(
                method.name().starts_with("Get") || method.name().starts_with("List"),
                "{path}: only reads are open to every caller"
            );
            continue;
        }
        let read = !twotier_platform::auth::is_command(&path);
        // Listing changes admit every provider role at the door, so that
        // each hears R1's answer (ask your representative) from the handler,
        // which refuses all but the operator (`partnership/tests/listings.rs`).
        let listing_change = path.contains("ProviderListingService") && !read;
        for role in [Role::BillingAdmin, Role::HelpdeskAgent] {
            assert!(
                listing_change || !access.admits(&[role]),
                "{path}: {role} has no tasks"
            );
        }
        if access.admits(&[Role::Service]) {
            assert!(
                path.starts_with("/twotier.events.v1.EventLogService/")
                    || method.name() == "VerifyPartnerId",
                "{path}: services only follow logs and verify PartnerIDs"
            );
        }
        if access.admits(&[Role::Integration]) {
            assert!(
                path.starts_with("/twotier.events.v1.EventLogService/"),
                "{path}: a provider's backend only follows its tenant's feed (R30)"
            );
        }
        if access.admits(&[Role::ResellerAdmin]) && !read {
            assert_eq!(
                method.name(),
                "AcceptInvitation",
                "{path}: a reseller only reads, and accepts invitations"
            );
        }
        if access.admits(&[Role::CustomerAdmin]) {
            assert_eq!(
                method.name(),
                "AcceptResellerRelationship",
                "{path}: a customer's admin only consents to a reseller relationship (R22)"
            );
        }
        if access.admits(&[Role::PlatformOperator]) && !read {
            assert!(
                path.contains("ProviderListingService")
                    || path.contains("ResellerService")
                    || path.contains("DeadLetterService"),
                "{path}: the operator curates listings, resellers and dead letters"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_has_a_rule_and_every_role_and_tenant_gets_what_the_rule_says() {
    let system = System::all(&[]).await;
    let policy = policy();
    let mut checked = 0;
    for method in methods() {
        let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
        let access = policy
            .access(&path)
            .unwrap_or_else(|| panic!("{path} has no authorization rule"));
        let channel = channel_of(&system, &method);
        for role in Role::ALL {
            let home = match role {
                Role::PlatformOperator => twotier_testkit::PLATFORM_TENANT,
                _ => OWN,
            };
            let outcome = call(
                &channel,
                &method,
                request(&method, home, ""),
                &[("authorization", bearer(role, home))],
            )
            .await;
            checked += 1;
            if access.admits(&[role]) {
                assert!(
                    !role_refused(&outcome),
                    "{path}: the rule admits {role}, the service refused: {outcome:?}"
                );
            } else {
                assert!(
                    role_refused(&outcome),
                    "{path}: {role} is not in the rule, yet got {outcome:?}"
                );
            }
            // Platform roles in another tenant's token count for nothing.
            if matches!(role, Role::PlatformOperator | Role::Service) {
                let impostor = format!(
                    "Bearer {}",
                    twotier_testkit::token("someone", FOREIGN, &[role])
                );
                let outcome = call(
                    &channel,
                    &method,
                    request(&method, FOREIGN, ""),
                    &[("authorization", impostor)],
                )
                .await;
                checked += 1;
                assert!(
                    role_refused(&outcome),
                    "{path}: {role} in a token of {FOREIGN} got {outcome:?}"
                );
            }
        }
        // A provider never reaches into another provider's space: whatever
        // shape the name takes, the answer is never a success.
        for role in [Role::GlobalAdmin, Role::SalesAgent] {
            if !access.admits(&[role])
                || method.input().get_field_by_name("parent").is_none()
                    && method.input().get_field_by_name("name").is_none()
            {
                continue;
            }
            for tail in TAILS {
                let outcome = call(
                    &channel,
                    &method,
                    request(&method, FOREIGN, tail),
                    &[("authorization", bearer(role, OWN))],
                )
                .await;
                checked += 1;
                let status = outcome.expect_err(&format!(
                    "{path}: {role} of {OWN} succeeded on providers/{FOREIGN}{tail}"
                ));
                assert!(
                    matches!(
                        status.code(),
                        Code::NotFound | Code::InvalidArgument | Code::PermissionDenied
                    ),
                    "{path}: {role} of {OWN} on providers/{FOREIGN}{tail}: {status:?}"
                );
            }
        }
    }
    println!("{checked} calls checked against the authorization rules");
}

/// A method a server does not serve (another service's, as a client
/// pointed at the wrong port would call it): `UNIMPLEMENTED` for a known
/// caller, as gRPC answers an unknown method, never a role refusal; a
/// stranger hears only that it is not authenticated.
#[tokio::test]
async fn a_method_the_server_does_not_serve_is_unimplemented_for_a_known_caller() {
    let system = System::all(&[]).await;
    let elsewhere = methods()
        .into_iter()
        .find(|method| {
            method.full_name() == "twotier.subscription.v1.SubscriptionService.GetSubscription"
        })
        .expect("GetSubscription");
    let partnership = system.channel("partnership");
    let message = || DynamicMessage::new(elsewhere.input());
    for role in [Role::GlobalAdmin, Role::PlatformOperator] {
        let tenant = if role == Role::PlatformOperator {
            twotier_testkit::PLATFORM_TENANT
        } else {
            OWN
        };
        let status = call(
            &partnership,
            &elsewhere,
            message(),
            &[("authorization", bearer(role, tenant))],
        )
        .await
        .expect_err("not served here");
        assert_eq!(status.code(), Code::Unimplemented, "{role:?}: {status:?}");
        assert_eq!(reason_of(&status).as_deref(), Some("UNKNOWN_METHOD"));
    }
    let anonymous = call(&partnership, &elsewhere, message(), &[])
        .await
        .expect_err("no token");
    assert_eq!(anonymous.code(), Code::Unauthenticated);
}
