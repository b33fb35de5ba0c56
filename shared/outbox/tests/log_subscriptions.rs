//! Subscribing to the outbox's log through gRPC: under eight concurrent
//! writers a reader never sees a position go backwards, only the service role
//! may subscribe, a subscriber that lagged behind pruning is told
//! EVENTS_PRUNED, and one asking for some event types receives those alone
//! without a second query each time it is woken.

mod common;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use common::*;
use sea_orm::ConnectionTrait;
use twotier_platform::auth::Role;
use twotier_proto::events::EventEnvelope;
use twotier_proto::events::SubscribeRequest;
use twotier_proto::events::event_log_service_client::EventLogServiceClient;
use twotier_testkit::{Bearer, assert_error};

#[tokio::test]
async fn eight_concurrent_writers_never_make_a_reader_see_a_position_go_backwards() {
    let (_guard, db) = database("sequencer").await;
    let producer = start_producer(&db, None).await;
    let token = twotier_testkit::service_token("reader");
    let mut client =
        EventLogServiceClient::with_interceptor(producer.server.channel(), Bearer::new(&token));
    let mut stream = client
        .subscribe(SubscribeRequest {
            after_position: 0,
            event_types: vec![],
        })
        .await
        .expect("subscribe")
        .into_inner();

    let writers: Vec<_> = (0..8)
        .map(|w| {
            let outbox = producer.outbox.clone();
            tokio::spawn(async move { write_events(&outbox, 200, &format!("w{w}")).await })
        })
        .collect();

    let mut seen = Vec::with_capacity(1600);
    let read = async {
        while seen.len() < 1600 {
            let envelope = stream
                .message()
                .await
                .expect("stream")
                .expect("stream open");
            if let Some(last) = seen.last() {
                assert!(
                    envelope.position > *last,
                    "position {} after {last}",
                    envelope.position
                );
            }
            seen.push(envelope.position);
        }
    };
    tokio::time::timeout(DEADLINE, read)
        .await
        .expect("reader receives 1,600 events");
    for writer in writers {
        writer.await.expect("writer");
    }
    assert_eq!(
        seen,
        (1..=1600).collect::<Vec<u64>>(),
        "gap-free, increasing positions"
    );
    println!(
        "reader saw {} events, positions 1..={}",
        seen.len(),
        seen.last().copied().unwrap_or(0)
    );
}

#[tokio::test]
async fn subscribing_without_the_service_role_is_refused() {
    let (_guard, db) = database("producer").await;
    let producer = start_producer(&db, None).await;
    let provider = twotier_testkit::token("alice", "contoso", &[Role::GlobalAdmin]);
    let mut client =
        EventLogServiceClient::with_interceptor(producer.server.channel(), Bearer::new(&provider));
    assert_error(
        client.subscribe(SubscribeRequest::default()).await,
        tonic::Code::PermissionDenied,
        "ROLE_NOT_ALLOWED",
    );
    let mut anonymous =
        EventLogServiceClient::with_interceptor(producer.server.channel(), Bearer::none());
    assert_error(
        anonymous.subscribe(SubscribeRequest::default()).await,
        tonic::Code::Unauthenticated,
        "MISSING_CREDENTIALS",
    );
}

#[tokio::test]
async fn events_pruned_while_a_subscriber_lagged_end_its_stream_with_events_pruned() {
    let (_guard, db) = database("producer").await;
    let producer = start_producer(&db, None).await;
    write_events(&producer.outbox, 10, "a").await;
    let mut client = log_reader(&producer);
    wait_for_head(&client, "all ten sequenced", |head| {
        head.head_position == 10
    })
    .await;
    // Fault: rows after the subscriber's position disappear (as pruning
    // would remove them while it lagged).
    db.execute_unprepared("DELETE FROM outbox_event WHERE position BETWEEN 3 AND 5")
        .await
        .unwrap();
    let mut stream = client
        .subscribe(SubscribeRequest {
            after_position: 2,
            event_types: vec![],
        })
        .await
        .expect("subscribe")
        .into_inner();
    let outcome = tokio::time::timeout(DEADLINE, stream.message())
        .await
        .expect("answer in time");
    assert_error(outcome, tonic::Code::FailedPrecondition, "EVENTS_PRUNED");
}

/// A retention of seconds is kept to within a second or so, not until the
/// next hourly prune: a subscriber asking for what has expired since hears
/// `EVENTS_PRUNED`, with the oldest position still retained.
#[tokio::test]
async fn events_past_a_short_retention_are_pruned_within_moments() {
    let (_guard, db) = database("producer").await;
    let producer = start_producer_keeping(
        &db,
        None,
        Duration::from_millis(200),
        Duration::from_secs(2),
    )
    .await;
    write_events(&producer.outbox, 3, "a").await;
    let mut client = log_reader(&producer);
    wait_for_head(&client, "the first events are pruned", |head| {
        head.oldest_retained_position == 3
    })
    .await;
    let outcome = match client
        .subscribe(SubscribeRequest {
            after_position: 1,
            event_types: vec![],
        })
        .await
    {
        Ok(stream) => tokio::time::timeout(DEADLINE, stream.into_inner().message())
            .await
            .expect("answer in time"),
        Err(status) => Err(status),
    };
    assert_error(outcome, tonic::Code::FailedPrecondition, "EVENTS_PRUNED");
}

