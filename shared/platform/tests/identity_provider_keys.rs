//! User tokens as production deployments check them: with the identity
//! provider's public keys only, from a PEM file or a JWKS URL (served here
//! on loopback), chosen by `kid`, cached, and picked up again when the
//! provider rotates them.

use std::path::Path;
use std::time::Duration;

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use tonic::Code;
use twotier_platform::auth::{
    Claims, Jwks, JwksSettings, Role, Secret, TokenMinter, TokenVerifier, UserKeys,
};
use twotier_testkit::JwksServer;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// An identity provider's signing key (which twotier never holds).
struct ProviderKey {
    kid: &'static str,
    key: EncodingKey,
}

impl ProviderKey {
    fn new(kid: &'static str, private_pem: &str) -> Self {
        Self {
            kid,
            key: EncodingKey::from_rsa_pem(&fixture(private_pem)).unwrap(),
        }
    }

    fn jwk(&self) -> Jwk {
        let mut jwk = Jwk::from_encoding_key(&self.key, Algorithm::RS256).unwrap();
        jwk.common.key_id = Some(self.kid.to_owned());
        jwk
    }

    /// A token for `subject` at Contoso, with or without the key id.
    fn token(&self, subject: &str, with_kid: bool) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = with_kid.then(|| self.kid.to_owned());
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: subject.into(),
            tid: "contoso".into(),
            roles: vec!["GlobalAdmin".into()],
            iss: twotier_testkit::ISSUER.into(),
            aud: twotier_testkit::AUDIENCE.into(),
            exp: now + 600,
            nbf: None,
            iat: Some(now),
            email: None,
        };
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
    }
}

fn key_set(keys: &[&ProviderKey]) -> String {
    serde_json::to_string(&JwkSet {
        keys: keys.iter().map(|key| key.jwk()).collect(),
    })
    .unwrap()
}

fn jwks_verifier(url: String, refresh_interval: Duration) -> TokenVerifier {
    jwks_verifier_refetching(url, refresh_interval, Duration::ZERO)
}

fn jwks_verifier_refetching(
    url: String,
    refresh_interval: Duration,
    min_refetch_interval: Duration,
) -> TokenVerifier {
    let jwks = Jwks::new(JwksSettings {
        url,
        refresh_interval,
        min_refetch_interval,
        timeout: Duration::from_secs(2),
    })
    .unwrap();
    TokenVerifier::new(
        UserKeys::Jwks(std::sync::Arc::new(jwks)),
        &twotier_testkit::service_secret(),
        twotier_testkit::rules(),
    )
}

#[tokio::test]
async fn jwks_keys_are_chosen_by_kid_fetched_once_and_refetched_when_the_provider_rotates() {
    let a = ProviderKey::new("a", "rs256-test-private.pem");
    let b = ProviderKey::new("b", "rs256-other-private.pem");
    let provider = JwksServer::start(&key_set(&[&a])).await;
    let verifier = jwks_verifier(provider.url(), Duration::from_secs(3600));

    let caller = verifier.verify(&a.token("alice", true)).await.unwrap();
    assert_eq!(caller.tenant_id, "contoso");
    verifier.verify(&a.token("bob", true)).await.unwrap();
    verifier.verify(&a.token("carol", false)).await.unwrap();
    assert_eq!(provider.fetches(), 1, "the key set is cached");

    // Rotation: the provider adds key b and signs with it.
    provider.publish(&key_set(&[&a, &b]));
    verifier.verify(&b.token("alice", true)).await.unwrap();
    assert_eq!(
        provider.fetches(),
        2,
        "an unknown kid fetches the set again"
    );
    let ambiguous = verifier.verify(&a.token("dave", false)).await.unwrap_err();
    assert_eq!(tonic::Status::from(ambiguous).code(), Code::Unauthenticated);

    // A key id the provider never published is refused.
    let stranger = ProviderKey::new("c", "rs256-other-private.pem");
    let refused = verifier
        .verify(&stranger.token("mallory", true))
        .await
        .unwrap_err();
    assert_eq!(tonic::Status::from(refused).code(), Code::Unauthenticated);
}

