//! The outbox read as a log, end to end through gRPC: sequencing under
//! concurrent writers, resuming consumers, dead letters. Each test is named
//! for the fault it injects.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, Statement};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use tokio_util::sync::CancellationToken;
use twotier_outbox::migration::{CreateConsumerTables, CreateOutbox};
use twotier_outbox::{
    Consumer, ConsumerSettings, DeadLetters, Event, EventHandler, EventLog, HandleError, Outbox,
    Sequencer,
};
use twotier_platform::auth::Role;
use twotier_platform::channel::ClientChannels;
use twotier_platform::config::{EnvMap, Settings};
use twotier_platform::paging::PageTokens;
use twotier_platform::server::{GrpcServer, ServerLimits};
use twotier_proto::events::dead_letter_service_client::DeadLetterServiceClient;
use twotier_proto::events::event_log_service_client::EventLogServiceClient;
use twotier_proto::events::{
    DeadLetterState, EventEnvelope, ListDeadLettersRequest, ReplayDeadLetterRequest,
    SubscribeRequest,
};
use twotier_testkit::{Bearer, RunningServer, TestDatabase, assert_error, wait_until};

const DEADLINE: Duration = Duration::from_secs(60);

/// The test's event payload.
#[derive(Clone, PartialEq, prost::Message)]
struct Note {
    #[prost(string, tag = "1")]
    value: String,
}

impl prost::Name for Note {
    const NAME: &'static str = "Note";
    const PACKAGE: &'static str = "twotier.test.v1";
}

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateOutbox), Box::new(CreateConsumerTables)]
    }
}

async fn database(label: &str) -> (TestDatabase, DatabaseConnection) {
    let test_db = TestDatabase::new(label).await;
    let db = twotier_platform::db::connect(&test_db.url, 16)
        .await
        .expect("connect");
    twotier_platform::db::migrate::<Migrator>(&db, label)
        .await
        .expect("migrate");
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        "CREATE TABLE received (position BIGINT PRIMARY KEY, event_id VARCHAR(36) NOT NULL UNIQUE)",
    ))
    .await
    .expect("create received table");
    (test_db, db)
}

fn limits() -> ServerLimits {
    let settings = Settings::load(&EnvMap::new(), "test").expect("default settings");
    ServerLimits {
        concurrency_limit: 256,
        tenant_concurrency_limit: 256,
        shutdown_grace: Duration::from_secs(2),
        drain_delay: Duration::ZERO,
        ..ServerLimits::from(&settings)
    }
}

/// A producer: outbox, sequencer and log server on an ephemeral port.
struct Producer {
    outbox: Outbox,
    server: RunningServer,
}

async fn start_producer(db: &DatabaseConnection, addr: Option<std::net::SocketAddr>) -> Producer {
    let outbox = Outbox::new(db.clone());
    let shutdown = CancellationToken::new();
    tokio::spawn(
        Sequencer::new(
            outbox.clone(),
            Duration::from_millis(200),
            Duration::from_secs(3600),
        )
        .run(shutdown.clone()),
    );
    let mut grpc = GrpcServer::new(limits(), twotier_testkit::verifier());
    grpc.add_service(
        EventLog::new(outbox.clone(), Duration::from_millis(200), shutdown.clone()).into_service(),
        EventLog::RULES,
    );
    let server = match addr {
        None => RunningServer::start(grpc, shutdown).await,
        Some(addr) => RunningServer::start_at(grpc, shutdown, addr).await,
    };
    Producer { outbox, server }
}

async fn write_events(outbox: &Outbox, count: usize, tag: &str) {
    for i in 0..count {
        let tx = outbox.begin().await.expect("begin");
        let payload = Note {
            value: format!("{tag}-{i}"),
        };
        tx.append(Event::new(
            "test",
            format!("{tag}-{i}"),
            "tenant-a",
            &payload,
        ))
        .await
        .expect("append");
        tx.commit().await.expect("commit");
    }
}

/// Records each event once, refusing any position at or below one it has
/// already recorded (which would be a duplicate or a reordering).
struct Recorder {
    poisoned_value: Option<String>,
    poison_fixed: AtomicBool,
    attempts_on_poison: AtomicU32,
}

impl Recorder {
    fn new() -> Self {
        Self {
            poisoned_value: None,
            poison_fixed: AtomicBool::new(false),
            attempts_on_poison: AtomicU32::new(0),
        }
    }
}

#[async_trait::async_trait]
impl EventHandler for Recorder {
    fn event_types(&self) -> Vec<String> {
        vec![<Note as prost::Name>::full_name()]
    }

    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &EventEnvelope,
    ) -> Result<(), HandleError> {
        let payload: Note = twotier_outbox::decode_payload(event)?;
        if self.poisoned_value.as_deref() == Some(payload.value.as_str())
            && !self.poison_fixed.load(Ordering::SeqCst)
        {
            self.attempts_on_poison.fetch_add(1, Ordering::SeqCst);
            return Err(HandleError::Rejected("cannot handle this one".into()));
        }
        let backend = txn.get_database_backend();
        let highest = txn
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COALESCE(MAX(position), 0) AS p FROM received",
            ))
            .await?
            .map(|row| row.try_get::<i64>("", "p"))
            .transpose()?
            .unwrap_or(0);
        let position = i64::try_from(event.position).expect("position fits");
        if position <= highest && self.poisoned_value.is_none() {
            return Err(HandleError::Rejected(format!(
                "position {position} after {highest}"
            )));
        }
        txn.execute_raw(Statement::from_string(
            backend,
            format!(
                "INSERT INTO received (position, event_id) VALUES ({position}, '{}')",
                event.event_id
            ),
        ))
        .await?;
        Ok(())
    }
}

async fn received(db: &DatabaseConnection) -> Vec<i64> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT position FROM received ORDER BY position",
        ))
        .await
        .expect("read received");
    rows.iter()
        .map(|row| row.try_get::<i64>("", "position").expect("position"))
        .collect()
}

fn consumer(db: &DatabaseConnection, handler: Arc<dyn EventHandler>, endpoint: &str) -> Consumer {
    let mut settings = ConsumerSettings::new("producer", endpoint, &ClientChannels::plaintext(), 3);
    settings.max_backoff = Duration::from_millis(200);
    Consumer::new(
        db.clone(),
        handler,
        settings,
        twotier_testkit::identity().service_tokens("test"),
    )
}

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
    stop.cancel();
    let stored = consumer_db
        .query_one_raw(Statement::from_string(
            consumer_db.get_database_backend(),
            "SELECT position FROM consumer_cursor",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "position")
        .unwrap();
    assert_eq!(
        stored, 5,
        "the stored cursor passed the ignored events, so pruning them cannot strand it"
    );
    assert_eq!(received(&consumer_db).await, vec![1, 2]);
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
