//! Following an upstream service's log and applying its events exactly once
//! in effect.

use std::sync::Arc;
use std::time::Duration;

use backon::BackoffBuilder;
use chrono::Utc;
use futures::FutureExt;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    TransactionTrait,
};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tracing::Instrument;
use twotier_platform::auth::ServiceTokens;
use twotier_platform::channel::{ChannelOptions, ClientChannels};
use twotier_proto::events::event_log_service_client::EventLogServiceClient;
use twotier_proto::events::{EventEnvelope, SubscribeRequest};

use crate::entity::{consumer_cursor, dead_letter};
use crate::handler::{EventHandler, HandleError};

struct Instruments {
    handled: opentelemetry::metrics::Counter<u64>,
    lag: opentelemetry::metrics::Histogram<f64>,
    dead_letters: opentelemetry::metrics::Counter<u64>,
}

static INSTRUMENTS: std::sync::LazyLock<Instruments> = std::sync::LazyLock::new(|| {
    let meter = opentelemetry::global::meter("twotier");
    Instruments {
        handled: meter
            .u64_counter("outbox.consumer.events")
            .with_description("upstream events applied, by upstream")
            .build(),
        lag: meter
            .f64_histogram("outbox.consumer.lag")
            .with_unit("s")
            .with_description("time from an upstream commit to its effects committed here")
            .build(),
        dead_letters: meter
            .u64_counter("outbox.consumer.dead_letters")
            .with_description("events parked after the last failed attempt, by upstream")
            .build(),
    }
});

/// Events applied in one transaction at most.
const BATCH: usize = 64;

/// How a batch of events went.
enum Batch {
    /// Applied, cursor moved past the last.
    Applied,
    /// Nothing changed; apply the events one by one. `failed` is the index
    /// of the event a handler refused, if that was why.
    OneByOne { failed: Option<usize> },
}

/// How one consumer follows one upstream.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    /// Name of the upstream log, e.g. `partnership`; the cursor's key.
    pub upstream: String,
    /// gRPC endpoint of the upstream service, e.g. `http://127.0.0.1:50051`.
    pub endpoint: String,
    /// How the channel to the endpoint is built (TLS for `https://`).
    pub channels: ClientChannels,
    /// Failed attempts before an event is dead-lettered.
    pub max_attempts: u32,
    /// Shortest wait between retries.
    pub min_backoff: Duration,
    /// Longest wait between retries.
    pub max_backoff: Duration,
}