/// An event type the filtered subscribers below do not ask for.
#[derive(Clone, PartialEq, prost::Message)]
struct Other {
    #[prost(string, tag = "1")]
    value: String,
}

impl prost::Name for Other {
    const NAME: &'static str = "Other";
    const PACKAGE: &'static str = "twotier.test.v1";
}

/// A subscription to the notes after `after`, and nothing else.
async fn subscribe_to_notes(producer: &Producer, after: u64) -> tonic::Streaming<EventEnvelope> {
    let token = twotier_testkit::service_token("reader");
    let mut client =
        EventLogServiceClient::with_interceptor(producer.server.channel(), Bearer::new(&token));
    client
        .subscribe(SubscribeRequest {
            after_position: after,
            event_types: vec![<Note as prost::Name>::full_name()],
        })
        .await
        .expect("subscribe")
        .into_inner()
}

async fn next(stream: &mut tonic::Streaming<EventEnvelope>) -> EventEnvelope {
    tokio::time::timeout(DEADLINE, stream.message())
        .await
        .expect("an event in time")
        .expect("stream")
        .expect("stream open")
}

fn value_of(envelope: &EventEnvelope) -> String {
    twotier_outbox::decode_payload::<Note>(envelope)
        .expect("a note")
        .value
}

async fn write(outbox: &twotier_outbox::Outbox, event: twotier_outbox::Event) {
    let tx = outbox.begin().await.expect("begin");
    tx.append(event).await.expect("append");
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn a_filtered_subscriber_receives_only_its_types_when_other_events_come_between() {
    let (_guard, db) = database("filtered").await;
    let producer = start_producer(&db, None).await;
    let mut stream = subscribe_to_notes(&producer, 0).await;
    let mut last = 0;
    for round in 0..8 {
        // The reader is woken by each of these and looks at the position
        // right after what it has seen: an event it must not receive.
        for i in 0..2 {
            let value = format!("other-{round}-{i}");
            write(
                &producer.outbox,
                twotier_outbox::Event::new("test", value.clone(), "tenant-a", &Other { value }),
            )
            .await;
        }
        write(&producer.outbox, note("note", round)).await;
        let envelope = next(&mut stream).await;
        assert_eq!(envelope.event_type, <Note as prost::Name>::full_name());
        assert_eq!(value_of(&envelope), format!("note-{round}"));
        assert!(envelope.position > last, "in log order");
        last = envelope.position;
    }
    assert_eq!(last, 24, "every third event of 24 is a note");
}

#[tokio::test]
async fn a_filtered_subscriber_woken_by_new_events_does_not_also_ask_where_the_log_starts() {
    let (_guard, mut db) = database("filtered-probe").await;
    let sent: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&sent);
    db.set_metric_callback(move |info| {
        log.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(info.statement.sql.clone());
    });
    // No polling: the reader reads only when woken by a new event.
    let producer = start_producer_polling(&db, None, Duration::from_secs(3600)).await;
    let mut stream = subscribe_to_notes(&producer, 0).await;
    write_events(&producer.outbox, 1, "first").await;
    next(&mut stream).await;
    sent.lock().unwrap_or_else(PoisonError::into_inner).clear();
    for i in 0..10 {
        write(&producer.outbox, note("next", i)).await;
        assert_eq!(value_of(&next(&mut stream).await), format!("next-{i}"));
    }
    let sent = sent.lock().unwrap_or_else(PoisonError::into_inner);
    let asked_where_the_log_starts = sent
        .iter()
        .filter(|sql| sql.contains("MIN(position)"))
        .count();
    assert_eq!(
        asked_where_the_log_starts, 0,
        "each page brings the position after the reader's along; sent: {sent:#?}"
    );
}

#[tokio::test]
async fn events_pruned_while_a_filtered_subscriber_waited_end_its_stream_with_events_pruned() {
    let (_guard, db) = database("filtered-pruned").await;
    // No polling: the reader reads only when woken by the producer.
    let producer = start_producer_polling(&db, None, Duration::from_secs(3600)).await;
    write_events(&producer.outbox, 1, "seen").await;
    let mut stream = subscribe_to_notes(&producer, 0).await;
    assert_eq!(next(&mut stream).await.position, 1);
    // Six more notes the reader is not woken for (another outbox over the
    // same table, numbered here without announcing them)...
    let elsewhere = twotier_outbox::Outbox::new(db.clone());
    write_events(&elsewhere, 6, "unseen").await;
    db.execute_unprepared("UPDATE outbox_event SET position = id WHERE position IS NULL")
        .await
        .expect("number them");
    // ... and the fault: pruning removes the first five while it waits.
    db.execute_unprepared("DELETE FROM outbox_event WHERE position <= 5")
        .await
        .expect("prune");
    write(&producer.outbox, note("wakes", 0)).await;
    let outcome = tokio::time::timeout(DEADLINE, stream.message())
        .await
        .expect("answer in time");
    assert_error(outcome, tonic::Code::FailedPrecondition, "EVENTS_PRUNED");
}

