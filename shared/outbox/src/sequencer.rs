//! Assigns log positions to committed outbox rows.
//!
//! A plain auto-increment id is not a log position: on PostgreSQL a row with
//! a smaller id can commit after a row with a larger one, and a reader that
//! followed ids would skip it. The sequencer instead numbers rows only once
//! they are committed and visible, in one short transaction holding an
//! advisory lock, so positions become visible in increasing order without
//! gaps. SQLite runs one writing transaction at a time, so there a command
//! numbers each row as it writes it ([`crate::Tx::append`]); the sequencer
//! numbers only rows written unnumbered (before this was so).

use std::sync::LazyLock;
use std::time::Duration;

use chrono::Utc;
use sea_orm::sqlx::{self, PgPool, Row};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QuerySelect,
    Statement, TransactionTrait,
};
use tokio_util::sync::CancellationToken;

use crate::entity::outbox_event;
use crate::writer::Outbox;

/// Rows numbered per transaction.
const BATCH: i64 = 500;
/// PostgreSQL channel on which a sequencer announces new heads to the log
/// readers of other replicas.
pub(crate) const HEAD_CHANNEL: &str = "twotier_outbox_head";
/// How far ahead of this process's clock an event's time may be and still
/// count as within the retention when pruning.
const FUTURE_TOLERANCE: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// The longest wait between two prunes of old events.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// The shortest: a prune is a query.
const PRUNE_EVERY_AT_MOST_ONCE: Duration = Duration::from_secs(1);

/// How often events kept for `retention` are pruned: every tenth of it
/// within those bounds, so an event outlives its retention by at most a
/// tenth (or a second), however short the retention configured.
fn prune_interval(retention: Duration) -> Duration {
    (retention / 10).clamp(PRUNE_EVERY_AT_MOST_ONCE, PRUNE_EVERY)
}

/// How long to wait after `failures` failed numbering attempts in a row:
/// at most 400 ms, so events are numbered (and consumers see them) soon
/// after the database is back; an attempt costs one connection attempt.
fn pause_after(failures: u32) -> Duration {
    Duration::from_millis(100 * 2u64.pow(failures.min(2)))
}

/// Numbers committed outbox rows and prunes old ones.
pub struct Sequencer {
    outbox: Outbox,
    poll_interval: Duration,
    retention: Duration,
}

impl Sequencer {
    /// A sequencer for `outbox` that also looks for work every
    /// `poll_interval` (rows written by other replicas) and keeps events for
    /// `retention`.
    pub fn new(outbox: Outbox, poll_interval: Duration, retention: Duration) -> Self {
        Self {
            outbox,
            poll_interval,
            retention,
        }
    }

    /// Runs until `shutdown` is cancelled. On PostgreSQL it also listens for
    /// heads sequenced by other replicas, so their subscribers' readers here
    /// wake at once.
    pub async fn run(self, shutdown: CancellationToken) {
        if self.outbox.db().get_database_backend() == DbBackend::Postgres {
            tokio::join!(
                self.sequence(shutdown.clone()),
                self.follow_remote_heads(shutdown)
            );
        } else {
            self.sequence(shutdown).await;
        }
    }

    async fn follow_remote_heads(&self, shutdown: CancellationToken) {
        let pool = self.outbox.db().get_postgres_connection_pool().clone();
        loop {
            let listened = async {
                let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await?;
                listener.listen(HEAD_CHANNEL).await?;
                loop {
                    let notification = listener.recv().await?;
                    if let Ok(head) = notification.payload().parse::<u64>() {
                        self.outbox
                            .head
                            .send_if_modified(|current| raise(current, head));
                    }
                }
                #[allow(unreachable_code)]
                Ok::<(), sea_orm::sqlx::Error>(())
            };
            tokio::select! {
                () = shutdown.cancelled() => return,
                outcome = listened => {
                    if let Err(error) = outcome {
                        tracing::warn!(%error, "listening for outbox heads failed; retrying");
                    }
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(Duration::from_millis(250)) => {},
            }
        }
    }

    async fn sequence(&self, shutdown: CancellationToken) {
        if let Ok(head) = head_position(self.outbox.db()).await {
            let head = u64::try_from(head).unwrap_or_default();
            self.outbox
                .head
                .send_if_modified(|current| raise(current, head));
        }
        let mut next_prune = tokio::time::Instant::now();
        let mut failures = 0u32;
        loop {
            match self.sequence_batch().await {
                Ok(numbered) => {
                    failures = 0;
                    if numbered == BATCH {
                        continue;
                    }
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(%error, failures, "sequencing failed; will retry");
                }
            }
            let now = tokio::time::Instant::now();
            if now >= next_prune {
                // From now, not from when it was due: after a stall (an
                // outage) one prune catches up, not one per missed turn.
                next_prune = now + prune_interval(self.retention);
                self.prune().await;
            }
            let pause = if failures == 0 {
                self.poll_interval
            } else {
                pause_after(failures)
            };
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.outbox.wake.notified() => {},
                () = tokio::time::sleep(pause) => {},
            }
        }
    }

