//! Following an upstream service's log and applying its events exactly once
//! in effect.

use std::sync::Arc;
use std::time::Duration;

use backon::BackoffBuilder;
use futures::FutureExt;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tracing::Instrument;
use twotier_platform::auth::ServiceTokens;
use twotier_platform::channel::{ChannelOptions, ClientChannels};
use twotier_proto::events::event_log_service_client::EventLogServiceClient;
use twotier_proto::events::{EventEnvelope, SubscribeRequest};

use crate::handler::{EventHandler, HandleError};

mod apply;
mod cursor;
mod freshness;
mod gauges;

pub use freshness::Freshness;

struct Instruments {
    handled: opentelemetry::metrics::Counter<u64>,
    lag: opentelemetry::metrics::Histogram<f64>,
    dead_letters: opentelemetry::metrics::Counter<u64>,
}

static INSTRUMENTS: std::sync::LazyLock<Instruments> = std::sync::LazyLock::new(|| {
    let meter = twotier_platform::metrics::meter();
    Instruments {
        handled: meter
            .u64_counter("outbox.consumer.events")
            .with_description("upstream events applied, by upstream")
            .build(),
        lag: twotier_platform::metrics::seconds_histogram(
            "outbox.consumer.lag",
            "time from an upstream commit to its effects committed here",
        ),
        dead_letters: meter
            .u64_counter("outbox.consumer.dead_letters")
            .with_description("events parked after the last failed attempt, by upstream")
            .build(),
    }
});

/// Events applied in one transaction at most.
const BATCH: usize = 64;

/// How far behind the cursor in memory the stored one may fall while
/// events that change nothing here are passed.
const CURSOR_LAG: Duration = Duration::from_secs(1);

/// How a batch of events went.
enum Batch {
    /// Applied, cursor moved past the last.
    Applied,
    /// Nothing changed; apply the events one by one. `failed` is the index
    /// of the event a handler refused, if that was why.
    OneByOne { failed: Option<usize> },
}

/// Longest wait before following the log again after the stream broke
/// (jitter adds up to as much again).
const RESUBSCRIBE_MAX_BACKOFF: Duration = Duration::from_millis(300);

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
    /// Longest wait between retries of a failing event (resubscribing after
    /// the stream broke waits at most 300 ms, plus jitter).
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