#[tokio::test]
async fn on_postgresql_the_head_covers_an_event_committed_but_not_yet_numbered() {
    let (_guard, db) = database("head").await;
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    // A sequencer that would not look again for an hour: only the head's
    // own numbering can cover the row below.
    let producer = start_producer_polling(&db, None, Duration::from_secs(3600)).await;
    write_events(&producer.outbox, 2, "a").await;
    let token = twotier_testkit::service_token("reader");
    let client =
        EventLogServiceClient::with_interceptor(producer.server.channel(), Bearer::new(&token));
    let head = || {
        let mut client = client.clone();
        async move {
            client
                .get_log_head(twotier_proto::events::GetLogHeadRequest {})
                .await
                .expect("head")
                .into_inner()
                .head_position
        }
    };
    assert_eq!(head().await, 2, "nothing waits: the numbered head");
    // Committed without waking anyone, as a command's row is between its
    // commit and the sequencer's next batch.
    db.execute_unprepared(
        "INSERT INTO outbox_event (event_id, position, event_type, aggregate_type, \
         aggregate_id, tenant_id, occurred_at, traceparent, tracestate, payload) VALUES \
         ('waiting', NULL, 'test.Note', 'test', 'x', 'tenant-a', now(), '', '', ''::bytea)",
    )
    .await
    .expect("unnumbered row");
    assert_eq!(head().await, 3, "the waiting row is numbered and covered");
    assert_eq!(head().await, 3);
}

/// A cursor beyond the head was never given by this log: waiting there
/// would skip everything before it, so the subscription is refused; the
/// largest position a request can carry is refused the same way, without
/// overflowing.
#[tokio::test]
async fn a_position_beyond_the_head_is_out_of_range() {
    let (_guard, db) = database("producer").await;
    let producer = start_producer(&db, None).await;
    write_events(&producer.outbox, 3, "a").await;
    let mut client = log_reader(&producer);
    wait_for_head(&client, "all three sequenced", |head| {
        head.head_position == 3
    })
    .await;
    for after_position in [4, i64::MAX as u64] {
        assert_error(
            client
                .subscribe(SubscribeRequest {
                    after_position,
                    event_types: vec![],
                })
                .await,
            tonic::Code::OutOfRange,
            "POSITION_AHEAD_OF_LOG",
        );
    }
    // At the head, it waits for what comes next.
    let mut stream = client
        .subscribe(SubscribeRequest {
            after_position: 3,
            event_types: vec![],
        })
        .await
        .expect("subscribe at the head")
        .into_inner();
    write_events(&producer.outbox, 1, "b").await;
    let next = tokio::time::timeout(DEADLINE, stream.message())
        .await
        .expect("in time")
        .expect("an event")
        .expect("open");
    assert_eq!(next.position, 4);
}

/// Pruning removes a prefix of the log only: an event whose time (its
/// writer's clock) is past the retention while an earlier one is not is
/// kept, so no reader ever meets a hole in the middle of the log.
#[tokio::test]
async fn pruning_never_leaves_a_hole_behind_an_event_still_retained() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    use twotier_outbox::entity::outbox_event;

    let (_guard, db) = database("producer").await;
    // Written first, with the clocks set below, then pruned by a producer
    // keeping two seconds.
    let writer = start_producer(&db, None).await;
    write_events(&writer.outbox, 4, "a").await;
    wait_for_head(&log_reader(&writer), "all four sequenced", |head| {
        head.head_position == 4
    })
    .await;
    let hour = chrono::TimeDelta::hours(1);
    for (position, at) in [
        (1, chrono::Utc::now() - hour),
        (2, chrono::Utc::now() + hour),
        (3, chrono::Utc::now() - hour),
    ] {
        outbox_event::Entity::update_many()
            .col_expr(outbox_event::Column::OccurredAt, Expr::value(at))
            .filter(outbox_event::Column::Position.eq(position))
            .exec(&db)
            .await
            .expect("set the event's time");
    }
    let producer = start_producer_keeping(
        &db,
        None,
        Duration::from_millis(200),
        Duration::from_secs(2),
    )
    .await;
    let mut client = log_reader(&producer);
    wait_for_head(&client, "the expired prefix is pruned", |head| {
        head.oldest_retained_position == 2
    })
    .await;
    let mut stream = client
        .subscribe(SubscribeRequest {
            after_position: 1,
            event_types: vec![],
        })
        .await
        .expect("subscribe")
        .into_inner();
    let mut positions = Vec::new();
    while positions.len() < 3 {
        let event = tokio::time::timeout(DEADLINE, stream.message())
            .await
            .expect("in time")
            .expect("an event")
            .expect("open");
        positions.push(event.position);
    }
    assert_eq!(positions, [2, 3, 4], "event 3 is kept behind event 2");
}
