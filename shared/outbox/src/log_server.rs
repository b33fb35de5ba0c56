//! `twotier.events.v1.EventLogService`: the outbox served as a log.

use std::time::Duration;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use twotier_platform::auth::{Access, Caller, Role, Rule};
use twotier_platform::{Error, Violations, validate};
use twotier_proto::events::event_log_service_server::{EventLogService, EventLogServiceServer};
use twotier_proto::events::{EventEnvelope, GetLogHeadRequest, LogHead, SubscribeRequest};

use crate::entity::outbox_event;
use crate::envelope::envelope_of;
use crate::writer::Outbox;

/// Most event types a subscription may filter on: every service publishes
/// far fewer, and each one is a bound parameter of every replay query.
pub const MAX_EVENT_TYPES: usize = 100;
/// Longest event type name a filter may hold.
const MAX_EVENT_TYPE_CHARS: usize = 200;

/// Events read per query while replaying.
const PAGE: u64 = 256;
/// Envelopes buffered per subscriber before the reader waits for it.
const BUFFER: usize = 512;

/// Serves a service's outbox as a log.
#[derive(Clone)]
pub struct EventLog {
    outbox: Outbox,
    poll_interval: Duration,
    shutdown: CancellationToken,
}

impl EventLog {
    /// A log server over `outbox`. Streams end when `shutdown` is cancelled,
    /// so a graceful shutdown is not held up by subscribers.
    pub fn new(outbox: Outbox, poll_interval: Duration, shutdown: CancellationToken) -> Self {
        Self {
            outbox,
            poll_interval,
            shutdown,
        }
    }

    /// Who may follow the log: other twotier services, and the platform
    /// operator for inspection.
    pub const RULES: &'static [Rule] = &[
        Rule::new(SERVICE, "Subscribe", Access::AnyOf(READERS)),
        Rule::new(SERVICE, "GetLogHead", Access::AnyOf(READERS)),
    ];

    /// The tonic service.
    pub fn into_service(self) -> EventLogServiceServer<Self> {
        EventLogServiceServer::new(self)
    }
}

const SERVICE: &str = "twotier.events.v1.EventLogService";
const READERS: &[Role] = &[Role::Service, Role::PlatformOperator];
fn check_event_types(event_types: &[String]) -> Result<(), Error> {
    let mut violations = Violations::new();
    if event_types.len() > MAX_EVENT_TYPES {
        violations.add(
            "event_types",
            format!("must have at most {MAX_EVENT_TYPES} entries"),
        );
    } else {
        for (i, event_type) in event_types.iter().enumerate() {
            violations.check(
                format!("event_types[{i}]"),
                validate::line(event_type, 1, MAX_EVENT_TYPE_CHARS),
            );
        }
    }
    violations.into_result("INVALID_EVENT_TYPES")
}

fn authorize<T>(request: &Request<T>) -> Result<(), Error> {
    Caller::of(request)?.require_any(READERS)
}

#[tonic::async_trait]
impl EventLogService for EventLog {
    type SubscribeStream = ReceiverStream<Result<EventEnvelope, Status>>;

    async fn subscribe(
        &self,
        request: Request<SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        authorize(&request)?;
        let SubscribeRequest {
            after_position,
            event_types,
        } = request.into_inner();
        let after = i64::try_from(after_position).map_err(|_| {
            Error::invalid_field("INVALID_POSITION", "after_position", "is too large")
        })?;
        check_event_types(&event_types)?;
        let oldest = oldest_position(self.outbox.db())
            .await
            .map_err(Error::from)?;
        if oldest > after + 1 && after > 0 {
            return Err(Error::FailedPrecondition {
                reason: "EVENTS_PRUNED",
                message: format!(
                    "events after position {after} were pruned; the oldest retained is {oldest}"
                ),
            }
            .into());
        }
        let (sender, receiver) = mpsc::channel(BUFFER);
        let follower = Follower {
            db: self.outbox.db().clone(),
            head: self.outbox.watch_head(),
            event_types,
            poll_interval: self.poll_interval,
            shutdown: self.shutdown.clone(),
            sender,
        };
        tokio::spawn(follower.run(after));
        Ok(Response::new(ReceiverStream::new(receiver)))
    }

    async fn get_log_head(
        &self,
        request: Request<GetLogHeadRequest>,
    ) -> Result<Response<LogHead>, Status> {
        authorize(&request)?;
        // Number whatever is committed but not yet sequenced, so the head
        // covers every event committed before this call: a consumer that
        // catches up to it has seen the caller's writes.
        while crate::sequencer::sequence_batch(&self.outbox)
            .await
            .map_err(Error::from)?
            > 0
        {}
        let db = self.outbox.db();
        let head = crate::sequencer::head_position(db)
            .await
            .map_err(Error::from)?;
        let oldest = oldest_position(db).await.map_err(Error::from)?;
        Ok(Response::new(LogHead {
            head_position: u64::try_from(head).unwrap_or_default(),
            oldest_retained_position: u64::try_from(oldest).unwrap_or_default(),
        }))
    }
}

/// Feeds one subscriber: replays from the table, then follows the head.
struct Follower {
    db: DatabaseConnection,
    head: tokio::sync::watch::Receiver<u64>,
    event_types: Vec<String>,
    poll_interval: Duration,
    shutdown: CancellationToken,
    sender: mpsc::Sender<Result<EventEnvelope, Status>>,
}

impl Follower {
    async fn run(mut self, after: i64) {
        let mut cursor = after;
        loop {
            // Everything sequenced up to `head_before` is covered by the
            // query below; a later head means there may be more.
            let head_before = *self.head.borrow_and_update();
            let rows = match self.page_after(cursor).await {
                Ok(rows) => rows,
                Err(error) => {
                    let _ = self.sender.send(Err(Error::from(error).into())).await;
                    return;
                }
            };
            // Positions have no gaps: an unfiltered reader that finds one
            // has lost events to pruning and must not silently go on.
            if self.event_types.is_empty()
                && cursor > 0
                && let Some(first) = rows.first().and_then(|row| row.position)
                && first != cursor + 1
            {
                let pruned = Error::FailedPrecondition {
                    reason: "EVENTS_PRUNED",
                    message: format!(
                        "events after position {cursor} were pruned while this subscriber fell behind"
                    ),
                };
                let _ = self.sender.send(Err(pruned.into())).await;
                return;
            }
            let full = rows.len() as u64 == PAGE;
            for row in rows {
                cursor = row.position.unwrap_or(cursor);
                if self.sender.send(Ok(envelope_of(row))).await.is_err() {
                    return;
                }
            }
            if full || *self.head.borrow() > head_before {
                continue;
            }
            tokio::select! {
                () = self.shutdown.cancelled() => return,
                () = self.sender.closed() => return,
                changed = self.head.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                () = tokio::time::sleep(self.poll_interval) => {},
            }
        }
    }

    async fn page_after(&self, cursor: i64) -> Result<Vec<outbox_event::Model>, DbErr> {
        let mut query = outbox_event::Entity::find()
            .filter(outbox_event::Column::Position.gt(cursor))
            .order_by_asc(outbox_event::Column::Position)
            .limit(PAGE);
        if !self.event_types.is_empty() {
            query = query.filter(outbox_event::Column::EventType.is_in(self.event_types.clone()));
        }
        query.all(&self.db).await
    }
}

/// The lowest retained position, 0 for an empty log.
async fn oldest_position(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COALESCE(MIN(position), 0) AS oldest FROM outbox_event",
        ))
        .await?;
    match row {
        Some(row) => row.try_get::<i64>("", "oldest"),
        None => Ok(0),
    }
}
