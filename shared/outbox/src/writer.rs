//! Writing events in the command's own transaction.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, TransactionTrait,
};
use tokio::sync::{Notify, watch};

use crate::entity::outbox_event;

/// An event to append: its typed payload and the aggregate it belongs to.
#[derive(Debug, Clone)]
pub struct Event {
    event_type: String,
    aggregate_type: &'static str,
    aggregate_id: String,
    tenant_id: String,
    payload: Vec<u8>,
}

impl Event {
    /// An event carrying `payload`, about `aggregate_type`/`aggregate_id`,
    /// made on behalf of `tenant_id`: the provider tenant the event concerns
    /// (a reseller's own tenant for its platform record, empty for
    /// platform-wide changes). That tenant's own backend receives the event
    /// in its feed (R30), whatever its type, so pass the provider's tenant
    /// even when someone else (a reseller, a customer admin) made the change.
    pub fn new<M: prost::Name>(
        aggregate_type: &'static str,
        aggregate_id: impl Into<String>,
        tenant_id: impl Into<String>,
        payload: &M,
    ) -> Self {
        Self {
            event_type: M::full_name(),
            aggregate_type,
            aggregate_id: aggregate_id.into(),
            tenant_id: tenant_id.into(),
            payload: payload.encode_to_vec(),
        }
    }
}

/// A service's outbox: starts command transactions and wakes the sequencer
/// when one that appended events commits.
#[derive(Clone)]
pub struct Outbox {
    db: DatabaseConnection,
    reads: DatabaseConnection,
    pub(crate) wake: Arc<Notify>,
    pub(crate) head: Arc<watch::Sender<u64>>,
}

impl Outbox {
    /// The outbox of the service database `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            reads: db.clone(),
            db,
            wake: Arc::new(Notify::new()),
            head: Arc::new(watch::Sender::new(0)),
        }
    }

    /// The service database.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// This outbox, answering [`Outbox::reads`] from `reads` (connections
    /// to the same database that see every committed command).
    pub fn with_reads(mut self, reads: DatabaseConnection) -> Self {
        self.reads = reads;
        self
    }

    /// Where queries that write nothing go: the read pool beside the
    /// writer on SQLite, the same pool on PostgreSQL.
    pub fn reads(&self) -> &DatabaseConnection {
        &self.reads
    }

    /// Starts the transaction of one command.
    pub async fn begin(&self) -> Result<Tx, DbErr> {
        Ok(Tx {
            txn: self.db.begin().await?,
            wake: self.wake.clone(),
            head: self.head.clone(),
            appended: AtomicBool::new(false),
            resource: std::sync::Mutex::new(None),
        })
    }

    /// Receives the highest sequenced position each time it grows.
    pub fn watch_head(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }
}

/// The transaction of one command. Derefs to the database transaction for
/// the command's own writes; [`Tx::append`] adds events to it.
pub struct Tx {
    txn: DatabaseTransaction,
    wake: Arc<Notify>,
    head: Arc<watch::Sender<u64>>,
    appended: AtomicBool,
    resource: std::sync::Mutex<Option<String>>,
}

impl Tx {
    /// Writes `event` into the outbox, in this transaction. It carries the
    /// current span's trace context.
    pub async fn append(&self, event: Event) -> Result<(), DbErr> {
        let (traceparent, tracestate) = twotier_platform::telemetry::current_trace_context();
        let row = outbox_event::ActiveModel {
            event_id: Set(uuid::Uuid::now_v7().to_string()),
            position: Set(None),
            event_type: Set(event.event_type),
            aggregate_type: Set(event.aggregate_type.to_owned()),
            aggregate_id: Set(event.aggregate_id),
            tenant_id: Set(event.tenant_id),
            occurred_at: Set(Utc::now()),
            traceparent: Set(traceparent),
            tracestate: Set(tracestate),
            payload: Set(event.payload),
            ..Default::default()
        };
        outbox_event::Entity::insert(row).exec(&self.txn).await?;
        self.appended.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Names the resource the command turned out to act on (an invitation
    /// accepted by its token), for its audit record.
    pub fn audit_as(&self, resource: impl Into<String>) {
        *self
            .resource
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(resource.into());
    }

    pub(crate) fn audited_resource(&self) -> Option<String> {
        self.resource
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Commits the command and makes the events it appended readable.
    ///
    /// On SQLite the events are numbered in this transaction: SQLite runs
    /// one writing transaction at a time, so positions assigned before
    /// commit become visible in order, and the command's commit is the
    /// only one (the sequencer would otherwise commit the numbering
    /// separately). On PostgreSQL transactions commit concurrently and in
    /// any order, so the sequencer numbers the rows once they are
    /// committed; it is woken here.
    pub async fn commit(self) -> Result<(), DbErr> {
        if !self.appended.load(Ordering::Relaxed) {
            return self.txn.commit().await;
        }
        if self.txn.get_database_backend() != DbBackend::Sqlite {
            self.txn.commit().await?;
            self.wake.notify_one();
            return Ok(());
        }
        let (_, head) = crate::sequencer::number_on_sqlite(&self.txn).await?;
        self.txn.commit().await?;
        let head = u64::try_from(head).unwrap_or_default();
        self.head
            .send_if_modified(|current| crate::sequencer::raise(current, head));
        Ok(())
    }
}

impl Deref for Tx {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &Self::Target {
        &self.txn
    }
}
