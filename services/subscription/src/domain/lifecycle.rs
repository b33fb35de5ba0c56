//! R26-R28: a subscription's lifecycle. It is active, suspended (by the
//! provider, until reactivated) or cancelled (within the cancellation
//! window after purchase, for good); it renews or not. A suspended
//! subscription keeps its licence quantity and reseller of record; a
//! cancelled one changes no more. Asking for the state it is in already
//! changes nothing (R25).

use chrono::{DateTime, TimeDelta, Utc};
use twotier_platform::change::{self, Change};

use super::{Subscription, SubscriptionError};

/// Where a subscription is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionState {
    /// In use; everything can be changed.
    Active,
    /// Suspended by the provider: quantity and reseller of record stay as
    /// they are until it is reactivated.
    Suspended,
    /// Cancelled within its window: nothing changes any more.
    Cancelled,
}

/// R27: how long after purchase a subscription may be cancelled and its
/// quantity decreased.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancellationWindow(TimeDelta);

impl CancellationWindow {
    /// Seven days, as providers know it.
    pub const DEFAULT: Self = Self(TimeDelta::days(7));

    /// A window of `length`.
    pub fn new(length: TimeDelta) -> Self {
        Self(length)
    }

    /// Its length.
    pub fn length(self) -> std::time::Duration {
        self.0.to_std().unwrap_or_default()
    }

    /// The deadline of a subscription bought at `purchased_at`.
    pub fn deadline(self, purchased_at: DateTime<Utc>) -> DateTime<Utc> {
        purchased_at
            .checked_add_signed(self.0)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

impl Default for CancellationWindow {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl Subscription {
    /// Whether `now` is within the cancellation window (the deadline
    /// itself included).
    pub fn within_cancellation_window(&self, now: DateTime<Utc>) -> bool {
        now <= self.cancellation_deadline
    }

    /// Refuses a change to a cancelled subscription.
    pub(super) fn ensure_not_cancelled(&self) -> Result<(), SubscriptionError> {
        match self.state {
            SubscriptionState::Cancelled => Err(SubscriptionError::Cancelled),
            SubscriptionState::Active | SubscriptionState::Suspended => Ok(()),
        }
    }

    /// Refuses a change of `what` (licence quantity, reseller of record)
    /// unless the subscription is active (R26).
    pub(super) fn ensure_changeable(&self, what: &'static str) -> Result<(), SubscriptionError> {
        self.ensure_not_cancelled()?;
        match self.state {
            SubscriptionState::Suspended => Err(SubscriptionError::Suspended { what }),
            SubscriptionState::Active | SubscriptionState::Cancelled => Ok(()),
        }
    }

    /// R26: suspends an active subscription; the state before.
    pub fn suspend(
        &mut self,
        expected: Option<i64>,
    ) -> Result<Change<SubscriptionState>, SubscriptionError> {
        self.ensure_version(expected)?;
        if self.state == SubscriptionState::Suspended {
            return Ok(Change::Unchanged);
        }
        self.ensure_not_cancelled()?;
        Ok(change::replace(
            &mut self.state,
            SubscriptionState::Suspended,
        ))
    }

    /// R26: reactivates a suspended subscription; the state before.
    pub fn reactivate(
        &mut self,
        expected: Option<i64>,
    ) -> Result<Change<SubscriptionState>, SubscriptionError> {
        self.ensure_version(expected)?;
        if self.state == SubscriptionState::Active {
            return Ok(Change::Unchanged);
        }
        self.ensure_not_cancelled()?;
        Ok(change::replace(&mut self.state, SubscriptionState::Active))
    }

    /// R27: cancels the subscription, active or suspended, at `now` within
    /// its cancellation window; it then renews no more. The state before.
    pub fn cancel(
        &mut self,
        expected: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Change<SubscriptionState>, SubscriptionError> {
        self.ensure_version(expected)?;
        if self.state == SubscriptionState::Cancelled {
            return Ok(Change::Unchanged);
        }
        if !self.within_cancellation_window(now) {
            return Err(SubscriptionError::CancellationWindowClosed {
                deadline: self.cancellation_deadline,
            });
        }
        self.auto_renew = false;
        Ok(change::replace(
            &mut self.state,
            SubscriptionState::Cancelled,
        ))
    }

    /// R28: turns auto-renew on or off (also while suspended); the setting
    /// before.
    pub fn set_auto_renew(
        &mut self,
        auto_renew: bool,
        expected: Option<i64>,
    ) -> Result<Change<bool>, SubscriptionError> {
        self.ensure_version(expected)?;
        if auto_renew == self.auto_renew {
            return Ok(Change::Unchanged);
        }
        self.ensure_not_cancelled()?;
        Ok(change::replace(&mut self.auto_renew, auto_renew))
    }
}

#[cfg(test)]
mod tests;
