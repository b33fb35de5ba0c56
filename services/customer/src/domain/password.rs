//! Temporary passwords for a new customer's administrator (R11): 16
//! characters from a cryptographically secure generator, with upper and
//! lower case letters, digits and symbols. twotier keeps no copy or
//! verifier: it is not the customer's identity provider.

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};

const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const DIGITS: &[u8] = b"23456789";
const SYMBOLS: &[u8] = b"!@#$%&*?-_+=";
const LENGTH: usize = 16;

/// A new temporary password.
pub(crate) fn temporary_password() -> String {
    // `rand::rng()` is a ChaCha CSPRNG seeded from the operating system.
    let mut rng = rand::rng();
    let classes = [UPPER, LOWER, DIGITS, SYMBOLS];
    let all: Vec<u8> = classes.concat();
    let mut chars: Vec<u8> = classes
        .iter()
        .filter_map(|class| class.choose(&mut rng).copied())
        .collect();
    while chars.len() < LENGTH {
        chars.push(all[rng.random_range(0..all.len())]);
    }
    chars.shuffle(&mut rng);
    String::from_utf8(chars).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_strong_and_distinct() {
        let a = temporary_password();
        let b = temporary_password();
        assert_eq!(a.len(), LENGTH);
        assert_ne!(a, b);
        assert!(a.bytes().any(|c| UPPER.contains(&c)));
        assert!(a.bytes().any(|c| LOWER.contains(&c)));
        assert!(a.bytes().any(|c| DIGITS.contains(&c)));
        assert!(a.bytes().any(|c| SYMBOLS.contains(&c)));
    }
}
