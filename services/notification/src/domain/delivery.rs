//! The delivery of one email: pending until the mail system accepts it
//! (sent) or refuses it for good (failed). A temporary refusal counts an
//! attempt and waits a growing, capped backoff before the next; nothing is
//! given up on for being slow. A dispatcher leases the email it sends, so
//! another replica does not send it too, and the lease running out is what
//! lets another replica take over after a crash.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::{AttemptOutcome, DeliveryError, Status};

/// The wait after the first failed attempt; each further one doubles it.
pub const FIRST_RETRY: Duration = Duration::from_millis(200);
/// Doublings stop here (200 ms × 2^16 ≈ 3.6 h), whatever the cap.
const MAX_DOUBLINGS: u32 = 16;

/// How long to wait after a temporarily failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    max: Duration,
}

impl Backoff {
    /// [`FIRST_RETRY`], doubling per attempt, never more than `max`.
    pub fn capped_at(max: Duration) -> Self {
        Self { max }
    }

    /// The wait after attempt number `attempt` (1 for the first) failed.
    pub fn after(self, attempt: i32) -> Duration {
        let doublings = u32::try_from(attempt.saturating_sub(1))
            .unwrap_or(0)
            .min(MAX_DOUBLINGS);
        FIRST_RETRY
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.max)
    }
}

/// What the mail system said to one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It took the email.
    Delivered,
    /// Try again later (server down, 4xx reply, disk full).
    Transient(String),
    /// It will never work (5xx reply, malformed address).
    Permanent(String),
}

/// Where one email's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Pending, sent or failed.
    pub status: Status,
    /// Attempts started so far: a claim starts one, so an attempt cut off by
    /// a crash or a database outage still counts.
    pub attempts: i32,
    /// When the next attempt is due.
    pub next_attempt_at: DateTime<Utc>,
    /// Until when a dispatcher owns it, if one took it.
    pub lease_until: Option<DateTime<Utc>>,
}

/// An attempt's result, to be recorded with the attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The delivery after the attempt.
    pub delivery: Delivery,
    /// How the attempt ended.
    pub outcome: AttemptOutcome,
    /// Its error text; empty when delivered.
    pub error: String,
    /// When the attempt was made.
    pub attempted_at: DateTime<Utc>,
    /// When it was sent, if it was.
    pub sent_at: Option<DateTime<Utc>>,
}

impl Settled {
    /// Whether the attempt counts only if no other dispatcher settled the
    /// same attempt meanwhile (its lease ran out mid-send): true for a
    /// failure, which a later try supersedes; a delivery always counts,
    /// since the email did go out.
    pub fn needs_attempt_unchanged(&self) -> bool {
        self.outcome != AttemptOutcome::Delivered
    }
}

impl Delivery {
    /// A new email: pending, due `now`, nobody's.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            status: Status::Pending,
            attempts: 0,
            next_attempt_at: now,
            lease_until: None,
        }
    }

    /// Whether a dispatcher still owns it at `now`.
    pub fn is_leased(&self, now: DateTime<Utc>) -> bool {
        self.lease_until.is_some_and(|until| until >= now)
    }

    /// Whether a handover starting at `now` and taking at most `handover`
    /// ends while the lease still holds: otherwise another dispatcher
    /// could claim the email mid-send and send it too.
    pub fn may_hand_over(&self, now: DateTime<Utc>, handover: Duration) -> bool {
        self.is_leased(now + delta(handover))
    }

    /// Whether a dispatcher may take it at `now`: pending, its backoff
    /// over, and no live lease.
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.status == Status::Pending && self.next_attempt_at <= now && !self.is_leased(now)
    }

    /// Takes it for `lease` from `now`, so no other dispatcher sends it
    /// until then, and starts the next attempt: it is counted now, before
    /// the email goes out, so a dispatcher that dies mid-send still leaves
    /// a truthful count (an email sent twice shows two attempts).
    pub fn claim(&self, now: DateTime<Utc>, lease: Duration) -> Result<Delivery, DeliveryError> {
        if !self.is_due(now) {
            return Err(DeliveryError::NotDue);
        }
        Ok(Delivery {
            attempts: self.attempts.saturating_add(1),
            lease_until: Some(now + delta(lease)),
            ..*self
        })
    }

    /// The attempt this claim started, made at `now`, ended with
    /// `outcome`: sent, failed for good, or pending again after `backoff`;
    /// the lease ends.
    pub fn settle(
        &self,
        outcome: Outcome,
        now: DateTime<Utc>,
        backoff: Backoff,
    ) -> Result<Settled, DeliveryError> {
        if self.status != Status::Pending {
            return Err(DeliveryError::AlreadySettled);
        }
        let attempts = self.attempts;
        let (status, outcome, error) = match outcome {
            Outcome::Delivered => (Status::Sent, AttemptOutcome::Delivered, String::new()),
            Outcome::Transient(error) => (Status::Pending, AttemptOutcome::TransientFailure, error),
            Outcome::Permanent(error) => (Status::Failed, AttemptOutcome::PermanentFailure, error),
        };
        Ok(Settled {
            delivery: Delivery {
                status,
                attempts,
                next_attempt_at: now + delta(backoff.after(attempts)),
                lease_until: None,
            },
            sent_at: (status == Status::Sent).then_some(now),
            attempted_at: now,
            outcome,
            error,
        })
    }
}

