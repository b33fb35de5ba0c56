//! `twotier.events.v1.EventLogService`: the outbox served as a log.

use std::time::Duration;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use twotier_platform::auth::{Access, Caller, Role, Rule};
use twotier_platform::startup::ServiceContext;
use twotier_platform::{Error, Violations, validate};
use twotier_proto::events::event_log_service_server::{EventLogService, EventLogServiceServer};
use twotier_proto::events::{EventEnvelope, GetLogHeadRequest, LogHead, SubscribeRequest};

use crate::Sequencer;
use crate::entity::outbox_event;
use crate::envelope::envelope_of;
use crate::feed::Audience;
use crate::open_feeds::{FeedPermit, OpenFeeds};
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
    open_feeds: OpenFeeds,
}

impl EventLog {
    /// A log server over `outbox`. Streams end when `shutdown` is cancelled,
    /// so a graceful shutdown is not held up by subscribers.
    pub fn new(outbox: Outbox, poll_interval: Duration, shutdown: CancellationToken) -> Self {
        Self {
            outbox,
            poll_interval,
            shutdown,
            open_feeds: OpenFeeds::default(),
        }
    }

    /// The log server over `outbox`, with its sequencer running (pruning
    /// after `ctx.settings.outbox_retention`): everything a producing
    /// service starts to publish its log.
    ///
    /// On SQLite, commands number their own events as they write them
    /// ([`crate::Tx::append`]); rows written unnumbered before (by a version
    /// that left all numbering to the sequencer) are numbered here first,
    /// so no command can take a position ahead of them.
    pub async fn start(ctx: &ServiceContext, outbox: &Outbox) -> Result<Self, DbErr> {
        // Only when such rows exist: a write here would contend with the
        // other processes starting on the same file.
        if outbox.db().get_database_backend() == DbBackend::Sqlite
            && crate::sequencer::has_unnumbered(outbox.db()).await?
        {
            while crate::sequencer::sequence_batch(outbox).await? > 0 {}
        }
        let poll_interval = ctx.settings.outbox_poll_interval;
        let sequencer =
            Sequencer::new(outbox.clone(), poll_interval, ctx.settings.outbox_retention);
        ctx.spawn(sequencer.run(ctx.shutdown.clone()));
        Ok(Self::new(
            outbox.clone(),
            poll_interval,
            ctx.shutdown.clone(),
        ))
    }

    /// Who may follow the log: other twotier services and the platform
    /// operator (every event), and a provider's own backend (its tenant's
    /// feed, R30).
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
const READERS: &[Role] = &[Role::Service, Role::PlatformOperator, Role::Integration];
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

fn authorize<T>(request: &Request<T>) -> Result<Audience, Error> {
    Audience::of(Caller::of(request)?)
}

/// `EVENTS_PRUNED`: what `after` asked for is gone; the status names the
/// oldest retained position, so the caller can decide where to go on.
fn pruned(message: String, oldest: i64) -> Status {
    let error = Error::FailedPrecondition {
        reason: "EVENTS_PRUNED",
        message,
    };
    let metadata = [("oldest_retained_position".to_owned(), oldest.to_string())];
    error.into_status_with(metadata.into_iter().collect())
}

#[tonic::async_trait]
impl EventLogService for EventLog {
    type SubscribeStream = ReceiverStream<Result<EventEnvelope, Status>>;