/// Waits growing from `min` to `max`, each with jitter of up to as much again.
fn delays(min: Duration, max: Duration) -> backon::ExponentialBackoff {
    backon::ExponentialBuilder::default()
        .with_min_delay(min.min(max))
        .with_max_delay(max)
        .with_jitter()
        .without_max_times()
        .build()
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

impl FollowError {
    /// Whether something is down (the upstream, this service's database)
    /// rather than refusing: that ends with the outage, so it is worth
    /// trying again soon; a refusal (a rejected token, a pruned cursor) is
    /// retried with the long backoff instead of twice a second forever.
    fn is_outage(&self) -> bool {
        match self {
            Self::Database(error) => twotier_platform::db::is_connection_error(error),
            Self::Upstream(status) => matches!(
                status.code(),
                tonic::Code::Unavailable
                    | tonic::Code::Unknown
                    | tonic::Code::Cancelled
                    | tonic::Code::DeadlineExceeded
                    | tonic::Code::Aborted
            ),
            Self::Handling(error) => error.is_transient(),
            Self::Token(_) => false,
        }
    }
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
    /// from the cursor with backoff whenever the stream breaks; meanwhile
    /// keeps its gauges up to date.
    pub async fn run(self, shutdown: CancellationToken) {
        let Some(channel) = self.channel.clone() else {
            return;
        };
        tokio::join!(
            self.follow_until(channel, shutdown.clone()),
            self.sample_gauges(shutdown)
        );
    }

    async fn follow_until(&self, channel: Channel, shutdown: CancellationToken) {
        let mut outage_delays = self.resubscribe_backoff();
        let mut refusal_delays = self.backoff();
        loop {
            let before = *self.progress.borrow();
            let outcome = tokio::select! {
                () = shutdown.cancelled() => return,
                outcome = self.follow(channel.clone()) => outcome,
            };
            if *self.progress.borrow() > before {
                outage_delays = self.resubscribe_backoff();
                refusal_delays = self.backoff();
            }
            let delays = match &outcome {
                Ok(()) => {
                    tracing::info!(upstream = %self.settings.upstream, "upstream log ended; resubscribing");
                    &mut outage_delays
                }
                Err(error) => {
                    tracing::warn!(upstream = %self.settings.upstream, %error, "following upstream log failed; resubscribing");
                    if error.is_outage() {
                        &mut outage_delays
                    } else {
                        &mut refusal_delays
                    }
                }
            };
            let delay = delays.next().unwrap_or(self.settings.max_backoff);
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(delay) => {},
            }
        }
    }

    /// Waits between retries of an event a handler failed on.
    fn backoff(&self) -> backon::ExponentialBackoff {
        delays(self.settings.min_backoff, self.settings.max_backoff)
    }

    /// Waits between attempts to follow the log again after an outage (of
    /// the upstream or of this service's database). Capped far below
    /// `max_backoff`: an attempt costs one connection, and a short cap lets
    /// events flow again within a second of the outage ending instead of
    /// after the longest backoff.
    fn resubscribe_backoff(&self) -> backon::ExponentialBackoff {
        delays(
            self.settings.min_backoff,
            self.settings.max_backoff.min(RESUBSCRIBE_MAX_BACKOFF),
        )
    }

    async fn follow(&self, channel: Channel) -> Result<(), FollowError> {
        let mut cursor = self.load_cursor().await?;
        // The stored cursor may trail the progress made before (events
        // passed without a transaction are stored at most once per
        // `CURSOR_LAG`); progress never goes back.
        self.progress
            .send_if_modified(|current| crate::sequencer::raise(current, cursor));
        let token = self
            .service_tokens
            .token()
            .map_err(|e| FollowError::Token(e.to_string()))?;
        // Every event is received, also those the handler ignores or that
        // affect nothing here, so that progress reaches the upstream head
        // (see `Freshness`). Such events move the cursor without a
        // transaction of their own: redelivering them after a restart
        // costs nothing.
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
        // When the stored cursor last passed events without a transaction,
        // and whether the cursor in memory is past the stored one since.
        let mut passed_stored_at: Option<tokio::time::Instant> = None;
        let mut unstored = false;
        loop {
            let next = if unstored {
                match tokio::time::timeout(CURSOR_LAG, stream.message()).await {
                    Ok(next) => next?,
                    Err(_quiet) => {
                        self.store_cursor(cursor).await?;
                        passed_stored_at = Some(tokio::time::Instant::now());
                        unstored = false;
                        continue;
                    }
                }
            } else {
                stream.message().await?
            };
            let Some(first) = next else {
                break;
            };
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
                .filter(|e| {
                    e.position > cursor
                        && handled.contains(&e.event_type)
                        && self.handler.affects(e)
                })
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
            // Events passed without a transaction are not claimed one by
            // one; the stored cursor still moves past them, or a quiet week
            // of irrelevant events would be pruned upstream while the stored
            // cursor pointed before them, and resubscribing would fail. It
            // moves at most once per `CURSOR_LAG` (and when the stream goes
            // quiet that long): a write per batch of events that change
            // nothing would cost a commit each under load.
            unstored = false;
            if due.last().is_none_or(|e| e.position < cursor) {
                if passed_stored_at.is_none_or(|at| at.elapsed() >= CURSOR_LAG) {
                    self.store_cursor(cursor).await?;
                    passed_stored_at = Some(tokio::time::Instant::now());
                } else {
                    unstored = true;
                }
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
            span_id = tracing::field::Empty,
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_an_outage_the_consumer_tries_again_within_600_ms_however_long_it_lasted() {
        let waits: Vec<_> = delays(Duration::from_millis(50), RESUBSCRIBE_MAX_BACKOFF)
            .take(50)
            .collect();
        assert!(
            waits.iter().all(|w| *w <= 2 * RESUBSCRIBE_MAX_BACKOFF),
            "{waits:?}"
        );
    }

    #[test]
    fn a_refused_subscription_backs_off_like_a_failing_event() {
        let outage = FollowError::Upstream(tonic::Status::unavailable("down"));
        let refusal = FollowError::Upstream(tonic::Status::permission_denied("no"));
        assert!(outage.is_outage());
        assert!(!refusal.is_outage());
        assert!(!FollowError::Token("no key".into()).is_outage());
    }
}
