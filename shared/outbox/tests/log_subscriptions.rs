//! Subscribing to the outbox's log through gRPC: under eight concurrent
//! writers a reader never sees a position go backwards, only the service role
//! may subscribe, and a subscriber that lagged behind pruning is told
//! EVENTS_PRUNED.

mod common;

use common::*;
use sea_orm::ConnectionTrait;
use twotier_platform::auth::Role;
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
    let token = twotier_testkit::service_token("reader");
    let mut client =
        EventLogServiceClient::with_interceptor(producer.server.channel(), Bearer::new(&token));
    twotier_testkit::wait_until("all ten sequenced", DEADLINE, || {
        let mut client = client.clone();
        async move {
            client
                .get_log_head(twotier_proto::events::GetLogHeadRequest {})
                .await
                .is_ok_and(|head| head.into_inner().head_position == 10)
        }
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
