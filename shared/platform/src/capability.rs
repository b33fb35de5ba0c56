//! Capability tokens: the secret in a personal link (an invitation to
//! partner, a customer's consent request). A token is derived from the
//! service secret and the resource it opens, so the services that share
//! the secret can reproduce it when they need it (the mailer writing the
//! email, a retried create answering with the same link) and nothing has
//! to keep it: the database stores only its hash, events and stored
//! replies carry [`TOKEN_MARKER`] in its place.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Digest;

/// What the capability key is derived for (see [`crate::startup::Identity::derive_key`]).
pub const CAPABILITY_KEY_PURPOSE: &str = "twotier capability links v1";

/// Stands for a capability token in text that is stored or published: the
/// service that sends the text puts the token back when it sends it.
pub const TOKEN_MARKER: &str = "[[twotier:link-token]]";

/// Derives and recognises capability tokens.
#[derive(Clone)]
pub struct CapabilityTokens {
    key: [u8; 32],
}

impl std::fmt::Debug for CapabilityTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CapabilityTokens(<key redacted>)")
    }
}

impl CapabilityTokens {
    /// Tokens keyed by `key` (derived from the service secret for
    /// [`CAPABILITY_KEY_PURPOSE`]).
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// The token of resource `id` of `kind` (e.g. `invitation`): 256 bits,
    /// URL-safe, 43 characters; unguessable without the key.
    pub fn token(&self, kind: &str, id: &str) -> String {
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&self.key) else {
            unreachable!("HMAC accepts keys of any length");
        };
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(id.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The stored form of a token: its SHA-256, hex. A token is found by
    /// its hash, so a leaked table does not leak usable links.
    pub fn hash(token: &str) -> String {
        let digest = sha2::Sha256::digest(token.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// `text` with every occurrence of `token` replaced by [`TOKEN_MARKER`].
pub fn seal(text: &str, token: &str) -> String {
    text.replace(token, TOKEN_MARKER)
}

/// `text` with [`TOKEN_MARKER`] replaced by `token` again.
pub fn unseal(text: &str, token: &str) -> String {
    text.replace(TOKEN_MARKER, token)
}

/// `reply` as it may be stored for retries: `token` replaced by the marker
/// in every text `texts` names (a link, a draft holding it).
pub fn seal_reply<R: Clone>(
    reply: &R,
    token: &str,
    texts: impl Fn(&mut R) -> Vec<&mut String>,
) -> R {
    let mut sealed = reply.clone();
    for text in texts(&mut sealed) {
        *text = seal(text, token);
    }
    sealed
}

/// A stored `reply` with `token` put back in every text `texts` names; a
/// reply without the marker is unchanged.
pub fn unseal_reply<R>(mut reply: R, token: &str, texts: impl Fn(&mut R) -> Vec<&mut String>) -> R {
    for text in texts(&mut reply) {
        *text = unseal(text, token);
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stable_per_resource_distinct_across_resources_kinds_and_keys() {
        let tokens = CapabilityTokens::new([1; 32]);
        let a = tokens.token("invitation", "a");
        assert_eq!(a.len(), 43);
        assert_eq!(a, tokens.token("invitation", "a"));
        assert_ne!(a, tokens.token("invitation", "b"));
        assert_ne!(a, tokens.token("relationship", "a"));
        assert_ne!(a, CapabilityTokens::new([2; 32]).token("invitation", "a"));
        assert_eq!(CapabilityTokens::hash(&a).len(), 64);
    }

    #[test]
    fn sealed_text_holds_the_marker_and_unseals_to_the_original() {
        let text = "open https://x.example/accept?token=abc and again abc";
        let sealed = seal(text, "abc");
        assert!(!sealed.contains("abc"));
        assert_eq!(unseal(&sealed, "abc"), text);
    }
}
