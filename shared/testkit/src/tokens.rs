//! Test identities: the stand-in identity provider's secret, the test
//! services' secret, and tokens of every kind of caller.

use std::sync::Arc;
use std::time::Duration;

use twotier_platform::auth::{Role, Secret, TokenMinter, TokenRules, TokenVerifier, UserKeys};
use twotier_platform::startup::Identity;

/// Issuer of test tokens.
pub const ISSUER: &str = "twotier";
/// Audience of test tokens.
pub const AUDIENCE: &str = "twotier";
/// Shared secret of test user tokens (the stand-in identity provider's).
pub const SECRET: &str = "twotier-test-identity-provider-secret";
/// The test services' own secret, for service tokens.
pub const SERVICE_SECRET: &str = "twotier-test-service-secret-not-for-users";
/// The platform tenant of tests.
pub const PLATFORM_TENANT: &str = "twotier";

/// The stand-in identity provider's secret.
pub fn user_secret() -> Secret {
    Secret::new("test", SECRET.as_bytes().to_vec()).expect("test secret is long enough")
}

/// The test services' secret.
pub fn service_secret() -> Secret {
    Secret::new("test", SERVICE_SECRET.as_bytes().to_vec()).expect("test secret is long enough")
}

/// The rules test tokens follow.
pub fn rules() -> TokenRules {
    TokenRules {
        issuer: ISSUER.to_owned(),
        audience: AUDIENCE.to_owned(),
        platform_tenant: PLATFORM_TENANT.to_owned(),
        leeway: Duration::from_secs(30),
        max_lifetime: Duration::from_secs(24 * 3600),
    }
}

/// The identity of test services.
pub fn identity() -> Identity {
    Identity::new(
        UserKeys::SharedSecret(user_secret()),
        service_secret(),
        rules(),
    )
}

/// The verifier of test tokens.
pub fn verifier() -> Arc<TokenVerifier> {
    identity().verifier
}

/// The minter of test user tokens.
pub fn minter() -> TokenMinter {
    TokenMinter::new(&user_secret(), ISSUER, AUDIENCE)
}

/// A service token of test service `name` (subject `service:<name>`).
pub fn service_token(name: &str) -> String {
    identity()
        .service_tokens(name)
        .token()
        .expect("mint service token")
}

/// A minter with the test key for another issuer or audience.
pub fn minter_for(issuer: &str, audience: &str) -> TokenMinter {
    TokenMinter::new(&user_secret(), issuer, audience)
}

/// A valid token for `subject` of `tenant` with `roles`.
pub fn token(subject: &str, tenant: &str, roles: &[Role]) -> String {
    minter()
        .mint(
            subject,
            tenant,
            roles,
            Some(&format!("{subject}@{tenant}.example")),
            Duration::from_secs(600),
        )
        .expect("mint test token")
}

/// The platform operator's token.
pub fn operator() -> String {
    token("operator", PLATFORM_TENANT, &[Role::PlatformOperator])
}

/// A provider admin's token (`alice` of `tenant`).
pub fn provider_admin(tenant: &str) -> String {
    token("alice", tenant, &[Role::GlobalAdmin])
}

/// A provider sales agent's token (`sam` of `tenant`).
pub fn sales_agent(tenant: &str) -> String {
    token("sam", tenant, &[Role::SalesAgent])
}

/// A reseller admin's token (`rita` of `tenant`).
pub fn reseller_admin(tenant: &str) -> String {
    token("rita", tenant, &[Role::ResellerAdmin])
}

/// A provider's own backend's token (`backend` of `tenant`, role
/// `Integration`), for its tenant's event feed.
pub fn integration(tenant: &str) -> String {
    token("backend", tenant, &[Role::Integration])
}
