//! Writing events in the command's own transaction.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use chrono::Utc;
use sea_orm::sea_query::{Expr, InsertStatement, Query, Value};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, TransactionTrait,
};
use tokio::sync::{Notify, watch};
use twotier_platform::inline_reads::Reads;

use crate::entity::outbox_event;

/// An event to append: its typed payload and the aggregate it belongs to.
#[derive(Debug, Clone)]
pub struct Event {
    event_type: String,
    aggregate_type: &'static str,
    aggregate_id: String,
    tenant_id: String,
    payload: Vec<u8>,
    /// W3C `traceparent` and `tracestate` it carries, when not the
    /// appending span's.
    trace: Option<(String, String)>,
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
            trace: None,
        }
    }

    /// The event carrying the trace of `span` instead of the span that
    /// appends it: for events appended together on behalf of several.
    pub fn traced_by(mut self, span: &tracing::Span) -> Self {
        self.trace = Some(span.in_scope(twotier_platform::telemetry::current_trace_context));
        self
    }
}

/// A service's outbox: starts command transactions and wakes the sequencer
/// when one that appended events commits.
#[derive(Clone)]
pub struct Outbox {
    db: DatabaseConnection,
    reads: Reads,
    pub(crate) wake: Arc<Notify>,
    pub(crate) head: Arc<watch::Sender<u64>>,
}

impl Outbox {
    /// The outbox of the service database `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            reads: Reads::pool_only(db.clone()),
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
    pub fn with_reads(mut self, reads: Reads) -> Self {
        self.reads = reads;
        self
    }

    /// Where queries that write nothing go: the read pool beside the
    /// writer on SQLite, the same pool on PostgreSQL.
    pub fn reads(&self) -> &DatabaseConnection {
        self.reads.pool()
    }

    /// The same, with SQLite's reads in the calling thread for the reads
    /// made by position (`twotier_platform::by_position`).
    pub fn reads_by_position(&self) -> &Reads {
        &self.reads
    }

    /// Starts the transaction of one command.
    pub async fn begin(&self) -> Result<Tx, DbErr> {
        Ok(Tx {
            txn: self.db.begin().await?,
            wake: self.wake.clone(),
            head: self.head.clone(),
            appended: AtomicBool::new(false),
            numbered: AtomicU64::new(0),
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
    /// The highest position an append numbered (SQLite), 0 if none did.
    numbered: AtomicU64,
}

impl Tx {
    /// Writes `event` into the outbox, in this transaction. It carries the
    /// current span's trace context unless it has its own
    /// ([`Event::traced_by`]).
    ///
    /// On SQLite the event gets its log position here: SQLite runs one
    /// writing transaction at a time, so the next position cannot be taken
    /// by anyone else before this one commits, and positions become
    /// visible in order without a numbering transaction of their own (one
    /// statement, where the sequencer's numbering costs four and a commit).
    /// On PostgreSQL transactions commit concurrently and in any order, so
    /// the row is written unnumbered and the sequencer numbers it once it
    /// is committed.
    pub async fn append(&self, event: Event) -> Result<(), DbErr> {
        if self.txn.get_database_backend() == DbBackend::Sqlite {
            self.append_numbered(event).await
        } else {
            self.append_unnumbered(vec![event]).await
        }
    }

    /// Writes `events` into the outbox, in this transaction, as
    /// [`Tx::append`] does each; on PostgreSQL in one statement.
    pub async fn append_all(&self, events: Vec<Event>) -> Result<(), DbErr> {
        if self.txn.get_database_backend() != DbBackend::Sqlite {
            return self.append_unnumbered(events).await;
        }
        // Each row's position is the one before it plus one, so each
        // needs the previous row written: one statement per event.
        for event in events {
            self.append_numbered(event).await?;
        }
        Ok(())
    }

    async fn append_numbered(&self, event: Event) -> Result<(), DbErr> {
        let backend = self.txn.get_database_backend();
        let position = Expr::cust("(SELECT COALESCE(MAX(position), 0) + 1 FROM outbox_event)");
        let mut insert = insert_rows(vec![(event, position)])?;
        insert.returning_col(outbox_event::Column::Position);
        let row = self.txn.query_one_raw(backend.build(&insert)).await?;
        let position = row
            .map(|row| row.try_get::<i64>("", "position"))
            .transpose()?
            .ok_or_else(|| DbErr::Custom("outbox insert returned no position".into()))?;
        self.numbered.fetch_max(
            u64::try_from(position).unwrap_or_default(),
            Ordering::Relaxed,
        );
        self.appended.store(true, Ordering::Relaxed);
        Ok(())
    }

    async fn append_unnumbered(&self, events: Vec<Event>) -> Result<(), DbErr> {
        if events.is_empty() {
            return Ok(());
        }
        let rows = events
            .into_iter()
            .map(|event| (event, Expr::val(Value::BigInt(None))))
            .collect();
        let backend = self.txn.get_database_backend();
        self.txn
            .execute_raw(backend.build(&insert_rows(rows)?))
            .await?;
        self.appended.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Commits the command and makes the events it appended readable: on
    /// SQLite they are numbered already (see [`Tx::append`]), so readers
    /// are told the new head; on PostgreSQL the sequencer is woken to
    /// number them.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await?;
        if !self.appended.load(Ordering::Relaxed) {
            return Ok(());
        }
        let numbered = self.numbered.load(Ordering::Relaxed);
        if numbered > 0 {
            self.head
                .send_if_modified(|current| crate::sequencer::raise(current, numbered));
        } else {
            self.wake.notify_one();
        }
        Ok(())
    }
}

impl Deref for Tx {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &Self::Target {
        &self.txn
    }
}

/// The insert of `rows` (each event with its position) into the outbox.
fn insert_rows(rows: Vec<(Event, Expr)>) -> Result<InsertStatement, DbErr> {
    use outbox_event::Column;
    let mut insert = Query::insert();
    insert.into_table(outbox_event::Entity).columns([
        Column::EventId,
        Column::Position,
        Column::EventType,
        Column::AggregateType,
        Column::AggregateId,
        Column::TenantId,
        Column::OccurredAt,
        Column::Traceparent,
        Column::Tracestate,
        Column::Payload,
    ]);
    let now = Utc::now();
    for (event, position) in rows {
        let (traceparent, tracestate) = event
            .trace
            .unwrap_or_else(twotier_platform::telemetry::current_trace_context);
        insert
            .values([
                Expr::val(uuid::Uuid::now_v7().to_string()),
                position,
                Expr::val(event.event_type),
                Expr::val(event.aggregate_type),
                Expr::val(event.aggregate_id),
                Expr::val(event.tenant_id),
                Expr::val(now),
                Expr::val(traceparent),
                Expr::val(tracestate),
                Expr::val(event.payload),
            ])
            .map_err(|error| DbErr::Custom(format!("outbox insert: {error}")))?;
    }
    Ok(insert)
}
