//! Keeping PostgreSQL's statistics of a young, fast-growing log current.
//!
//! PostgreSQL plans a prepared statement from the table's statistics and,
//! after five executions, may keep one generic plan for good. Autovacuum
//! refreshes the statistics at most once a minute per database. A new
//! log grows faster than that: the plans made while it held a few dozen
//! rows (read the whole table, then sort) stayed in every connection's
//! plan cache while it grew to tens of thousands of rows, and each
//! follower's page read every row, live and dead, to return a handful. In
//! the bench that was a fifth of PostgreSQL's CPU and several milliseconds
//! on every event's way to its consumers.
//!
//! The sequencer, which sees the log grow, refreshes the statistics itself
//! each time the log has doubled since it last did (`ANALYZE` samples a
//! bounded number of rows and blocks no reader or writer). The refresh
//! invalidates the cached plans, and the new ones use the index. Once the
//! log keeps its size (events older than the retention are pruned),
//! refreshes stop and autovacuum's are enough.

use sea_orm::{ConnectionTrait, DatabaseConnection};

/// The head at which the first refresh is due: below it any plan reads a
/// few pages at most.
const FIRST_REFRESH_AT: u64 = 1_000;

/// When the statistics of the log were last refreshed.
#[derive(Debug, Default)]
pub(crate) struct LogStatistics {
    refreshed_at_head: u64,
}

impl LogStatistics {
    /// Whether a log whose head is `head` has doubled since the last
    /// refresh (or reached [`FIRST_REFRESH_AT`] without one); if so,
    /// counts the refresh as done at `head`.
    pub(crate) fn refresh_due(&mut self, head: u64) -> bool {
        let due = head >= FIRST_REFRESH_AT.max(self.refreshed_at_head.saturating_mul(2));
        if due {
            self.refreshed_at_head = head;
        }
        due
    }
}

/// Refreshes the statistics of `outbox_event` in a task of its own, so
/// numbering never waits for it. A failure (say a role that does not own
/// the table) costs nothing but the plans it would have improved.
pub(crate) fn refresh(db: &DatabaseConnection) {
    let db = db.clone();
    tokio::spawn(async move {
        match db.execute_unprepared("ANALYZE outbox_event").await {
            Ok(_) => tracing::debug!("refreshed the outbox's statistics"),
            Err(error) => tracing::warn!(%error, "refreshing the outbox's statistics failed"),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_log_is_left_to_autovacuum() {
        let mut statistics = LogStatistics::default();
        assert!(!statistics.refresh_due(0));
        assert!(!statistics.refresh_due(FIRST_REFRESH_AT - 1));
    }

    #[test]
    fn a_growing_log_is_refreshed_each_time_it_has_doubled() {
        let mut statistics = LogStatistics::default();
        let refreshed: Vec<u64> = (0..=20_000u64)
            .step_by(250)
            .filter(|head| statistics.refresh_due(*head))
            .collect();
        assert_eq!(refreshed, [1_000, 2_000, 4_000, 8_000, 16_000]);
    }

    #[test]
    fn a_log_found_large_at_start_is_refreshed_once_and_then_as_it_doubles() {
        let mut statistics = LogStatistics::default();
        assert!(statistics.refresh_due(1_000_000));
        assert!(!statistics.refresh_due(1_000_500));
        assert!(!statistics.refresh_due(1_999_999));
        assert!(statistics.refresh_due(2_000_000));
    }
}
