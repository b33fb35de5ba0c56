//! Invitation tokens: 256 bits from a cryptographically secure generator
//! (`rand`'s thread-local ChaCha, seeded by the operating system), stored
//! only as their SHA-256 hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::Digest;

/// A new token, URL-safe (43 characters).
pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of `token`.
pub(crate) fn hash(token: &str) -> String {
    let digest = sha2::Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The link a reseller opens to accept.
pub(crate) fn link(base: &str, token: &str) -> String {
    format!("{base}?token={token}")
}

/// Every token that appears as `token=<value>` in `text`.
pub(crate) fn tokens_in(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices("token=").map(move |(at, key)| {
        let rest = &text[at + key.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(rest.len());
        &rest[..end]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_distinct_and_found_in_text() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        let body = format!(
            "Hello,\nplease open {}.\nThanks",
            link("https://x.example/accept", &a)
        );
        assert_eq!(tokens_in(&body).collect::<Vec<_>>(), vec![a.as_str()]);
        assert_eq!(hash(&a).len(), 64);
    }
}
