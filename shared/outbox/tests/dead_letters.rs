//! Dead letters, end to end through gRPC: an event that keeps failing is
//! parked after bounded attempts while the consumer moves on, and the
//! operator replays it once when its cause is fixed.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use common::*;
use tokio_util::sync::CancellationToken;
use twotier_outbox::{DeadLetters, EventHandler};
use twotier_platform::auth::Role;
use twotier_platform::paging::PageTokens;
use twotier_platform::server::GrpcServer;
use twotier_proto::events::dead_letter_service_client::DeadLetterServiceClient;
use twotier_proto::events::{DeadLetterState, ListDeadLettersRequest, ReplayDeadLetterRequest};
use twotier_testkit::{Bearer, RunningServer, assert_error, wait_until};

#[tokio::test]
async fn poison_event_is_dead_lettered_after_bounded_attempts_and_replays_once_when_fixed() {
    let (_producer_db_guard, producer_db) = database("producer").await;
    let (_consumer_db_guard, consumer_db) = database("consumer").await;
    let producer = start_producer(&producer_db, None).await;
    write_events(&producer.outbox, 5, "a").await;

    let recorder = Arc::new(Recorder {
        poisoned_value: Some("a-2".into()),
        ..Recorder::new()
    });
    let follower = consumer(&consumer_db, recorder.clone(), &producer.server.endpoint());
    let stop = CancellationToken::new();
    tokio::spawn(follower.run(stop.clone()));
    wait_until("the other four events handled", DEADLINE, || async {
        received(&consumer_db).await.len() >= 4
    })
    .await;
    assert_eq!(
        received(&consumer_db).await,
        vec![1, 2, 4, 5],
        "the consumer moved on past the poison event"
    );
    assert_eq!(
        recorder.attempts_on_poison.load(Ordering::SeqCst),
        3,
        "bounded attempts"
    );

    // The consumer's admin service shows and replays the dead letter.
    let shutdown = CancellationToken::new();
    let mut grpc = GrpcServer::new(limits(), twotier_testkit::verifier());
    let handlers: HashMap<String, Arc<dyn EventHandler>> = HashMap::from([(
        "producer".to_owned(),
        recorder.clone() as Arc<dyn EventHandler>,
    )]);
    grpc.add_service(
        DeadLetters::new(
            consumer_db.clone(),
            handlers,
            PageTokens::of(&twotier_testkit::identity()),
        )
        .into_service(),
        DeadLetters::RULES,
    );
    let admin_server = RunningServer::start(grpc, shutdown).await;
    let operator = twotier_testkit::token("op", "twotier", &[Role::PlatformOperator]);
    let mut admin =
        DeadLetterServiceClient::with_interceptor(admin_server.channel(), Bearer::new(&operator));
    let listed = admin
        .list_dead_letters(ListDeadLettersRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.dead_letters.len(), 1);
    let parked = &listed.dead_letters[0];
    assert_eq!(parked.event.as_ref().map(|e| e.position), Some(3));
    assert_eq!(parked.attempts, 3);
    assert!(parked.error.contains("cannot handle"));

    // Replaying before the cause is fixed fails and changes nothing.
    assert_error(
        admin
            .replay_dead_letter(ReplayDeadLetterRequest {
                name: parked.name.clone(),
            })
            .await,
        tonic::Code::FailedPrecondition,
        "REPLAY_FAILED",
    );
    recorder.poison_fixed.store(true, Ordering::SeqCst);
    let replayed = admin
        .replay_dead_letter(ReplayDeadLetterRequest {
            name: parked.name.clone(),
        })
        .await
        .expect("replay")
        .into_inner();
    assert_eq!(replayed.state, DeadLetterState::Replayed as i32);
    assert_eq!(received(&consumer_db).await, vec![1, 2, 3, 4, 5]);
    assert_error(
        admin
            .replay_dead_letter(ReplayDeadLetterRequest {
                name: parked.name.clone(),
            })
            .await,
        tonic::Code::FailedPrecondition,
        "DEAD_LETTER_ALREADY_REPLAYED",
    );
    assert_eq!(received(&consumer_db).await.len(), 5, "applied once");

    // Only operators see dead letters.
    let provider = twotier_testkit::token("alice", "contoso", &[Role::GlobalAdmin]);
    let mut stranger =
        DeadLetterServiceClient::with_interceptor(admin_server.channel(), Bearer::new(&provider));
    assert_error(
        stranger
            .list_dead_letters(ListDeadLettersRequest::default())
            .await,
        tonic::Code::PermissionDenied,
        "ROLE_NOT_ALLOWED",
    );
    stop.cancel();
}