    /// Numbers up to [`BATCH`] committed rows; returns how many.
    pub async fn sequence_batch(&self) -> Result<i64, DbErr> {
        sequence_batch(&self.outbox).await
    }

    async fn prune(&self) {
        let Ok(retention) = chrono::Duration::from_std(self.retention) else {
            return;
        };
        let cutoff = Utc::now() - retention;
        // The newest event is kept whatever its age: it carries the head,
        // and positions must never restart.
        let head = match head_position(self.outbox.db()).await {
            Ok(head) => head,
            Err(error) => {
                tracing::warn!(%error, "pruning outbox events failed");
                return;
            }
        };
        // Only a prefix of the log goes: every event before the oldest one
        // still within the retention. An event's time is its writer's
        // clock, not its position's order, so one older than its
        // predecessor must not leave a hole a reader would pass over.
        let db = self.outbox.db();
        let kept_from = outbox_event::Entity::find()
            .select_only()
            .column_as(outbox_event::Column::Position.min(), "kept_from")
            .filter(outbox_event::Column::Position.is_not_null())
            .filter(outbox_event::Column::OccurredAt.gte(cutoff))
            // A writer whose clock ran far ahead must not hold back every
            // prune until its time comes.
            .filter(outbox_event::Column::OccurredAt.lte(Utc::now() + FUTURE_TOLERANCE))
            .into_tuple::<Option<i64>>()
            .one(db)
            .await;
        let kept_from = match kept_from {
            Ok(kept_from) => kept_from.flatten().map_or(head, |from| from.min(head)),
            Err(error) => {
                tracing::warn!(%error, "pruning outbox events failed");
                return;
            }
        };
        let pruned = outbox_event::Entity::delete_many()
            .filter(outbox_event::Column::Position.lt(kept_from))
            .exec(db)
            .await;
        match pruned {
            Ok(result) if result.rows_affected > 0 => {
                tracing::info!(
                    pruned = result.rows_affected,
                    "pruned outbox events past retention"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "pruning outbox events failed"),
        }
    }
}

/// Numbers up to [`BATCH`] committed, unnumbered rows of `outbox` in one
/// transaction; returns how many. Safe to call from anywhere: the advisory
/// lock (PostgreSQL) or the single writer (SQLite) serialises callers.
pub(crate) async fn sequence_batch(outbox: &Outbox) -> Result<i64, DbErr> {
    let db = outbox.db();
    let (numbered, new_head) = if db.get_database_backend() == DbBackend::Postgres {
        let (numbered, new_head) = number_and_announce(db.get_postgres_connection_pool()).await?;
        if crate::statistics::refresh_due(numbered, new_head) {
            crate::statistics::refresh(db);
        }
        (numbered, new_head)
    } else {
        let txn = db.begin().await?;
        let (numbered, new_head) = number_on_sqlite(&txn).await?;
        if numbered == 0 {
            txn.rollback().await?;
            return Ok(0);
        }
        txn.commit().await?;
        (numbered, new_head)
    };
    if numbered == 0 {
        return Ok(0);
    }
    let new_head = u64::try_from(new_head).unwrap_or_default();
    outbox
        .head
        .send_if_modified(|current| raise(current, new_head));
    tracing::trace!(numbered, head = new_head, "sequenced outbox events");
    Ok(numbered)
}

/// SQLite: numbers up to [`BATCH`] unpositioned rows after the head, in
/// `txn`; returns (rows numbered, new head). Commands number their own rows
/// ([`crate::Tx::append`]); this numbers rows written unnumbered before.
async fn number_on_sqlite(txn: &impl ConnectionTrait) -> Result<(i64, i64), DbErr> {
    let head = head_position(txn).await?;
    let numbered = txn
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!(
                "UPDATE outbox_event SET position = ? + numbered.rn FROM {} \
                 WHERE outbox_event.id = numbered.id",
                unpositioned("?")
            ),
            [head.into(), BATCH.into()],
        ))
        .await?
        .rows_affected();
    let numbered = i64::try_from(numbered).unwrap_or(i64::MAX);
    Ok((numbered, head + numbered))
}