    async fn subscribe(
        &self,
        request: Request<SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let audience = authorize(&request)?;
        let SubscribeRequest {
            after_position,
            event_types,
        } = request.into_inner();
        let after = i64::try_from(after_position).map_err(|_| {
            Error::invalid_field("INVALID_POSITION", "after_position", "is too large")
        })?;
        check_event_types(&event_types)?;
        // A tenant's feeds are bounded; other services and the operator
        // hold one stream per consumer, and are trusted with it.
        let permit = match audience.tenant() {
            Some(tenant) => Some(self.open_feeds.open(tenant)?),
            None => None,
        };
        let LogBounds { head, oldest, .. } = LogBounds::read(self.outbox.reads())
            .await
            .map_err(Error::from)?;
        // Every position a reader was given is at most the head: one beyond
        // it comes from another log (a restored or replaced database), and
        // waiting there would silently skip what comes before it.
        if after > head {
            return Err(Error::OutOfRange {
                reason: "POSITION_AHEAD_OF_LOG",
                message: format!(
                    "after_position {after} is beyond the log's head {head}; this log has never given it"
                ),
            }
            .into());
        }
        if oldest > after.saturating_add(1) && after > 0 {
            return Err(pruned(
                format!(
                    "events after position {after} were pruned; the oldest retained is {oldest}"
                ),
                oldest,
            ));
        }
        let (sender, receiver) = mpsc::channel(BUFFER);
        // Followers read committed, sequenced rows only: the read pool
        // serves them (on SQLite beside the one writer).
        let follower = Follower {
            db: self.outbox.reads().clone(),
            head: self.outbox.watch_head(),
            event_types,
            audience,
            poll_interval: self.poll_interval,
            shutdown: self.shutdown.clone(),
            sender,
            _permit: permit,
        };
        tokio::spawn(follower.run(after));
        Ok(Response::new(ReceiverStream::new(receiver)))
    }