impl ConsumerSettings {
    /// Settings with the usual backoff (50 ms doubling to 5 s); the
    /// upstream is reached through `channels`.
    pub fn new(
        upstream: &str,
        endpoint: &str,
        channels: &ClientChannels,
        max_attempts: u32,
    ) -> Self {
        Self {
            upstream: upstream.to_owned(),
            endpoint: endpoint.to_owned(),
            channels: channels.clone(),
            max_attempts: max_attempts.max(1),
            min_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// Why following the log stopped (it is then resumed from the cursor).
#[derive(Debug, thiserror::Error)]
enum FollowError {
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error("upstream: {0}")]
    Upstream(#[from] tonic::Status),
    #[error("handling: {0}")]
    Handling(#[from] HandleError),
    #[error("cannot mint the service token: {0}")]
    Token(String),
}

/// Follows one upstream log and applies its events through a handler, with
/// the cursor advanced in the same transaction as the effects.
pub struct Consumer {
    db: DatabaseConnection,
    handler: Arc<dyn EventHandler>,
    settings: ConsumerSettings,
    service_tokens: Arc<ServiceTokens>,
    progress: watch::Sender<u64>,
    /// `None` when the endpoint is unusable (logged once, at construction).
    channel: Option<Channel>,
    applied: Option<Arc<tokio::sync::Notify>>,
}

impl Consumer {
    /// A consumer applying `settings.upstream`'s events to `db` with
    /// `handler`, subscribing with this service's `service_tokens`.
    pub fn new(
        db: DatabaseConnection,
        handler: Arc<dyn EventHandler>,
        settings: ConsumerSettings,
        service_tokens: Arc<ServiceTokens>,
    ) -> Self {
        let options = ChannelOptions {
            connect_timeout: Duration::from_secs(3),
            request_timeout: None,
        };
        let channel = match settings.channels.connect_lazy(&settings.endpoint, options) {
            Ok(channel) => Some(channel),
            Err(error) => {
                tracing::error!(upstream = %settings.upstream, %error, "invalid upstream endpoint; consumer will not start");
                None
            }
        };
        Self {
            db,
            handler,
            settings,
            service_tokens,
            progress: watch::Sender::new(0),
            channel,
            applied: None,
        }
    }

    /// Notifies `applied` each time handled events commit, so whoever acts
    /// on their effects (the email dispatcher) starts at once instead of at
    /// its next poll.
    pub fn notify_when_applied(mut self, applied: Arc<tokio::sync::Notify>) -> Self {
        self.applied = Some(applied);
        self
    }

    fn applied(&self) {
        if let Some(applied) = &self.applied {
            applied.notify_one();
        }
    }

    /// Receives the cursor each time an event is handled (or parked).
    pub fn progress(&self) -> watch::Receiver<u64> {
        self.progress.subscribe()
    }

    /// A handle to wait until this consumer has caught up with its upstream.
    pub fn freshness(&self) -> Freshness {
        Freshness {
            progress: self.progress.subscribe(),
            channel: self.channel.clone(),
            service_tokens: self.service_tokens.clone(),
        }
    }

    /// Follows the upstream until `shutdown` is cancelled, resubscribing
    /// from the cursor with backoff whenever the stream breaks.
    pub async fn run(self, shutdown: CancellationToken) {
        let Some(channel) = self.channel.clone() else {
            return;
        };
        let mut delays = self.backoff();
        loop {
            let before = *self.progress.borrow();
            let outcome = tokio::select! {
                () = shutdown.cancelled() => return,
                outcome = self.follow(channel.clone()) => outcome,
            };
            if *self.progress.borrow() > before {
                delays = self.backoff();
            }
            match outcome {
                Ok(()) => {
                    tracing::info!(upstream = %self.settings.upstream, "upstream log ended; resubscribing")
                }
                Err(error) => {
                    tracing::warn!(upstream = %self.settings.upstream, %error, "following upstream log failed; resubscribing")
                }
            }
            let delay = delays.next().unwrap_or(self.settings.max_backoff);
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(delay) => {},
            }
        }
    }

    fn backoff(&self) -> impl Iterator<Item = Duration> + use<> {
        backon::ExponentialBuilder::default()
            .with_min_delay(self.settings.min_backoff)
            .with_max_delay(self.settings.max_backoff)
            .with_jitter()
            .without_max_times()
            .build()
    }

    async fn follow(&self, channel: Channel) -> Result<(), FollowError> {
        let mut cursor = self.load_cursor().await?;
        self.progress.send_if_modified(|current| {
            let changed = *current != cursor;
            *current = cursor;
            changed
        });
        let token = self
            .service_tokens
            .token()
            .map_err(|e| FollowError::Token(e.to_string()))?;
        // Every event is received, also those the handler ignores, so that
        // progress reaches the upstream head (see `Freshness`). Ignored
        // events move the cursor in memory only: redelivering them after a
        // restart costs nothing.
        let handled = self.handler.event_types();
        let mut request = tonic::Request::new(SubscribeRequest {
            after_position: cursor,
            event_types: Vec::new(),
        });
        let bearer = format!("Bearer {token}")
            .parse()
            .map_err(|_| FollowError::Token("token is not a valid header value".into()))?;
        request.metadata_mut().insert("authorization", bearer);
        let mut stream = EventLogServiceClient::new(channel)
            .subscribe(request)
            .await?
            .into_inner();
        tracing::info!(upstream = %self.settings.upstream, after = cursor, "subscribed to upstream log");
        while let Some(first) = stream.message().await? {
            // Whatever else has already arrived is applied together, in one
            // transaction: under load a consumer commits once per batch, not
            // once per event.
            let mut batch = vec![first];
            let mut broken = None;
            while batch.len() < BATCH {
                match stream.message().now_or_never() {
                    Some(Ok(Some(next))) => batch.push(next),
                    Some(Err(status)) => {
                        broken = Some(status);
                        break;
                    }
                    Some(Ok(None)) | None => break,
                }
            }
            let due: Vec<&EventEnvelope> = batch
                .iter()
                .filter(|e| e.position > cursor && handled.contains(&e.event_type))
                .collect();
            if let Batch::OneByOne { failed } = self.apply_batch(&due).await? {
                for (index, envelope) in due.iter().enumerate() {
                    // The batch already made one attempt at the event it
                    // failed on; it counts towards that event's limit.
                    let prior = u32::from(failed == Some(index));
                    self.handle_with_retries(envelope, prior)
                        .instrument(self.span(envelope))
                        .await?;
                }
            }
            for envelope in &due {
                self.record_lag(envelope);
            }
            cursor = batch
                .iter()
                .map(|e| e.position)
                .max()
                .unwrap_or(cursor)
                .max(cursor);
            // Events the handler ignores are not claimed one by one; the
            // stored cursor still moves past them, or a quiet week of
            // irrelevant events would be pruned upstream while the stored
            // cursor pointed before them, and resubscribing would fail.
            if due.last().is_none_or(|e| e.position < cursor) {
                self.store_cursor(cursor).await?;
            }
            self.progress.send_replace(cursor);
            if let Some(status) = broken {
                return Err(status.into());
            }
        }
        Ok(())
    }

    /// The span handling `envelope` runs in: a child of the trace the
    /// event was written in.
    fn span(&self, envelope: &EventEnvelope) -> tracing::Span {
        let span = tracing::info_span!(
            "event.handle",
            otel.name = %format!("handle {}", envelope.event_type),
            consumer = %self.service_tokens.subject(),
            upstream = %self.settings.upstream,
            event_type = %envelope.event_type,
            position = envelope.position,
            trace_id = tracing::field::Empty,
        );
        if let Some(context) = &envelope.trace_context {
            twotier_platform::telemetry::set_remote_parent(
                &span,
                &context.traceparent,
                &context.tracestate,
            );
        }
        span
    }

    /// Applies `events` (in log order) and moves the cursor past the last in
    /// one transaction. Asks for them to be applied one by one instead,
    /// having changed nothing, when a handler refused one (so retries and
    /// dead-lettering apply to it alone) or another replica got to some of
    /// them first.
    async fn apply_batch(&self, events: &[&EventEnvelope]) -> Result<Batch, HandleError> {
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            return Ok(Batch::Applied);
        };
        if events.len() == 1 {
            return Ok(Batch::OneByOne { failed: None });
        }
        match self.try_batch(events, first.position, last.position).await {
            Ok(outcome) => Ok(outcome),
            Err(error) if error.is_transient() => Err(error),
            // A database error that is not an outage (a deadlock, a
            // serialisation failure): the one-by-one path counts attempts
            // and dead-letters, so nothing is retried without bound.
            Err(error) => {
                tracing::warn!(%error, "applying a batch failed; retrying one by one");
                Ok(Batch::OneByOne { failed: None })
            }
        }
    }

    async fn try_batch(
        &self,
        events: &[&EventEnvelope],
        first: u64,
        last: u64,
    ) -> Result<Batch, HandleError> {
        let txn = self.db.begin().await?;
        if !self.claim_positions(&txn, first, last).await? {
            txn.rollback().await?;
            return Ok(Batch::OneByOne { failed: None });
        }
        for (index, envelope) in events.iter().enumerate() {
            if let Err(error) = self
                .handler
                .handle(&txn, envelope)
                .instrument(self.span(envelope))
                .await
            {
                txn.rollback().await?;
                if error.is_transient() {
                    return Err(error);
                }
                tracing::warn!(%error, event_id = %envelope.event_id, "handling event failed in a batch; retrying one by one");
                return Ok(Batch::OneByOne {
                    failed: Some(index),
                });
            }
        }
        txn.commit().await?;
        self.applied();
        Ok(Batch::Applied)
    }

    fn record_lag(&self, envelope: &EventEnvelope) {
        let upstream = [opentelemetry::KeyValue::new(
            "upstream",
            self.settings.upstream.clone(),
        )];
        INSTRUMENTS.handled.add(1, &upstream);
        if let Some(at) = &envelope.occurred_at {
            let committed = std::time::UNIX_EPOCH
                + Duration::from_secs(u64::try_from(at.seconds).unwrap_or_default())
                + Duration::from_nanos(u64::try_from(at.nanos).unwrap_or_default());
            if let Ok(lag) = std::time::SystemTime::now().duration_since(committed) {
                INSTRUMENTS.lag.record(lag.as_secs_f64(), &upstream);
            }
        }
    }

    /// Applies `envelope`, retrying failures; parks it after the last
    /// attempt. Returns an error only for transient failures, after which the
    /// consumer resubscribes from its cursor.
    async fn handle_with_retries(
        &self,
        envelope: &EventEnvelope,
        prior_attempts: u32,
    ) -> Result<(), HandleError> {
        let mut delays = self.backoff();
        let mut attempts = prior_attempts;
        loop {
            attempts += 1;
            let error = match self.apply(envelope).await {
                Ok(()) => return Ok(()),
                Err(error) if error.is_transient() => return Err(error),
                Err(error) => error,
            };
            if attempts >= self.settings.max_attempts {
                tracing::error!(%error, attempts, event_id = %envelope.event_id, "event dead-lettered");
                INSTRUMENTS.dead_letters.add(
                    1,
                    &[opentelemetry::KeyValue::new(
                        "upstream",
                        self.settings.upstream.clone(),
                    )],
                );
                return self.park(envelope, &error, attempts).await;
            }
            tracing::warn!(%error, attempts, event_id = %envelope.event_id, "handling event failed; retrying");
            tokio::time::sleep(delays.next().unwrap_or(self.settings.max_backoff)).await;
        }
    }

    /// Applies `envelope` and moves the cursor past it in one transaction.
    async fn apply(&self, envelope: &EventEnvelope) -> Result<(), HandleError> {
        let txn = self.db.begin().await?;
        if !self
            .claim_positions(&txn, envelope.position, envelope.position)
            .await?
        {
            // Another replica of this consumer handled it already.
            txn.rollback().await?;
            return Ok(());
        }
        self.handler.handle(&txn, envelope).await?;
        txn.commit().await?;
        self.applied();
        Ok(())
    }

    async fn park(
        &self,
        envelope: &EventEnvelope,
        error: &HandleError,
        attempts: u32,
    ) -> Result<(), HandleError> {
        let txn = self.db.begin().await?;
        if !self
            .claim_positions(&txn, envelope.position, envelope.position)
            .await?
        {
            txn.rollback().await?;
            return Ok(());
        }
        let row = dead_letter::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            upstream: Set(self.settings.upstream.clone()),
            position: Set(i64::try_from(envelope.position).unwrap_or(i64::MAX)),
            event_type: Set(envelope.event_type.clone()),
            envelope: Set(prost::Message::encode_to_vec(envelope)),
            error: Set(error.to_string()),
            attempts: Set(i32::try_from(attempts).unwrap_or(i32::MAX)),
            state: Set(crate::dead_letters::PARKED.to_owned()),
            created_at: Set(Utc::now()),
            replayed_at: Set(None),
        };
        dead_letter::Entity::insert(row).exec(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Moves the cursor from before `first` to `last`, if nobody has moved
    /// it past `first` yet. On PostgreSQL the row lock serialises replicas of
    /// this consumer, so exactly one of them applies each event.
    async fn claim_positions(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        first: u64,
        last: u64,
    ) -> Result<bool, DbErr> {
        let first = i64::try_from(first).unwrap_or(i64::MAX);
        let last = i64::try_from(last).unwrap_or(i64::MAX);
        let claimed = consumer_cursor::Entity::update_many()
            .col_expr(consumer_cursor::Column::Position, Expr::value(last))
            .col_expr(consumer_cursor::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(consumer_cursor::Column::Upstream.eq(&self.settings.upstream))
            .filter(consumer_cursor::Column::Position.lt(first))
            .exec(txn)
            .await?;
        Ok(claimed.rows_affected == 1)
    }

    /// Moves the stored cursor forward to `position` (never back).
    async fn store_cursor(&self, position: u64) -> Result<(), DbErr> {
        let position = i64::try_from(position).unwrap_or(i64::MAX);
        consumer_cursor::Entity::update_many()
            .col_expr(consumer_cursor::Column::Position, Expr::value(position))
            .col_expr(consumer_cursor::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(consumer_cursor::Column::Upstream.eq(&self.settings.upstream))
            .filter(consumer_cursor::Column::Position.lt(position))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    async fn load_cursor(&self) -> Result<u64, DbErr> {
        let row = consumer_cursor::ActiveModel {
            upstream: Set(self.settings.upstream.clone()),
            position: Set(0),
            updated_at: Set(Utc::now()),
        };
        consumer_cursor::Entity::insert(row)
            .on_conflict(
                OnConflict::column(consumer_cursor::Column::Upstream)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        let cursor = consumer_cursor::Entity::find_by_id(self.settings.upstream.clone())
            .one(&self.db)
            .await?
            .map_or(0, |row| row.position);
        Ok(u64::try_from(cursor).unwrap_or_default())
    }
}

/// Waits until a consumer's projection includes everything its upstream had
/// sequenced at the time of asking: read-your-writes across services for a
/// command that just failed a projection check.
#[derive(Clone)]
pub struct Freshness {
    progress: watch::Receiver<u64>,
    /// The consumer's own channel: asking for the head costs no new
    /// connection.
    channel: Option<Channel>,
    service_tokens: Arc<ServiceTokens>,
}

impl Freshness {
    /// Asks the upstream for its head and waits, at most `deadline`, until
    /// the consumer has handled it. Returns whether it caught up; a failure
    /// to reach the upstream counts as not caught up.
    pub async fn catch_up(&self, deadline: Duration) -> bool {
        let caught_up = async {
            let Some(head) = self.upstream_head().await else {
                return false;
            };
            let mut progress = self.progress.clone();
            progress.wait_for(|cursor| *cursor >= head).await.is_ok()
        };
        tokio::time::timeout(deadline, caught_up)
            .await
            .unwrap_or(false)
    }

    async fn upstream_head(&self) -> Option<u64> {
        let channel = self.channel.clone()?;
        let token = self.service_tokens.token().ok()?;
        let mut request = tonic::Request::new(twotier_proto::events::GetLogHeadRequest {});
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().ok()?);
        let head = EventLogServiceClient::new(channel)
            .get_log_head(request)
            .await
            .ok()?;
        Some(head.into_inner().head_position)
    }
}
