//! Per-key rate limits (one provider's invitation emails, say), refused
//! with `RESOURCE_EXHAUSTED` and the time after which a retry will pass.
//! Each replica counts on its own, so a deployment of n replicas allows up
//! to n times the rate; the limit is against abuse, not for billing.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::Error;

/// A rate limit per key.
pub struct RateLimit {
    limiter: DefaultKeyedRateLimiter<String>,
    reason: &'static str,
    what: &'static str,
}

impl RateLimit {
    /// At most `per_minute` events per key and minute, in bursts of up to
    /// that many; refusals carry `reason` and name `what` is limited.
    pub fn per_minute(per_minute: u32, reason: &'static str, what: &'static str) -> Self {
        let rate = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(rate)),
            reason,
            what,
        }
    }

    /// Counts one event of `key`, or refuses it.
    pub fn check(&self, key: &str) -> Result<(), Error> {
        self.limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| {
                let retry_after = not_until.wait_time_from(DefaultClock::default().now());
                Error::RateLimited {
                    reason: self.reason,
                    message: format!(
                        "too many {} for {key}; retry in {} s",
                        self.what,
                        retry_after.as_secs().max(1)
                    ),
                    retry_after,
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_gets_its_own_budget_and_refusals_say_when_to_retry() {
        let limit = RateLimit::per_minute(2, "TOO_MANY", "things");
        assert!(limit.check("a").is_ok());
        assert!(limit.check("a").is_ok());
        let refused = limit.check("a").unwrap_err();
        assert!(
            matches!(refused, Error::RateLimited { retry_after, .. } if retry_after.as_secs() <= 30)
        );
        assert!(limit.check("b").is_ok(), "another key is not affected");
    }
}
