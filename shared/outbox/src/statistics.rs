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
//! each time its numbering takes the head past 1,000 events, 2,000, 4,000,
//! and so on (`ANALYZE` samples a bounded number of rows and blocks no
//! reader or writer). The refresh invalidates the cached plans, and the new
//! ones use the index. Each threshold is crossed by exactly one batch, so
//! among replicas one refreshes, and a restart refreshes nothing; as the
//! log ages, refreshes become rare and autovacuum's suffice.

use sea_orm::{ConnectionTrait, DatabaseConnection};

/// The first head at which statistics are refreshed: below it any plan
/// reads a few pages at most. Later ones are its doublings.
const FIRST_REFRESH_AT: i64 = 1_000;

/// Whether a batch that numbered `numbered` events, taking the head to
/// `head`, crossed one of the heads at which statistics are refreshed.
pub(crate) fn refresh_due(numbered: i64, head: i64) -> bool {
    if numbered <= 0 {
        return false;
    }
    let before = head.saturating_sub(numbered);
    let mut threshold = FIRST_REFRESH_AT;
    while threshold <= before {
        threshold = threshold.saturating_mul(2);
    }
    threshold <= head
}

/// Refreshes the statistics of `outbox_event` in a task of its own, so
/// numbering never waits for it. `SKIP_LOCKED`: when autovacuum or another
/// `ANALYZE` holds the table, this one is skipped rather than queued behind
/// it (the next threshold will come). A role that does not
/// own the table gets a warning from PostgreSQL (logged by sqlx as
/// `sqlx::postgres::notice`) and nothing changes but the plans it would
/// have improved.
pub(crate) fn refresh(db: &DatabaseConnection) {
    let db = db.clone();
    tokio::spawn(async move {
        match db
            .execute_unprepared("ANALYZE (SKIP_LOCKED) outbox_event")
            .await
        {
            Ok(_) => tracing::debug!("asked PostgreSQL to refresh the outbox's statistics"),
            Err(error) => tracing::warn!(%error, "refreshing the outbox's statistics failed"),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_log_is_left_to_autovacuum() {
        assert!(!refresh_due(999, 999));
        assert!(!refresh_due(0, 5_000), "a batch that numbered nothing");
    }

    #[test]
    fn a_growing_log_is_refreshed_each_time_its_head_passes_a_doubling() {
        let mut head = 0;
        let mut refreshed = Vec::new();
        for numbered in [250, 250, 250, 250, 500, 500, 500, 500, 1_500, 2_500, 1_000] {
            head += numbered;
            if refresh_due(numbered, head) {
                refreshed.push(head);
            }
        }
        assert_eq!(refreshed, [1_000, 2_000, 4_500, 8_000]);
    }

    #[test]
    fn a_batch_past_several_doublings_refreshes_once() {
        assert!(refresh_due(500, 1_200));
        assert!(refresh_due(10_000, 10_500));
    }

    #[test]
    fn a_restart_or_another_replica_refreshes_only_at_the_next_doubling() {
        assert!(!refresh_due(500, 1_000_500));
        assert!(!refresh_due(1, 1_023_999));
        assert!(refresh_due(1, 1_024_000));
    }
}
