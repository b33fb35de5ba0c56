//! Minting tokens: development user tokens (the `token` command and tests,
//! only with a shared HS256 identity-provider secret) and the service
//! tokens a twotier service signs its own calls with.

use std::sync::Mutex;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};

use super::claims::{Claims, SERVICE_ISSUER, SERVICE_TENANT};
use super::{Role, Secret};

/// Mints user tokens with a shared HS256 secret: a stand-in identity
/// provider for development and tests. Production identity providers keep
/// their signing keys; twotier only ever holds their public keys.
#[derive(Clone)]
pub struct TokenMinter {
    key: EncodingKey,
    issuer: String,
    audience: String,
}

impl TokenMinter {
    /// A minter signing with `secret` for `issuer` and `audience`.
    pub fn new(secret: &Secret, issuer: &str, audience: &str) -> Self {
        Self {
            key: EncodingKey::from_secret(secret.expose()),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        }
    }

    /// A token for `subject` in `tenant_id` with `roles`, valid for `ttl`.
    pub fn mint(
        &self,
        subject: &str,
        tenant_id: &str,
        roles: &[Role],
        email: Option<&str>,
        ttl: Duration,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let names: Vec<String> = roles.iter().map(|r| r.as_str().to_owned()).collect();
        self.mint_claims(&claims(
            subject,
            tenant_id,
            names,
            &self.issuer,
            &self.audience,
            email,
            ttl,
        ))
    }

    /// Signs arbitrary `claims` (tests build malformed tokens with it).
    pub fn mint_claims(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.key)
    }
}

/// How long a service token is valid. Short, because it is re-minted for
/// free; a log subscription is checked once, when it starts.
const SERVICE_TOKEN_TTL: Duration = Duration::from_secs(600);
/// A cached service token is replaced this long before it expires.
const SERVICE_TOKEN_RENEWAL: Duration = Duration::from_secs(120);

/// The tokens one twotier service signs its log subscriptions and calls to
/// other services with. They grant [`Role::Service`] and nothing else:
/// the service key cannot mint user roles.
pub struct ServiceTokens {
    key: EncodingKey,
    subject: String,
    current: Mutex<Option<(String, u64)>>,
}

impl std::fmt::Debug for ServiceTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceTokens")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl ServiceTokens {
    /// The tokens of service `name` (subject `service:<name>`), signed with
    /// the service key derived from `secret`.
    pub fn new(secret: &Secret, name: &str) -> Self {
        Self {
            key: EncodingKey::from_secret(&service_key(secret)),
            subject: format!("service:{name}"),
            current: Mutex::new(None),
        }
    }

    /// The service's subject, e.g. `service:customer`.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// A valid token, reused until shortly before it expires.
    pub fn token(&self) -> Result<String, jsonwebtoken::errors::Error> {
        let now = jsonwebtoken::get_current_timestamp();
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((token, exp)) = current.as_ref()
            && now + SERVICE_TOKEN_RENEWAL.as_secs() < *exp
        {
            return Ok(token.clone());
        }
        let claims = claims(
            &self.subject,
            SERVICE_TENANT,
            vec![Role::Service.as_str().to_owned()],
            SERVICE_ISSUER,
            SERVICE_ISSUER,
            None,
            SERVICE_TOKEN_TTL,
        );
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key)?;
        *current = Some((token.clone(), claims.exp));
        Ok(token)
    }
}

/// What the service token key is derived for (see [`Secret::derive`]).
pub const SERVICE_KEY_PURPOSE: &str = "twotier service token v1";

/// The HS256 key of service tokens, derived from the service secret so
/// that the same secret can also key page tokens and invitation links
/// without one use's key revealing another's.
pub(crate) fn service_key(secret: &Secret) -> [u8; 32] {
    secret.derive(SERVICE_KEY_PURPOSE)
}

fn claims(
    subject: &str,
    tenant_id: &str,
    roles: Vec<String>,
    issuer: &str,
    audience: &str,
    email: Option<&str>,
    ttl: Duration,
) -> Claims {
    let now = jsonwebtoken::get_current_timestamp();
    Claims {
        sub: subject.to_owned(),
        tid: tenant_id.to_owned(),
        roles,
        iss: issuer.to_owned(),
        aud: audience.to_owned(),
        exp: now + ttl.as_secs(),
        nbf: None,
        iat: Some(now),
        email: email.map(str::to_owned),
    }
}