/// The oldest `limit` unpositioned rows, numbered from 1 in id order, as
/// a derived table `numbered (id, rn)`; `limit` is the placeholder bound
/// to [`BATCH`].
fn unpositioned(limit: &str) -> String {
    format!(
        "(SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM outbox_event \
         WHERE position IS NULL ORDER BY id LIMIT {limit}) AS numbered"
    )
}

/// PostgreSQL's numbering as one simple query of two statements: the
/// sequencer's advisory lock, then one statement that reads the head,
/// numbers a batch after it and announces the new head to other replicas'
/// readers. PostgreSQL runs the statements of one simple query in one
/// implicit transaction, so the lock is held until the numbering commits,
/// and gives each statement its own snapshot, so the numbering sees every
/// row committed before the lock was granted. One round trip, where
/// `BEGIN`, the lock, the numbering and `COMMIT` as statements of their own
/// took four, each of which an event waited for on its way to consumers.
/// A simple query is not prepared: PostgreSQL plans it on every run. The
/// text holds only constants (no value from outside).
static NUMBER_AND_ANNOUNCE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT pg_advisory_xact_lock({key}); \
         WITH head AS (SELECT COALESCE(MAX(position), 0) AS at FROM outbox_event), \
         numbered_rows AS (UPDATE outbox_event SET position = head.at + numbered.rn \
         FROM head, {numbered} WHERE outbox_event.id = numbered.id RETURNING position), \
         summary AS (SELECT COUNT(*) AS numbered, COALESCE(MAX(position), 0) AS new_head \
         FROM numbered_rows) \
         SELECT summary.numbered, summary.new_head FROM summary \
         CROSS JOIN LATERAL (SELECT pg_notify('{HEAD_CHANNEL}', summary.new_head::text) \
         WHERE summary.numbered > 0) AS announced",
        key = twotier_platform::db::advisory_key("outbox-sequencer"),
        numbered = unpositioned(&BATCH.to_string()),
    )
});

/// PostgreSQL: numbers a batch and announces it ([`NUMBER_AND_ANNOUNCE`]);
/// returns (rows numbered, new head), (0, 0) when nothing was waiting.
async fn number_and_announce(pool: &PgPool) -> Result<(i64, i64), DbErr> {
    // Acquired apart from the query, so that failing to get a connection
    // is a connection error (transient), as in sea-orm's own acquisitions.
    let mut connection = pool
        .acquire()
        .await
        .map_err(twotier_platform::db::sqlx_to_db_err)?;
    let rows = sqlx::raw_sql(NUMBER_AND_ANNOUNCE.as_str())
        .fetch_all(&mut *connection)
        .await
        .map_err(twotier_platform::db::sqlx_query_err)?;
    // The lock's statement answers a row of its own; the summary is the
    // row with the counts, absent when nothing was numbered.
    let Some(summary) = rows.iter().find(|row| row.try_column("numbered").is_ok()) else {
        return Ok((0, 0));
    };
    let count = |column| {
        summary
            .try_get::<i64, _>(column)
            .map_err(twotier_platform::db::sqlx_query_err)
    };
    Ok((count("numbered")?, count("new_head")?))
}

/// Raises `current` to `candidate`; true if it changed.
pub(crate) fn raise(current: &mut u64, candidate: u64) -> bool {
    if candidate > *current {
        *current = candidate;
        return true;
    }
    false
}

/// Whether any committed row still waits for its position.
pub(crate) async fn has_unnumbered(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT 1 AS waiting FROM outbox_event WHERE position IS NULL LIMIT 1",
        ))
        .await?;
    Ok(row.is_some())
}

/// The highest sequenced position, 0 for an empty log.
pub(crate) async fn head_position(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COALESCE(MAX(position), 0) AS head FROM outbox_event",
        ))
        .await?;
    match row {
        Some(row) => row.try_get::<i64>("", "head"),
        None => Ok(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_resumes_within_400_ms_however_long_the_database_was_down() {
        let pauses: Vec<_> = (1..100).map(pause_after).collect();
        assert_eq!(pauses[0], Duration::from_millis(200));
        assert!(pauses.iter().all(|p| *p <= Duration::from_millis(400)));
    }

    #[test]
    fn events_outlive_their_retention_by_a_tenth_at_most() {
        let day = Duration::from_secs(86_400);
        assert_eq!(prune_interval(day * 7), PRUNE_EVERY);
        assert_eq!(
            prune_interval(Duration::from_secs(600)),
            Duration::from_secs(60)
        );
        assert_eq!(
            prune_interval(Duration::from_secs(2)),
            PRUNE_EVERY_AT_MOST_ONCE
        );
        assert_eq!(prune_interval(Duration::ZERO), PRUNE_EVERY_AT_MOST_ONCE);
    }
}
