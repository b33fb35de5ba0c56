//! Checking bearer tokens (RFC 8725): user tokens with the identity
//! provider's public keys, service tokens with the service key, and the
//! trust rules between them. A token that fails any check is refused with
//! a message saying which check, never the library's words.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde::Deserialize;

use super::claims::{Claims, SERVICE_ISSUER, SERVICE_TENANT};
use super::jwks::{Jwks, KeyError};
use super::minting::service_key;
use super::{Caller, Role, Secret};
use crate::error::Error;

/// Where the identity provider's verification keys come from. None of
/// them can sign a token.
pub enum UserKeys {
    /// A shared HS256 secret: development and tests only.
    SharedSecret(Secret),
    /// The provider's RS256 public key (PEM).
    PublicKey(DecodingKey),
    /// The provider's JWKS URL.
    Jwks(Arc<Jwks>),
}

impl UserKeys {
    async fn key_for(&self, header: &Header) -> Result<(DecodingKey, Algorithm), Error> {
        match self {
            UserKeys::SharedSecret(secret) => {
                Ok((DecodingKey::from_secret(secret.expose()), Algorithm::HS256))
            }
            UserKeys::PublicKey(key) => Ok((key.clone(), Algorithm::RS256)),
            UserKeys::Jwks(jwks) => {
                jwks.key(header.kid.as_deref(), header.alg)
                    .await
                    .map_err(|error| match error {
                        KeyError::UnknownKey => invalid(error.to_string()),
                        KeyError::Unavailable(_) => Error::Unavailable {
                            reason: "IDENTITY_PROVIDER_UNAVAILABLE",
                            message: "the identity provider's keys cannot be fetched; retry later"
                                .into(),
                        },
                    })
            }
        }
    }

    fn generation(&self) -> u64 {
        match self {
            UserKeys::Jwks(jwks) => jwks.generation(),
            _ => 0,
        }
    }
}

/// What user tokens must look like.
#[derive(Debug, Clone)]
pub struct TokenRules {
    /// Expected `iss` of user tokens.
    pub issuer: String,
    /// Expected `aud` of user tokens.
    pub audience: String,
    /// The only tenant whose tokens may carry `PlatformOperator`.
    pub platform_tenant: String,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
    /// Longest a user token may be valid (`exp - iat`, or `exp - now`
    /// without `iat`).
    pub max_lifetime: Duration,
}

/// Verified tokens remembered at once; a busy service sees far fewer
/// distinct tokens than calls.
const VERIFIED_CACHE: usize = 10_000;

/// Checks bearer tokens.
pub struct TokenVerifier {
    users: UserKeys,
    service_key: DecodingKey,
    rules: TokenRules,
    /// Token -> (caller, expiry, key generation). A signature check costs
    /// more than the rest of a read, so a token is verified once and then
    /// trusted until it expires or the keys that verified it change.
    verified: quick_cache::sync::Cache<String, (Caller, u64, u64)>,
}

impl TokenVerifier {
    /// A verifier of user tokens with `users` and of service tokens with
    /// the key derived from `service_secret`.
    pub fn new(users: UserKeys, service_secret: &Secret, rules: TokenRules) -> Self {
        Self {
            users,
            service_key: DecodingKey::from_secret(&service_key(service_secret)),
            rules,
            verified: quick_cache::sync::Cache::new(VERIFIED_CACHE),
        }
    }

    /// The rules user tokens are held to.
    pub fn rules(&self) -> &TokenRules {
        &self.rules
    }

    /// The caller of a call that presents `bearer`, and, when a service
    /// calls on someone's behalf, that someone's token `on_behalf_of`.
    pub async fn authenticate(
        &self,
        bearer: &str,
        on_behalf_of: Option<&str>,
    ) -> Result<Caller, Error> {
        let caller = self.verify(bearer).await?;
        let Some(original) = on_behalf_of else {
            return Ok(caller);
        };
        if !caller.has(Role::Service) {
            return Err(Error::PermissionDenied {
                reason: "ON_BEHALF_OF_NOT_ALLOWED",
                message: "only twotier services may call on behalf of another caller".into(),
            });
        }
        let mut user = self.verify(original).await?;
        if user.has(Role::Service) {
            return Err(Error::PermissionDenied {
                reason: "ON_BEHALF_OF_NOT_ALLOWED",
                message: "a service cannot call on behalf of another service".into(),
            });
        }
        user.via_service = Some(caller.subject);
        Ok(user)
    }

