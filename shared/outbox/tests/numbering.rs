//! Where a committed event gets its log position: on SQLite in the
//! command's own transaction (one writer, so no second commit), on
//! PostgreSQL from the sequencer once the row is committed.

mod common;

use std::time::Duration;

use common::*;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use twotier_outbox::{Outbox, Sequencer};

async fn positions(db: &sea_orm::DatabaseConnection) -> Vec<Option<i64>> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT position FROM outbox_event ORDER BY id",
    ))
    .await
    .expect("read outbox")
    .iter()
    .map(|row| {
        row.try_get::<Option<i64>>("", "position")
            .expect("position")
    })
    .collect()
}

#[tokio::test]
async fn a_command_on_sqlite_numbers_its_events_as_it_commits_and_postgres_waits_for_the_sequencer()
{
    let (_guard, db) = database("numbering").await;
    let outbox = Outbox::new(db.clone());
    let head = outbox.watch_head();
    write_events(&outbox, 3, "a").await;

    if db.get_database_backend() == DbBackend::Sqlite {
        assert_eq!(positions(&db).await, vec![Some(1), Some(2), Some(3)]);
        assert_eq!(*head.borrow(), 3, "readers are told at commit");
        return;
    }
    assert_eq!(
        positions(&db).await,
        vec![None, None, None],
        "committed, not yet numbered"
    );
    let sequencer = Sequencer::new(outbox, Duration::from_secs(60), Duration::from_secs(3600));
    assert_eq!(sequencer.sequence_batch().await.expect("numbered"), 3);
    assert_eq!(positions(&db).await, vec![Some(1), Some(2), Some(3)]);
    assert_eq!(*head.borrow(), 3);
}

#[tokio::test]
async fn events_appended_together_are_numbered_in_order_like_those_appended_one_by_one() {
    let (_guard, db) = database("append_all").await;
    let outbox = Outbox::new(db.clone());
    write_events(&outbox, 1, "alone").await;
    let tx = outbox.begin().await.expect("begin");
    let events = (0..3).map(|i| note("together", i)).collect();
    tx.append_all(events).await.expect("append all");
    tx.append_all(Vec::new()).await.expect("nothing to append");
    tx.commit().await.expect("commit");

    if db.get_database_backend() != DbBackend::Sqlite {
        let sequencer = Sequencer::new(outbox, Duration::from_secs(60), Duration::from_secs(3600));
        assert_eq!(sequencer.sequence_batch().await.expect("numbered"), 4);
    }
    assert_eq!(
        positions(&db).await,
        vec![Some(1), Some(2), Some(3), Some(4)]
    );
    let ids: Vec<String> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT aggregate_id FROM outbox_event ORDER BY position",
        ))
        .await
        .expect("read outbox")
        .iter()
        .map(|row| row.try_get::<String>("", "aggregate_id").expect("id"))
        .collect();
    assert_eq!(
        ids,
        ["alone-0", "together-0", "together-1", "together-2"],
        "numbered in the order appended"
    );
}

#[tokio::test]
async fn on_sqlite_rows_left_unnumbered_are_numbered_before_the_log_starts_so_no_command_overtakes_them()
 {
    let (guard, db) = database("upgrade").await;
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    // A row an earlier version wrote and left for its sequencer.
    db.execute_raw(Statement::from_string(
        DbBackend::Sqlite,
        "INSERT INTO outbox_event (event_id, position, event_type, aggregate_type, aggregate_id, \
         tenant_id, occurred_at, traceparent, tracestate, payload) VALUES ('left-over', NULL, \
         'test.Note', 'test', 'x', 'tenant-a', '2026-01-01T00:00:00Z', '', '', x'')",
    ))
    .await
    .expect("unnumbered row");
    let env = twotier_testkit::env(&guard, &[]);
    let settings = twotier_platform::config::Settings::load(&env, "test").expect("settings");
    let identity = twotier_platform::startup::Identity::from_settings(&settings).expect("identity");
    let shutdown = tokio_util::sync::CancellationToken::new();
    let ctx =
        twotier_platform::startup::ServiceContext::new(env, "test", identity, shutdown.clone())
            .expect("context");
    let outbox = Outbox::new(db.clone());
    let _log = twotier_outbox::EventLog::start(&ctx, &outbox)
        .await
        .expect("log starts");
    write_events(&outbox, 1, "new").await;
    shutdown.cancel();
    assert_eq!(
        positions(&db).await,
        vec![Some(1), Some(2)],
        "the row written first keeps its place in the log"
    );
}

/// What PostgreSQL believes the outbox holds: -1 until its statistics are
/// first gathered.
async fn estimated_rows(db: &sea_orm::DatabaseConnection) -> f64 {
    db.query_one_raw(Statement::from_string(
        DbBackend::Postgres,
        "SELECT reltuples::float8 AS estimated FROM pg_class WHERE oid = 'outbox_event'::regclass",
    ))
    .await
    .expect("read pg_class")
    .expect("the outbox's row")
    .try_get::<f64>("", "estimated")
    .expect("estimate")
}

#[tokio::test]
async fn on_postgresql_the_sequencer_refreshes_the_statistics_of_a_log_that_has_grown() {
    let (_guard, db) = database("statistics").await;
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    // Only the sequencer may gather them here.
    db.execute_unprepared("ALTER TABLE outbox_event SET (autovacuum_enabled = false)")
        .await
        .expect("autovacuum off");
    let outbox = Outbox::new(db.clone());
    let tx = outbox.begin().await.expect("begin");
    let events = (0..1_000).map(|i| note("grown", i)).collect();
    tx.append_all(events).await.expect("append all");
    tx.commit().await.expect("commit");
    assert!(estimated_rows(&db).await < 0.0, "never gathered yet");

    let shutdown = tokio_util::sync::CancellationToken::new();
    let sequencer = Sequencer::new(outbox, Duration::from_secs(60), Duration::from_secs(3600));
    tokio::spawn(sequencer.run(shutdown.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while estimated_rows(&db).await < 1_000.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the statistics were not refreshed after the log reached 1,000 events"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
}

#[tokio::test]
async fn on_postgresql_two_sequencers_at_once_give_every_event_one_position_without_gaps() {
    let (guard, db) = database("two_sequencers").await;
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    // Two replicas, each with its own pool and sequencer, numbering while
    // commands commit.
    let other = twotier_platform::db::connect(&guard.url, 4)
        .await
        .expect("second replica");
    let written = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sequencers: Vec<_> = [db.clone(), other]
        .into_iter()
        .map(|replica| {
            let written = written.clone();
            tokio::spawn(async move {
                let sequencer = Sequencer::new(
                    Outbox::new(replica),
                    Duration::from_secs(60),
                    Duration::from_secs(3600),
                );
                loop {
                    let done = written.load(std::sync::atomic::Ordering::SeqCst);
                    let numbered = sequencer.sequence_batch().await.expect("numbered");
                    if done && numbered == 0 {
                        return;
                    }
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let outbox = Outbox::new(db.clone());
            tokio::spawn(async move { write_events(&outbox, 100, &format!("w{writer}")).await })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    written.store(true, std::sync::atomic::Ordering::SeqCst);
    for sequencer in sequencers {
        sequencer.await.expect("sequencer");
    }
    let mut numbered: Vec<i64> = positions(&db).await.into_iter().flatten().collect();
    numbered.sort_unstable();
    assert_eq!(numbered, (1..=400).collect::<Vec<i64>>());
}
