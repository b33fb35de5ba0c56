//! What an operator watches of a consumer between scrapes: how far behind
//! its upstream it is and how many of its events wait as dead letters.

use std::sync::LazyLock;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::Gauge;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tokio_util::sync::CancellationToken;

use super::Consumer;
use crate::dead_letters::PARKED;
use crate::entity::dead_letter;

/// How often the gauges are brought up to date: about a scrape interval.
const SAMPLE_EVERY: Duration = Duration::from_secs(10);

struct Gauges {
    behind: Gauge<f64>,
    parked: Gauge<f64>,
}

static GAUGES: LazyLock<Gauges> = LazyLock::new(|| Gauges {
    behind: twotier_platform::metrics::gauge(
        "outbox.consumer.behind",
        "{event}",
        "events the upstream has sequenced that this consumer has not yet applied",
    ),
    parked: twotier_platform::metrics::gauge(
        "outbox.dead_letters",
        "{event}",
        "upstream events parked as dead letters, waiting for a replay",
    ),
});

impl Consumer {
    /// Records the gauges every [`SAMPLE_EVERY`] until `shutdown`. A gauge
    /// whose source cannot be reached keeps its last value (the failure
    /// shows in the logs and the readiness probe, not as a false zero).
    pub(super) async fn sample_gauges(&self, shutdown: CancellationToken) {
        let attributes = [
            KeyValue::new("consumer", self.service_tokens.subject().to_owned()),
            KeyValue::new("upstream", self.settings.upstream.clone()),
        ];
        let freshness = self.freshness();
        let mut ticks = tokio::time::interval(SAMPLE_EVERY);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = ticks.tick() => {}
            }
            if let Some(head) = freshness.upstream_head().await {
                let applied = *self.progress.borrow();
                GAUGES
                    .behind
                    .record(head.saturating_sub(applied) as f64, &attributes);
            }
            let parked = dead_letter::Entity::find()
                .filter(dead_letter::Column::Upstream.eq(self.settings.upstream.as_str()))
                .filter(dead_letter::Column::State.eq(PARKED))
                .count(&self.db)
                .await;
            if let Ok(parked) = parked {
                GAUGES.parked.record(parked as f64, &attributes);
            }
        }
    }
}
