//! The claims of a twotier token, and the two kinds of token: user tokens
//! from the identity provider and service tokens that twotier services
//! mint for their own calls.

use serde::{Deserialize, Serialize};

/// `iss` and `aud` of service tokens. A token with this issuer is checked
/// with the service key only, and grants nothing but [`super::Role::Service`].
pub const SERVICE_ISSUER: &str = "twotier-service";
/// `tid` of service tokens.
pub const SERVICE_TENANT: &str = "twotier-services";
/// The metadata key carrying the original caller's token on a call a
/// service makes on that caller's behalf.
pub const ON_BEHALF_OF_HEADER: &str = "twotier-on-behalf-of";
/// The metadata key naming the tenant whose command a service's own call
/// serves (a catch-up's `GetLogHead`), so that the call is admitted under
/// that tenant's share, not the services'. Read from service callers only.
pub const FOR_TENANT_HEADER: &str = "twotier-for-tenant";

/// The claims of a token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Who is calling.
    pub sub: String,
    /// The caller's tenant.
    #[serde(default)]
    pub tid: String,
    /// Granted roles, by name.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Issuer.
    pub iss: String,
    /// Audience (a single value or, as some identity providers send it, a
    /// list of which the first is kept; `aud` itself is checked before).
    #[serde(deserialize_with = "one_or_first")]
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Not before, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Issued at, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// The caller's email address, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

fn one_or_first<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Audience {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Audience::deserialize(deserializer)? {
        Audience::One(one) => one,
        Audience::Many(many) => many.into_iter().next().unwrap_or_default(),
    })
}
