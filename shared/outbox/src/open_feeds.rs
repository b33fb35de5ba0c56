//! How many tenant feeds (R30) each tenant holds open at once.
//!
//! A subscription outlives the admission of the call that opened it, and
//! each one polls the database on every commit: without a bound, one
//! `Integration` token could open streams until the pool and the
//! connection slots are gone for everyone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use twotier_platform::Error;

/// Feeds one tenant may hold open at once on one process.
pub const MAX_FEEDS_PER_TENANT: usize = 8;

/// The open tenant feeds of one log server.
#[derive(Clone, Default)]
pub struct OpenFeeds {
    open: Arc<Mutex<HashMap<String, usize>>>,
}

/// One open feed of a tenant; closing it (dropping this) frees its place.
pub struct FeedPermit {
    tenant: String,
    feeds: OpenFeeds,
}

impl OpenFeeds {
    /// A place for one more feed of `tenant`, unless it holds
    /// [`MAX_FEEDS_PER_TENANT`] already.
    pub fn open(&self, tenant: &str) -> Result<FeedPermit, Error> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(tenant.to_owned()).or_default();
        if *count >= MAX_FEEDS_PER_TENANT {
            return Err(Error::ResourceExhausted {
                reason: "TOO_MANY_SUBSCRIPTIONS",
                message: format!(
                    "this tenant holds {MAX_FEEDS_PER_TENANT} subscriptions open already; close one first"
                ),
            });
        }
        *count += 1;
        Ok(FeedPermit {
            tenant: tenant.to_owned(),
            feeds: self.clone(),
        })
    }
}

impl Drop for FeedPermit {
    fn drop(&mut self) {
        let mut open = self
            .feeds
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.tenant) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.tenant);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_holds_at_most_the_maximum_and_a_closed_feed_frees_its_place() {
        let feeds = OpenFeeds::default();
        let held: Vec<_> = (0..MAX_FEEDS_PER_TENANT)
            .map(|_| feeds.open("contoso").expect("within the maximum"))
            .collect();
        assert!(feeds.open("contoso").is_err());
        assert!(
            feeds.open("northwind").is_ok(),
            "another tenant's own count"
        );
        drop(held);
        assert!(feeds.open("contoso").is_ok());
        assert!(feeds.open.lock().unwrap().get("northwind").is_none());
    }
}
