//! R11: the credentials of a new customer's administrator, returned once.
//! The temporary password has 16 characters from a cryptographically secure
//! generator, with upper and lower case letters, digits and symbols.
//! twotier keeps no copy or verifier: it is not the customer's identity
//! provider.

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};

use super::customer::Customer;

const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const DIGITS: &[u8] = b"23456789";
const SYMBOLS: &[u8] = b"!@#$%&*?-_+=";
const LENGTH: usize = 16;

/// The first sign-in of a new customer's administrator.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminCredentials {
    /// `admin@<initial domain>`.
    pub user_name: String,
    /// A fresh temporary password.
    pub temporary_password: String,
}

impl AdminCredentials {
    /// New credentials for the administrator of `customer`.
    pub fn issue(customer: &Customer) -> Self {
        Self {
            user_name: format!("admin@{}", customer.domain()),
            temporary_password: temporary_password(),
        }
    }
}

impl std::fmt::Debug for AdminCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password is a live secret: never in logs.
        f.debug_struct("AdminCredentials")
            .field("user_name", &self.user_name)
            .finish_non_exhaustive()
    }
}

fn temporary_password() -> String {
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
    use chrono::Utc;

    use super::*;
    use crate::domain::customer::tests::new_customer;

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

    #[test]
    fn the_administrator_signs_in_at_the_initial_domain_and_debug_hides_the_password() {
        let customer = new_customer("contoso", None)
            .create("alice", Utc::now(), None)
            .unwrap()
            .customer;
        let credentials = AdminCredentials::issue(&customer);
        assert_eq!(credentials.user_name, "admin@adatum.onmicrosoft.com");
        assert_ne!(
            credentials.temporary_password,
            AdminCredentials::issue(&customer).temporary_password
        );
        assert!(!format!("{credentials:?}").contains(&credentials.temporary_password));
    }
}
