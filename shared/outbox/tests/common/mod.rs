//! Fixtures of the outbox's log tests: a database with the outbox, consumer,
//! audit and stored-reply tables, a producer (outbox, sequencer and log
//! server on an ephemeral port), and a consumer whose handler records each
//! event once and refuses duplicates and reorderings.

#![allow(dead_code, unused_imports)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, Statement};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use tokio_util::sync::CancellationToken;
use twotier_outbox::migration::{CreateAuditTable, CreateConsumerTables, CreateOutbox};
use twotier_outbox::{
    Consumer, ConsumerSettings, Event, EventHandler, EventLog, HandleError, Outbox, Sequencer,
};
use twotier_platform::channel::ClientChannels;
use twotier_platform::config::{EnvMap, Settings};
use twotier_platform::server::{GrpcServer, ServerLimits};
use twotier_proto::events::EventEnvelope;
use twotier_testkit::{RunningServer, TestDatabase};

pub const DEADLINE: Duration = Duration::from_secs(60);

/// The test's event payload.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Note {
    #[prost(string, tag = "1")]
    pub value: String,
}

impl prost::Name for Note {
    const NAME: &'static str = "Note";
    const PACKAGE: &'static str = "twotier.test.v1";
}

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateOutbox),
            Box::new(CreateConsumerTables),
            Box::new(CreateAuditTable),
            Box::new(twotier_platform::idempotency::migration::Migration),
        ]
    }
}

pub async fn database(label: &str) -> (TestDatabase, DatabaseConnection) {
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

pub fn limits() -> ServerLimits {
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
pub struct Producer {
    pub outbox: Outbox,
    pub server: RunningServer,
}

pub async fn start_producer(
    db: &DatabaseConnection,
    addr: Option<std::net::SocketAddr>,
) -> Producer {
    start_producer_polling(db, addr, Duration::from_millis(200)).await
}

/// A producer whose sequencer and log readers look for new rows every
/// `poll` when nothing wakes them.
pub async fn start_producer_polling(
    db: &DatabaseConnection,
    addr: Option<std::net::SocketAddr>,
    poll: Duration,
) -> Producer {
    start_producer_keeping(db, addr, poll, Duration::from_secs(3600)).await
}

/// The same, keeping events for `retention`.
pub async fn start_producer_keeping(
    db: &DatabaseConnection,
    addr: Option<std::net::SocketAddr>,
    poll: Duration,
    retention: Duration,
) -> Producer {
    let outbox = Outbox::new(db.clone());
    let shutdown = CancellationToken::new();
    tokio::spawn(Sequencer::new(outbox.clone(), poll, retention).run(shutdown.clone()));
    let mut grpc = GrpcServer::new(limits(), twotier_testkit::verifier());
    grpc.add_service(
        EventLog::new(outbox.clone(), poll, shutdown.clone()).into_service(),
        EventLog::RULES,
    );
    let server = match addr {
        None => RunningServer::start(grpc, shutdown).await,
        Some(addr) => RunningServer::start_at(grpc, shutdown, addr).await,
    };
    Producer { outbox, server }
}

/// A client of `producer`'s log, signed as another service.
pub type LogReader = twotier_proto::events::event_log_service_client::EventLogServiceClient<
    tonic::service::interceptor::InterceptedService<
        tonic::transport::Channel,
        twotier_testkit::Bearer,
    >,
>;

/// A reader of `producer`'s log, as another service follows it.
pub fn log_reader(producer: &Producer) -> LogReader {
    let token = twotier_testkit::service_token("reader");
    twotier_proto::events::event_log_service_client::EventLogServiceClient::with_interceptor(
        producer.server.channel(),
        twotier_testkit::Bearer::new(&token),
    )
}

/// Waits until the log `reader` reads has a head that `holds`.
pub async fn wait_for_head(
    reader: &LogReader,
    what: &str,
    holds: impl Fn(&twotier_proto::events::LogHead) -> bool,
) {
    let holds = &holds;
    twotier_testkit::wait_until(what, DEADLINE, || {
        let mut reader = reader.clone();
        async move {
            reader
                .get_log_head(twotier_proto::events::GetLogHeadRequest {})
                .await
                .is_ok_and(|head| holds(&head.into_inner()))
        }
    })
    .await;
}

pub async fn write_events(outbox: &Outbox, count: usize, tag: &str) {
    for i in 0..count {
        let tx = outbox.begin().await.expect("begin");
        tx.append(note(tag, i)).await.expect("append");
        tx.commit().await.expect("commit");
    }
}

/// The `i`th note tagged `tag`: aggregate and value `{tag}-{i}`, tenant-a.
pub fn note(tag: &str, i: usize) -> Event {
    let value = format!("{tag}-{i}");
    Event::new("test", value.clone(), "tenant-a", &Note { value })
}

/// Records each event once, refusing any position at or below one it has
/// already recorded (which would be a duplicate or a reordering).
pub struct Recorder {
    pub poisoned_value: Option<String>,
    /// Events whose value starts with this affect nothing here.
    pub unaffected_prefix: Option<String>,
    pub poison_fixed: AtomicBool,
    pub attempts_on_poison: AtomicU32,
}

impl Recorder {
    pub fn new() -> Self {
        Self {
            poisoned_value: None,
            unaffected_prefix: None,
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

    fn affects(&self, event: &EventEnvelope) -> bool {
        let Some(prefix) = &self.unaffected_prefix else {
            return true;
        };
        twotier_outbox::decode_payload::<Note>(event)
            .map_or(true, |payload| !payload.value.starts_with(prefix.as_str()))
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

pub async fn received(db: &DatabaseConnection) -> Vec<i64> {
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

pub fn consumer(
    db: &DatabaseConnection,
    handler: Arc<dyn EventHandler>,
    endpoint: &str,
) -> Consumer {
    let mut settings = ConsumerSettings::new("producer", endpoint, &ClientChannels::plaintext(), 3);
    settings.max_backoff = Duration::from_millis(200);
    Consumer::new(
        db.clone(),
        handler,
        settings,
        twotier_testkit::identity().service_tokens("test"),
    )
}