#[tokio::test]
async fn a_key_the_provider_retired_stops_verifying_and_an_unreachable_provider_is_transient() {
    let a = ProviderKey::new("a", "rs256-test-private.pem");
    let b = ProviderKey::new("b", "rs256-other-private.pem");
    let provider = JwksServer::start(&key_set(&[&a, &b])).await;
    // Keys are always considered stale: every check consults the provider.
    let verifier = jwks_verifier(provider.url(), Duration::ZERO);
    let token_a = a.token("alice", true);
    verifier.verify(&token_a).await.unwrap();

    provider.publish(&key_set(&[&b]));
    let retired = verifier.verify(&token_a).await.unwrap_err();
    assert_eq!(
        tonic::Status::from(retired).code(),
        Code::Unauthenticated,
        "a token verified under the old key set is checked again"
    );

    // The provider goes down: cached keys keep working, nothing else does,
    // and that is answered as transient.
    provider.set_down(true);
    verifier.verify(&b.token("bob", true)).await.unwrap();
    let down = verifier.verify(&a.token("carol", true)).await.unwrap_err();
    assert_eq!(tonic::Status::from(down).code(), Code::Unavailable);
}

/// A pod started while its identity provider is down: every valid token is
/// answered as transient until a fetch succeeds, not only the one call
/// that tried, and never as a bad token.
#[tokio::test]
async fn while_the_provider_has_never_been_reached_every_call_is_transient() {
    let a = ProviderKey::new("a", "rs256-test-private.pem");
    let provider = JwksServer::start(&key_set(&[&a])).await;
    provider.set_down(true);
    let verifier = jwks_verifier_refetching(
        provider.url(),
        Duration::from_secs(3600),
        Duration::from_secs(3600),
    );
    for subject in ["alice", "bob", "carol"] {
        let down = verifier.verify(&a.token(subject, true)).await.unwrap_err();
        assert_eq!(
            tonic::Status::from(down).code(),
            Code::Unavailable,
            "{subject}"
        );
    }
}

/// A key set larger than any real one is not read into memory: the fetch
/// fails (transient), and nothing is installed.
#[tokio::test]
async fn an_oversized_key_set_is_refused_as_a_failed_fetch() {
    let a = ProviderKey::new("a", "rs256-test-private.pem");
    let padding = "x".repeat(300 * 1024);
    let provider = JwksServer::start(&format!("{{\"keys\":[],\"padding\":\"{padding}\"}}")).await;
    let verifier = jwks_verifier(provider.url(), Duration::from_secs(3600));
    let refused = verifier.verify(&a.token("alice", true)).await.unwrap_err();
    assert_eq!(tonic::Status::from(refused).code(), Code::Unavailable);
}

#[tokio::test]
async fn a_public_key_file_verifies_its_pair_and_refuses_other_keys_and_algorithm_confusion() {
    let verifier = TokenVerifier::new(
        UserKeys::PublicKey(
            jsonwebtoken::DecodingKey::from_rsa_pem(&fixture("rs256-test-public.pem")).unwrap(),
        ),
        &twotier_testkit::service_secret(),
        twotier_testkit::rules(),
    );
    let pair = ProviderKey::new("a", "rs256-test-private.pem");
    let caller = verifier.verify(&pair.token("alice", false)).await.unwrap();
    assert_eq!(caller.roles, vec![Role::GlobalAdmin]);

    let other = ProviderKey::new("a", "rs256-other-private.pem");
    assert!(verifier.verify(&other.token("alice", false)).await.is_err());

    // HS256 with the public key as the secret (algorithm confusion).
    let confused = TokenMinter::new(
        &Secret::new("public key", fixture("rs256-test-public.pem")).unwrap(),
        twotier_testkit::ISSUER,
        twotier_testkit::AUDIENCE,
    )
    .mint(
        "alice",
        "contoso",
        &[Role::GlobalAdmin],
        None,
        Duration::from_secs(60),
    )
    .unwrap();
    assert!(verifier.verify(&confused).await.is_err());
}
