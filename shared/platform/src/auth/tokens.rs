use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::{Caller, KeyMaterial, Role};
use crate::error::Error;

/// The claims of a twotier token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Who is calling.
    pub sub: String,
    /// The caller's tenant.
    pub tid: String,
    /// Granted roles, by name.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issued at, seconds since the epoch.
    #[serde(default)]
    pub iat: u64,
    /// The caller's email address, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Verified tokens remembered at once; a busy service sees far fewer
/// distinct tokens than calls.
const VERIFIED_CACHE: usize = 10_000;

/// Checks bearer tokens.
#[derive(Clone)]
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
    /// Token -> (caller, expiry in seconds since the epoch). A signature
    /// check and JSON parse per call cost more than the rest of a read, so
    /// a token is verified once and then trusted until it expires.
    verified: std::sync::Arc<quick_cache::sync::Cache<String, (Caller, u64)>>,
}

impl TokenVerifier {
    /// A verifier accepting only tokens signed with `keys`' algorithm by
    /// `issuer` for `audience`.
    pub fn new(
        keys: &KeyMaterial,
        issuer: &str,
        audience: &str,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        let (key, algorithm) = match keys {
            KeyMaterial::Hs256 { secret } => (DecodingKey::from_secret(secret), Algorithm::HS256),
            KeyMaterial::Rs256 { public_pem, .. } => {
                (DecodingKey::from_rsa_pem(public_pem)?, Algorithm::RS256)
            }
        };
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        Ok(Self {
            key,
            validation,
            verified: std::sync::Arc::new(quick_cache::sync::Cache::new(VERIFIED_CACHE)),
        })
    }

    /// Verifies `token` and returns the caller it names. Tokens with `alg:
    /// none`, another algorithm, a bad signature, another issuer or audience,
    /// or past their expiry are refused.
    pub fn verify(&self, token: &str) -> Result<Caller, Error> {
        if let Some((caller, expires)) = self.verified.get(token)
            && jsonwebtoken::get_current_timestamp() < expires + self.validation.leeway
        {
            return Ok(caller);
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map_err(
            |error| {
                tracing::debug!(error = %error, "token refused");
                Error::Unauthenticated {
                    reason: "INVALID_TOKEN",
                    message: format!("the bearer token is not valid: {error}"),
                }
            },
        )?;
        let claims = data.claims;
        if claims.tid.is_empty() {
            return Err(Error::Unauthenticated {
                reason: "INVALID_TOKEN",
                message: "the bearer token has no tenant (tid) claim".into(),
            });
        }
        let caller = Caller {
            subject: claims.sub,
            tenant_id: claims.tid,
            roles: claims.roles.iter().filter_map(|r| Role::parse(r)).collect(),
            email: claims.email,
            bearer: token.to_owned(),
        };
        self.verified
            .insert(token.to_owned(), (caller.clone(), claims.exp));
        Ok(caller)
    }
}

/// Issues tokens: the dev `token` command, and services' own identity for
/// event log subscriptions.
#[derive(Clone)]
pub struct TokenMinter {
    key: EncodingKey,
    algorithm: Algorithm,
    issuer: String,
    audience: String,
}

impl TokenMinter {
    /// A minter for `keys`, or `None` when they hold no private key.
    pub fn new(
        keys: &KeyMaterial,
        issuer: &str,
        audience: &str,
    ) -> Result<Option<Self>, jsonwebtoken::errors::Error> {
        let (key, algorithm) = match keys {
            KeyMaterial::Hs256 { secret } => (EncodingKey::from_secret(secret), Algorithm::HS256),
            KeyMaterial::Rs256 {
                private_pem: Some(pem),
                ..
            } => (EncodingKey::from_rsa_pem(pem)?, Algorithm::RS256),
            KeyMaterial::Rs256 {
                private_pem: None, ..
            } => return Ok(None),
        };
        Ok(Some(Self {
            key,
            algorithm,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        }))
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
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: subject.to_owned(),
            tid: tenant_id.to_owned(),
            roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + ttl.as_secs(),
            iat: now,
            email: email.map(str::to_owned),
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn keys() -> KeyMaterial {
        KeyMaterial::Hs256 {
            secret: b"test-secret".to_vec(),
        }
    }

    #[test]
    fn minted_tokens_verify() {
        let minter = TokenMinter::new(&keys(), "iss", "aud").unwrap().unwrap();
        let token = minter
            .mint(
                "alice",
                "contoso",
                &[Role::GlobalAdmin],
                Some("alice@contoso.example"),
                Duration::from_secs(60),
            )
            .unwrap();
        let caller = TokenVerifier::new(&keys(), "iss", "aud")
            .unwrap()
            .verify(&token)
            .unwrap();
        assert_eq!(caller.tenant_id, "contoso");
        assert!(caller.is_provider());
    }

    #[test]
    fn refuses_alg_none_and_wrong_audience() {
        let verifier = TokenVerifier::new(&keys(), "iss", "aud").unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(
            br#"{"sub":"x","tid":"t","roles":["GlobalAdmin"],"iss":"iss","aud":"aud","exp":9999999999}"#,
        );
        assert!(verifier.verify(&format!("{header}.{body}.")).is_err());

        let other = TokenMinter::new(&keys(), "iss", "other").unwrap().unwrap();
        let token = other
            .mint("x", "t", &[], None, Duration::from_secs(60))
            .unwrap();
        assert!(verifier.verify(&token).is_err());
    }
}