    /// Verifies one token, user or service.
    pub async fn verify(&self, token: &str) -> Result<Caller, Error> {
        let generation = self.users.generation();
        let now = jsonwebtoken::get_current_timestamp();
        if let Some((caller, exp, verified_under)) = self.verified.get(token)
            && now < exp + self.rules.leeway.as_secs()
            && verified_under == generation
        {
            return Ok(caller);
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| invalid("the bearer token is not a well-formed JWT"))?;
        if header.crit.as_ref().is_some_and(|crit| !crit.is_empty()) {
            return Err(invalid(
                "the bearer token names critical header extensions (crit) this service does not support",
            ));
        }
        let claims = if issuer_of(token)? == SERVICE_ISSUER {
            self.service_claims(token)?
        } else {
            self.user_claims(token, &header).await?
        };
        let exp = claims.exp;
        let caller = self.caller_of(claims, token)?;
        self.verified
            .insert(token.to_owned(), (caller.clone(), exp, generation));
        Ok(caller)
    }

    async fn user_claims(&self, token: &str, header: &Header) -> Result<Claims, Error> {
        let (key, algorithm) = self.users.key_for(header).await?;
        let claims = decode(
            token,
            &key,
            algorithm,
            &self.rules.issuer,
            &self.rules.audience,
            self.rules.leeway,
        )?;
        let now = jsonwebtoken::get_current_timestamp();
        let leeway = self.rules.leeway.as_secs();
        if claims.iat.is_some_and(|iat| iat > now + leeway) {
            return Err(invalid("the bearer token is issued in the future (iat)"));
        }
        let lifetime = claims
            .exp
            .saturating_sub(claims.iat.unwrap_or(now).min(now));
        if lifetime > self.rules.max_lifetime.as_secs() + leeway {
            return Err(invalid(format!(
                "the bearer token is valid for {lifetime} s, longer than the {} s this service accepts",
                self.rules.max_lifetime.as_secs()
            )));
        }
        Ok(claims)
    }

    fn service_claims(&self, token: &str) -> Result<Claims, Error> {
        let claims = decode(
            token,
            &self.service_key,
            Algorithm::HS256,
            SERVICE_ISSUER,
            SERVICE_ISSUER,
            self.rules.leeway,
        )?;
        if claims
            .roles
            .iter()
            .any(|role| role != Role::Service.as_str())
        {
            return Err(Error::PermissionDenied {
                reason: "ROLE_NOT_ALLOWED",
                message: "service tokens grant the Service role and nothing else".into(),
            });
        }
        Ok(claims)
    }

    /// The caller a verified token names, with the platform's trust rules
    /// applied: platform roles count only where the platform grants them.
    fn caller_of(&self, claims: Claims, token: &str) -> Result<Caller, Error> {
        if claims.sub.trim().is_empty() {
            return Err(invalid("the bearer token has an empty subject (sub)"));
        }
        if claims.tid.trim().is_empty() {
            return Err(invalid("the bearer token has no tenant (tid) claim"));
        }
        check_identity(&claims)?;
        let service = claims.iss == SERVICE_ISSUER;
        let roles: Vec<Role> = if service {
            vec![Role::Service]
        } else {
            claims.roles.iter().filter_map(|r| Role::parse(r)).collect()
        };
        // The services' tenant is where their own calls are admitted and
        // audited: a user of it would share (and could exhaust) their
        // fair share and pass for a service in the audit trail.
        if !service && claims.tid == SERVICE_TENANT {
            return Err(Error::PermissionDenied {
                reason: "TENANT_RESERVED",
                message: format!(
                    "the tenant {SERVICE_TENANT} is reserved for twotier's own services; user tokens of it are refused"
                ),
            });
        }
        if !service && roles.contains(&Role::Service) {
            return Err(Error::PermissionDenied {
                reason: "ROLE_NOT_ALLOWED",
                message: "the Service role is only valid in service tokens, not in user tokens"
                    .into(),
            });
        }
        if roles.contains(&Role::PlatformOperator) && claims.tid != self.rules.platform_tenant {
            return Err(Error::PermissionDenied {
                reason: "ROLE_NOT_ALLOWED",
                message: format!(
                    "the PlatformOperator role is only valid in tokens of the platform tenant, not of {}",
                    claims.tid
                ),
            });
        }
        Ok(Caller {
            subject: claims.sub,
            tenant_id: claims.tid,
            roles,
            email: claims.email,
            bearer: token.to_owned(),
            via_service: None,
        })
    }
}