    async fn get_log_head(
        &self,
        request: Request<GetLogHeadRequest>,
    ) -> Result<Response<LogHead>, Status> {
        authorize(&request)?;
        // The head must cover every event committed before this call, so a
        // consumer that catches up to it has seen the caller's writes: rows
        // committed but not yet numbered are numbered first. The head is
        // asked for on every reseller a command chooses (R24), so the common
        // case (nothing waiting) is one statement, and only a waiting row
        // takes the sequencer's lock.
        let db = self.outbox.db();
        let mut bounds = LogBounds::read(db).await.map_err(Error::from)?;
        if bounds.waiting {
            while crate::sequencer::sequence_batch(&self.outbox)
                .await
                .map_err(Error::from)?
                > 0
            {}
            bounds = LogBounds::read(db).await.map_err(Error::from)?;
        }
        let LogBounds { head, oldest, .. } = bounds;
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
    audience: Audience,
    poll_interval: Duration,
    shutdown: CancellationToken,
    sender: mpsc::Sender<Result<EventEnvelope, Status>>,
    /// Held while the feed is open.
    _permit: Option<FeedPermit>,
}

impl Follower {
    async fn run(mut self, after: i64) {
        let mut cursor = after;
        // Every position up to here has been looked at; beyond `cursor`
        // for a filtered reader, which skips events it does not receive.
        let mut scanned = after;
        let filtered = !self.event_types.is_empty() || self.audience.tenant().is_some();
        loop {
            // Everything sequenced up to `head_before` is covered by the
            // query below; a later head means there may be more.
            let head_before = *self.head.borrow_and_update();
            let probe = (filtered && scanned > 0 && self.audience.tenant().is_none())
                .then_some(scanned + 1);
            let rows = match self.page_after(cursor, probe).await {
                Ok(rows) => rows,
                Err(error) => {
                    let _ = self.sender.send(Err(Error::from(error).into())).await;
                    return;
                }
            };
            // Positions have no gaps: an unfiltered reader that finds one
            // has lost events to pruning and must not silently go on.
            if !filtered
                && cursor > 0
                && let Some(first) = rows.first().and_then(|row| row.position)
                && first != cursor + 1
            {
                let oldest = oldest_position(&self.db).await.unwrap_or(first);
                let _ = self.sender.send(Err(lagged(cursor, oldest))).await;
                return;
            }
            // A filtered reader sees no gaps; it has lost events when the
            // log no longer starts right after what it has looked at. The
            // page brought that position along when it can (see
            // `page_after`): then the log still starts no later, and the
            // reader goes on without asking.
            let probe_found =
                probe.is_some_and(|probe| rows.iter().any(|row| row.position == Some(probe)));
            if filtered && scanned > 0 && !probe_found {
                match oldest_position(&self.db).await {
                    Ok(oldest) if oldest > scanned + 1 => {
                        let _ = self.sender.send(Err(lagged(scanned, oldest))).await;
                        return;
                    }
                    Ok(_) => {}
                    Err(error) => {
                        let _ = self.sender.send(Err(Error::from(error).into())).await;
                        return;
                    }
                }
            }
            let full = rows.len() as u64 == PAGE;
            for row in rows {
                cursor = row.position.unwrap_or(cursor);
                if !self.wants(&row) {
                    continue;
                }
                let envelope = self.audience.present(envelope_of(row));
                if self.sender.send(Ok(envelope)).await.is_err() {
                    return;
                }
            }
            scanned = if full {
                cursor
            } else {
                cursor.max(i64::try_from(head_before).unwrap_or(i64::MAX))
            };
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

    /// The next page of events after `cursor` this reader receives, and
    /// with them the row at `probe`, whatever it holds.
    ///
    /// The probe is the position right after what a filtered reader has
    /// looked at: finding it shows that pruning has not overtaken the
    /// reader, which otherwise takes a query of its own after every page,
    /// on the way from a commit to its consumers. It goes in the same
    /// index range as the page, so no plan changes; a tenant's feed,
    /// whose page runs on the tenant's index, asks separately instead.
    async fn page_after(
        &self,
        cursor: i64,
        probe: Option<i64>,
    ) -> Result<Vec<outbox_event::Model>, DbErr> {
        use outbox_event::Column;
        let mut wanted = Condition::all();
        if !self.event_types.is_empty() {
            wanted = wanted.add(Column::EventType.is_in(self.event_types.clone()));
        }
        if let Some(tenant) = self.audience.tenant() {
            wanted = wanted.add(Column::TenantId.eq(tenant));
        }
        if let Some(probe) = probe {
            wanted = Condition::any().add(wanted).add(Column::Position.eq(probe));
        }
        let mut query = outbox_event::Entity::find()
            .filter(Column::Position.gt(cursor))
            .order_by_asc(Column::Position)
            .limit(PAGE);
        if !wanted.is_empty() {
            query = query.filter(wanted);
        }
        twotier_platform::db::all(&self.db, query).await
    }

    /// Whether this reader receives `row`: the page's own condition,
    /// checked again because a probe comes whatever it holds.
    fn wants(&self, row: &outbox_event::Model) -> bool {
        let typed = self.event_types.is_empty() || self.event_types.contains(&row.event_type);
        let own = self
            .audience
            .tenant()
            .is_none_or(|tenant| tenant == row.tenant_id);
        typed && own
    }
}

/// `EVENTS_PRUNED` for a subscriber that fell behind pruning after `at`.
fn lagged(at: i64, oldest: i64) -> Status {
    pruned(
        format!(
            "events after position {at} were pruned while this subscriber fell behind; \
             the oldest retained is {oldest}"
        ),
        oldest,
    )
}

/// The log's extent as one statement reads it.
struct LogBounds {
    /// The highest numbered position, 0 for an empty log.
    head: i64,
    /// The lowest retained position, 0 for an empty log.
    oldest: i64,
    /// Whether committed rows wait for a position.
    waiting: bool,
}

impl LogBounds {
    async fn read(db: &impl ConnectionTrait) -> Result<Self, DbErr> {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT COALESCE(MAX(position), 0) AS head, COALESCE(MIN(position), 0) AS oldest, \
                 CASE WHEN EXISTS (SELECT 1 FROM outbox_event WHERE position IS NULL) \
                 THEN 1 ELSE 0 END AS waiting FROM outbox_event",
            ))
            .await?;
        let Some(row) = row else {
            return Ok(Self {
                head: 0,
                oldest: 0,
                waiting: false,
            });
        };
        Ok(Self {
            head: row.try_get::<i64>("", "head")?,
            oldest: row.try_get::<i64>("", "oldest")?,
            waiting: row.try_get::<i32>("", "waiting")? != 0,
        })
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
