//! The identity provider's public keys from its JWKS URL: fetched on first
//! use, cached, refreshed periodically and whenever a token names a key id
//! the cache does not know (the provider rotated its keys). A provider that
//! cannot be reached leaves the last good keys in use.

use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

/// Where and how often the key set is fetched.
#[derive(Debug, Clone)]
pub struct JwksSettings {
    /// The JWKS URL, e.g. `https://login.example.com/.well-known/jwks.json`.
    pub url: String,
    /// Keys older than this are fetched again before use.
    pub refresh_interval: Duration,
    /// An unknown key id triggers a fetch at most this often, so a flood of
    /// tokens with made-up key ids cannot turn into a flood of fetches.
    pub min_refetch_interval: Duration,
    /// Longest a fetch may take.
    pub timeout: Duration,
}

/// Why no key was found for a token.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// No key of the set has the token's key id and algorithm.
    #[error("the token is signed with a key the identity provider does not publish")]
    UnknownKey,
    /// The key set could not be fetched and no cached key fits.
    #[error("the identity provider's keys cannot be fetched: {0}")]
    Unavailable(String),
}

struct Key {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

#[derive(Default)]
struct Cached {
    keys: Vec<Key>,
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
    /// Why the last fetch failed; none once one succeeded.
    failure: Option<String>,
}

/// Largest key set accepted: a few keys take a few kilobytes, and the
/// body is read into memory before it is parsed.
const MAX_KEY_SET_BYTES: usize = 256 * 1024;

/// Why the key set could not be fetched.
#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    #[error("the key set is larger than {MAX_KEY_SET_BYTES} bytes")]
    TooLarge,
    #[error("the key set is not a JWKS: {0}")]
    NotAKeySet(#[from] serde_json::Error),
}

/// A cached JWKS.
pub struct Jwks {
    settings: JwksSettings,
    client: reqwest::Client,
    cached: RwLock<Cached>,
    fetching: tokio::sync::Mutex<()>,
    generation: AtomicU64,
}

impl Jwks {
    /// A key set fetched from `settings.url` on first use.
    pub fn new(settings: JwksSettings) -> Result<Self, reqwest::Error> {
        // A redirect could lead a fetch anywhere, plaintext included: the
        // configured URL is the one trusted.
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            settings,
            client,
            cached: RwLock::new(Cached::default()),
            fetching: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
        })
    }

    /// Changes whenever the key set changes: tokens verified under an older
    /// generation are verified again.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The key that verifies a token with key id `kid` and algorithm `alg`.
    pub async fn key(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<(DecodingKey, Algorithm), KeyError> {
        let lookup = self.lookup(kid, alg);
        if let Some(found) = lookup.usable() {
            return Ok(found);
        }
        let _one_fetch_at_a_time = self.fetching.lock().await;
        let lookup = self.lookup(kid, alg);
        if let Some(found) = lookup.usable() {
            return Ok(found);
        }
        if !lookup.may_fetch {
            // While the provider cannot be reached, a key not in the cache
            // may be one it has published since: the token is not at
            // fault, and hears so.
            return lookup.found.ok_or(match lookup.failure {
                Some(failure) => KeyError::Unavailable(failure),
                None => KeyError::UnknownKey,
            });
        }
        match self.fetch().await {
            Ok(keys) => {
                self.install(keys);
                self.lookup(kid, alg).found.ok_or(KeyError::UnknownKey)
            }
            Err(error) => {
                let mut cached = self.write();
                cached.attempted_at = Some(Instant::now());
                cached.failure = Some(error.to_string());
                drop(cached);
                tracing::warn!(url = %self.settings.url, %error, "cannot fetch the identity provider's keys");
                lookup
                    .found
                    .ok_or_else(|| KeyError::Unavailable(error.to_string()))
            }
        }
    }

    fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Lookup {
        let cached = self
            .cached
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let fresh = cached
            .fetched_at
            .is_some_and(|at| now.duration_since(at) < self.settings.refresh_interval);
        let may_fetch = cached
            .attempted_at
            .is_none_or(|at| now.duration_since(at) >= self.settings.min_refetch_interval);
        let mut candidates = cached.keys.iter().filter(|key| key.algorithm == alg);
        let found = match kid {
            Some(kid) => candidates.find(|key| key.kid.as_deref() == Some(kid)),
            // Without a key id only an unambiguous key may be used.
            None => match (candidates.next(), candidates.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            },
        };
        Lookup {
            found: found.map(|key| (key.key.clone(), key.algorithm)),
            fresh,
            may_fetch,
            failure: cached.failure.clone(),
        }
    }

    fn install(&self, keys: Vec<Key>) {
        let mut cached = self.write();
        let now = Instant::now();
        cached.keys = keys;
        cached.fetched_at = Some(now);
        cached.attempted_at = Some(now);
        cached.failure = None;
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Cached> {
        self.cached
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn fetch(&self) -> Result<Vec<Key>, FetchError> {
        let mut response = self
            .client
            .get(&self.settings.url)
            .send()
            .await?
            .error_for_status()?;
        if response
            .content_length()
            .is_some_and(|length| length > MAX_KEY_SET_BYTES as u64)
        {
            return Err(FetchError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_KEY_SET_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        let set: JwkSet = serde_json::from_slice(&body)?;
        let keys: Vec<Key> = set.keys.iter().filter_map(signing_key).collect();
        tracing::info!(url = %self.settings.url, keys = keys.len(), "fetched the identity provider's keys");
        Ok(keys)
    }
}

struct Lookup {
    found: Option<(DecodingKey, Algorithm)>,
    fresh: bool,
    may_fetch: bool,
    failure: Option<String>,
}

impl Lookup {
    /// The key, if it can be used without fetching first: found in a fresh
    /// set, or found while a fetch is not allowed yet.
    fn usable(&self) -> Option<(DecodingKey, Algorithm)> {
        if self.fresh || !self.may_fetch {
            return self.found.clone();
        }
        None
    }
}

/// A JWK usable to verify signatures, or `None`. Symmetric keys are never
/// taken from a key set: a published secret is no secret.
fn signing_key(jwk: &Jwk) -> Option<Key> {
    if matches!(
        jwk.common.public_key_use,
        Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
    ) {
        return None;
    }
    let inferred = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Algorithm::ES256,
            EllipticCurve::P384 => Algorithm::ES384,
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
        _ => return None,
    };
    let algorithm = match jwk.common.key_algorithm {
        Some(declared) => Algorithm::try_from(declared).ok()?,
        None => inferred,
    };
    if matches!(
        algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    ) {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(Key {
        kid: jwk.common.key_id.clone(),
        algorithm,
        key,
    })
}