/// `duration` as a time delta; beyond chrono's range (centuries) as none.
fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const LEASE: Duration = Duration::from_secs(30);
    const BACKOFF: Duration = Duration::from_secs(60);

    fn start() -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + TimeDelta::days(20_000)
    }

    fn transient() -> Outcome {
        Outcome::Transient("421 try later".into())
    }

    #[test]
    fn a_handover_starts_only_if_the_lease_outlasts_it() {
        let now = start();
        let leased = Delivery::new(now).claim(now, LEASE).unwrap();
        let handover = Duration::from_secs(10);
        assert!(leased.may_hand_over(now, handover));
        assert!(leased.may_hand_over(now + TimeDelta::seconds(20), handover));
        // Still leased, but not for as long as a handover may take.
        assert!(leased.is_leased(now + TimeDelta::seconds(25)));
        assert!(!leased.may_hand_over(now + TimeDelta::seconds(25), handover));
        assert!(
            !Delivery::new(now).may_hand_over(now, handover),
            "never claimed"
        );
    }

    #[test]
    fn a_delivered_attempt_sends_it_and_counts() {
        let now = start();
        let settled = Delivery::new(now)
            .claim(now, LEASE)
            .unwrap()
            .settle(Outcome::Delivered, now, Backoff::capped_at(BACKOFF))
            .unwrap();
        assert_eq!(settled.delivery.status, Status::Sent);
        assert_eq!(settled.delivery.attempts, 1);
        assert_eq!(settled.sent_at, Some(now));
        assert_eq!(settled.outcome, AttemptOutcome::Delivered);
        assert!(settled.error.is_empty());
        assert!(
            !settled.needs_attempt_unchanged(),
            "a delivery always counts"
        );
    }

    #[test]
    fn a_temporary_failure_keeps_it_pending_until_its_backoff_is_over() {
        let now = start();
        let settled = Delivery::new(now)
            .claim(now, LEASE)
            .unwrap()
            .settle(transient(), now, Backoff::capped_at(BACKOFF))
            .unwrap();
        let after = settled.delivery;
        assert_eq!((after.status, after.attempts), (Status::Pending, 1));
        assert_eq!(settled.error, "421 try later");
        assert!(settled.needs_attempt_unchanged());
        assert!(!after.is_due(now + TimeDelta::milliseconds(199)));
        assert!(after.is_due(now + TimeDelta::milliseconds(200)));
    }

    #[test]
    fn a_permanent_failure_ends_it_and_nothing_settles_it_again() {
        let now = start();
        let failed = Delivery::new(now)
            .claim(now, LEASE)
            .unwrap()
            .settle(
                Outcome::Permanent("550 no such user".into()),
                now,
                Backoff::capped_at(BACKOFF),
            )
            .unwrap()
            .delivery;
        assert_eq!(failed.status, Status::Failed);
        assert!(!failed.is_due(now + TimeDelta::days(1)));
        let again = failed.settle(Outcome::Delivered, now, Backoff::capped_at(BACKOFF));
        assert_eq!(again, Err(DeliveryError::AlreadySettled));
    }

    #[test]
    fn a_leased_email_is_nobody_elses_until_the_lease_runs_out() {
        let now = start();
        let leased = Delivery::new(now).claim(now, LEASE).unwrap();
        assert_eq!(leased.claim(now, LEASE), Err(DeliveryError::NotDue));
        let expiry = now + TimeDelta::seconds(30);
        assert!(
            !leased.is_due(expiry),
            "still leased at the instant it expires"
        );
        let later = expiry + TimeDelta::milliseconds(1);
        assert!(
            leased.claim(later, LEASE).is_ok(),
            "a crashed dispatcher's email is taken over"
        );
    }

    #[test]
    fn an_attempt_cut_off_mid_send_still_counts_when_another_takes_over() {
        let now = start();
        let first = Delivery::new(now).claim(now, LEASE).unwrap();
        assert_eq!(first.attempts, 1, "counted before the email goes out");
        // The first dispatcher dies; its lease runs out and another claims.
        let later = now + TimeDelta::seconds(31);
        let second = first.claim(later, LEASE).unwrap();
        let settled = second
            .settle(Outcome::Delivered, later, Backoff::capped_at(BACKOFF))
            .unwrap();
        assert_eq!(settled.delivery.attempts, 2, "both sends are counted");
        assert_eq!(settled.delivery.status, Status::Sent);
    }

    #[test]
    fn the_backoff_starts_at_200_ms_doubles_and_stops_at_the_cap() {
        let backoff = Backoff::capped_at(Duration::from_secs(1));
        let waits: Vec<_> = (1..=5).map(|n| backoff.after(n).as_millis()).collect();
        assert_eq!(waits, [200, 400, 800, 1000, 1000]);
        assert_eq!(backoff.after(0), FIRST_RETRY);
        assert_eq!(backoff.after(i32::MAX), Duration::from_secs(1));
    }

    #[derive(Debug, Clone)]
    enum Step {
        Wait(i64),
        Claim,
        Settle(Outcome),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0i64..120_000).prop_map(Step::Wait),
            Just(Step::Claim),
            Just(Step::Settle(Outcome::Delivered)),
            Just(Step::Settle(transient())),
            Just(Step::Settle(transient())),
            Just(Step::Settle(Outcome::Permanent("550".into()))),
        ]
    }

    proptest! {
        #[test]
        fn attempts_never_decrease_and_a_settled_email_never_goes_back_to_pending(
            steps in proptest::collection::vec(step(), 0..40),
            cap_ms in 1u64..600_000,
        ) {
            let backoff = Backoff::capped_at(Duration::from_millis(cap_ms));
            let mut now = start();
            let mut delivery = Delivery::new(now);
            for step in steps {
                let before = delivery;
                match step {
                    Step::Wait(ms) => now += TimeDelta::milliseconds(ms),
                    Step::Claim => match before.claim(now, LEASE) {
                        Ok(leased) => {
                            prop_assert!(before.is_due(now));
                            prop_assert!(!leased.is_due(now), "a claimed email is not due to others");
                            prop_assert_eq!(leased.attempts, before.attempts + 1, "a claim starts an attempt");
                            delivery = leased;
                        }
                        Err(refused) => {
                            prop_assert_eq!(refused, DeliveryError::NotDue);
                            prop_assert!(!before.is_due(now));
                        }
                    },
                    Step::Settle(outcome) => match before.settle(outcome, now, backoff) {
                        Ok(settled) => {
                            prop_assert_eq!(before.status, Status::Pending);
                            prop_assert_eq!(settled.delivery.attempts, before.attempts, "settling counts nothing more");
                            prop_assert_eq!(settled.delivery.lease_until, None);
                            prop_assert_eq!(settled.sent_at.is_some(), settled.delivery.status == Status::Sent);
                            let wait = settled.delivery.next_attempt_at - now;
                            prop_assert!(wait >= TimeDelta::zero());
                            prop_assert!(wait <= delta(backoff.after(settled.delivery.attempts)));
                            delivery = settled.delivery;
                        }
                        Err(refused) => {
                            prop_assert_eq!(refused, DeliveryError::AlreadySettled);
                            prop_assert_ne!(before.status, Status::Pending);
                        }
                    },
                }
                prop_assert!(delivery.attempts >= before.attempts, "attempts never decrease");
                if before.status != Status::Pending {
                    prop_assert_eq!(delivery.status, before.status, "sent or failed stays so");
                }
            }
        }

        #[test]
        fn the_backoff_grows_with_the_attempts_and_is_capped(
            cap_ms in 1u64..100_000_000,
            attempt in 0i32..1_000,
            more in 0i32..1_000,
        ) {
            let cap = Duration::from_millis(cap_ms);
            let backoff = Backoff::capped_at(cap);
            let (earlier, later) = (backoff.after(attempt), backoff.after(attempt + more));
            prop_assert!(earlier <= later);
            prop_assert!(later <= cap);
            prop_assert!(backoff.after(attempt + 1) <= earlier.saturating_mul(2).max(FIRST_RETRY.min(cap)));
            prop_assert_eq!(backoff.after(1), FIRST_RETRY.min(cap));
        }
    }
}