/// Longest subject (`sub`) a token may carry: what the records of who did
/// what keep (`created_by`, `accepted_by`, ...).
const MAX_SUBJECT_CHARS: usize = 200;
/// Longest tenant id (`tid`): a DNS label, as tenant ids are stored.
const MAX_TENANT_CHARS: usize = 63;
/// Longest email address (`email`), as RFC 5321 bounds it.
const MAX_EMAIL_CHARS: usize = 254;

/// Refuses identities no record could hold, or whose line breaks and
/// control characters would forge lines in a log or an email header (or
/// whose direction overrides would show them reversed in the trail): a
/// verified token is the identity provider's word, not proof that its
/// values fit.
fn check_identity(claims: &Claims) -> Result<(), Error> {
    let fields = [
        ("subject (sub)", claims.sub.as_str(), MAX_SUBJECT_CHARS),
        ("tenant (tid)", claims.tid.as_str(), MAX_TENANT_CHARS),
        (
            "email",
            claims.email.as_deref().unwrap_or_default(),
            MAX_EMAIL_CHARS,
        ),
    ];
    for (claim, value, most) in fields {
        if value.chars().count() > most {
            return Err(invalid(format!(
                "the bearer token's {claim} is longer than {most} characters"
            )));
        }
        if value
            .chars()
            .any(|c| c.is_control() || crate::validate::overrides_direction(c))
        {
            return Err(invalid(format!(
                "the bearer token's {claim} holds control characters"
            )));
        }
    }
    Ok(())
}

/// The `iss` of a token, read before its signature is checked only to pick
/// the key that checks it: a forged issuer then fails that check.
fn issuer_of(token: &str) -> Result<String, Error> {
    #[derive(Deserialize)]
    struct Issuer {
        #[serde(default)]
        iss: String,
    }
    jsonwebtoken::dangerous::insecure_decode_claims::<Issuer>(token)
        .map(|claims| claims.iss)
        .map_err(|_| invalid("the bearer token is not a well-formed JWT"))
}

fn decode(
    token: &str,
    key: &DecodingKey,
    algorithm: Algorithm,
    issuer: &str,
    audience: &str,
    leeway: Duration,
) -> Result<Claims, Error> {
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = leeway.as_secs();
    jsonwebtoken::decode::<Claims>(token, key, &validation)
        .map(|data| data.claims)
        .map_err(|error| {
            tracing::debug!(%error, "token refused");
            invalid(refusal(error.kind()))
        })
}

/// Why a token was refused, in this service's words.
fn refusal(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "the bearer token has expired".into(),
        ErrorKind::ImmatureSignature => "the bearer token is not valid yet (nbf)".into(),
        ErrorKind::InvalidIssuer => "the bearer token has the wrong issuer (iss)".into(),
        ErrorKind::InvalidAudience => "the bearer token has the wrong audience (aud)".into(),
        ErrorKind::InvalidSignature => "the bearer token's signature does not verify".into(),
        ErrorKind::InvalidAlgorithm | ErrorKind::UnsupportedAlgorithm => {
            "the bearer token is signed with an algorithm this service does not accept".into()
        }
        ErrorKind::MissingRequiredClaim(claim) => {
            format!("the bearer token has no {claim} claim")
        }
        ErrorKind::InvalidClaimFormat(claim) => {
            format!("the bearer token's {claim} claim is malformed")
        }
        _ => "the bearer token is not a well-formed JWT".into(),
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::Unauthenticated {
        reason: "INVALID_TOKEN",
        message: message.into(),
    }
}
