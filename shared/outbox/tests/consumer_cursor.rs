//! Consumers of the outbox read as a log, end to end through gRPC, each test
//! named for the fault it injects: a consumer killed or an upstream restarted
//! mid-stream still handles every event exactly once and in order, and events
//! the handler ignores, or that affect nothing, still move the stored
//! cursor.

mod common;

use std::sync::Arc;

use common::*;
use sea_orm::{ConnectionTrait, Statement};
use tokio_util::sync::CancellationToken;
use twotier_outbox::{Event, EventHandler, Outbox};
use twotier_testkit::wait_until;

#[tokio::test]
async fn consumer_killed_mid_stream_resumes_from_its_cursor_exactly_once_in_order() {
    let (_producer_db_guard, producer_db) = database("producer").await;
    let (_consumer_db_guard, consumer_db) = database("consumer").await;
    let producer = start_producer(&producer_db, None).await;
    write_events(&producer.outbox, 300, "a").await;

    let handler: Arc<dyn EventHandler> = Arc::new(Recorder::new());
    let first = consumer(&consumer_db, handler.clone(), &producer.server.endpoint());
    let mut progress = first.progress();
    let stop_first = CancellationToken::new();
    let running = tokio::spawn(first.run(stop_first.clone()));
    // Kill the consumer somewhere in the middle of the stream.
    tokio::time::timeout(DEADLINE, progress.wait_for(|p| *p >= 120))
        .await
        .expect("progress")
        .expect("watch");
    stop_first.cancel();
    running.await.expect("consumer stops");
    let seen_before_restart = received(&consumer_db).await.len();
    assert!((120..=300).contains(&seen_before_restart));

    write_events(&producer.outbox, 200, "b").await;
    let second = consumer(&consumer_db, handler, &producer.server.endpoint());
    let stop_second = CancellationToken::new();
    tokio::spawn(second.run(stop_second.clone()));
    wait_until("all 500 events handled", DEADLINE, || async {
        received(&consumer_db).await.len() >= 500
    })
    .await;
    stop_second.cancel();

    let positions = received(&consumer_db).await;
    assert_eq!(
        positions,
        (1..=500).collect::<Vec<i64>>(),
        "every event exactly once, in position order"
    );
}

#[tokio::test]
async fn upstream_restarted_mid_stream_consumer_resubscribes_and_misses_nothing() {
    let (_producer_db_guard, producer_db) = database("producer").await;
    let (_consumer_db_guard, consumer_db) = database("consumer").await;
    let producer = start_producer(&producer_db, None).await;
    let addr = producer.server.addr;
    write_events(&producer.outbox, 100, "a").await;

    let handler: Arc<dyn EventHandler> = Arc::new(Recorder::new());
    let follower = consumer(&consumer_db, handler, &producer.server.endpoint());
    let mut progress = follower.progress();
    let stop = CancellationToken::new();
    tokio::spawn(follower.run(stop.clone()));
    tokio::time::timeout(DEADLINE, progress.wait_for(|p| *p >= 100))
        .await
        .expect("progress")
        .expect("watch");

    // The upstream goes away; events written meanwhile wait in its outbox.
    producer.server.stop().await;
    let outbox = Outbox::new(producer_db.clone());
    write_events(&outbox, 50, "offline").await;
    let restarted = start_producer(&producer_db, Some(addr)).await;
    write_events(&restarted.outbox, 50, "b").await;

    wait_until("all 200 events handled", DEADLINE, || async {
        received(&consumer_db).await.len() >= 200
    })
    .await;
    stop.cancel();
    assert_eq!(
        received(&consumer_db).await,
        (1..=200).collect::<Vec<i64>>()
    );
}

#[tokio::test]
async fn events_the_handler_ignores_still_move_the_stored_cursor() {
    let (_producer_db_guard, producer_db) = database("producer").await;
    let (_consumer_db_guard, consumer_db) = database("consumer").await;
    let producer = start_producer(&producer_db, None).await;
    write_events(&producer.outbox, 2, "a").await;
    for i in 0..3 {
        let tx = producer.outbox.begin().await.unwrap();
        let ignored = twotier_proto::events::TraceContext {
            traceparent: format!("ignored-{i}"),
            tracestate: String::new(),
        };
        tx.append(Event::new("test", "x", "tenant-a", &ignored))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let follower = consumer(
        &consumer_db,
        Arc::new(Recorder::new()),
        &producer.server.endpoint(),
    );
    let mut progress = follower.progress();
    let stop = CancellationToken::new();
    tokio::spawn(follower.run(stop.clone()));
    tokio::time::timeout(DEADLINE, progress.wait_for(|p| *p >= 5))
        .await
        .expect("progress")
        .expect("watch");
    // Within a second: the stored cursor passes ignored events at most once
    // per `CURSOR_LAG`, and when the stream goes quiet.
    wait_until(
        "the stored cursor passes the ignored events, so pruning them cannot strand it",
        DEADLINE,
        || async { stored_cursor(&consumer_db).await == 5 },
    )
    .await;
    stop.cancel();
    assert_eq!(received(&consumer_db).await, vec![1, 2]);
}

#[tokio::test]
async fn events_that_affect_nothing_are_passed_without_handling_and_move_the_stored_cursor() {
    let (_producer_db_guard, producer_db) = database("producer").await;
    let (_consumer_db_guard, consumer_db) = database("consumer").await;
    let producer = start_producer(&producer_db, None).await;
    write_events(&producer.outbox, 2, "a").await;
    write_events(&producer.outbox, 3, "quiet").await;
    write_events(&producer.outbox, 2, "b").await;
    write_events(&producer.outbox, 3, "quiet-tail").await;
    let recorder = Recorder {
        unaffected_prefix: Some("quiet".into()),
        ..Recorder::new()
    };
    let follower = consumer(
        &consumer_db,
        Arc::new(recorder),
        &producer.server.endpoint(),
    );
    let mut progress = follower.progress();
    let stop = CancellationToken::new();
    tokio::spawn(follower.run(stop.clone()));
    tokio::time::timeout(DEADLINE, progress.wait_for(|p| *p >= 10))
        .await
        .expect("progress")
        .expect("watch");
    assert_eq!(
        received(&consumer_db).await,
        vec![1, 2, 6, 7],
        "the handler saw only the events that affect something"
    );
    wait_until(
        "the stored cursor passes the trailing ones (within a second)",
        DEADLINE,
        || async { stored_cursor(&consumer_db).await == 10 },
    )
    .await;
    stop.cancel();
}

async fn stored_cursor(db: &sea_orm::DatabaseConnection) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT position FROM consumer_cursor",
    ))
    .await
    .expect("read cursor")
    .expect("a cursor row")
    .try_get::<i64>("", "position")
    .expect("position")
}
