//! What an operator watches of the email queue between scrapes: how many
//! emails wait and how long the oldest has waited. A queue that only grows,
//! or an age that keeps rising, means mail is not getting out.

use std::sync::LazyLock;
use std::time::Duration;

use chrono::Utc;
use opentelemetry::metrics::Gauge;
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use crate::store;

/// How often the gauges are brought up to date: about a scrape interval.
const SAMPLE_EVERY: Duration = Duration::from_secs(10);

struct Gauges {
    depth: Gauge<f64>,
    oldest_age: Gauge<f64>,
}

static GAUGES: LazyLock<Gauges> = LazyLock::new(|| Gauges {
    depth: twotier_platform::metrics::gauge(
        "email.queue.depth",
        "{email}",
        "emails recorded and not yet delivered or given up",
    ),
    oldest_age: twotier_platform::metrics::gauge(
        "email.queue.oldest_age",
        "s",
        "how long the oldest undelivered email has waited (0 when none waits)",
    ),
});

/// Records the queue gauges every [`SAMPLE_EVERY`] until `shutdown`. When
/// the database cannot be read the gauges keep their last value (the outage
/// shows in the logs and the readiness probe, not as a false empty queue).
pub async fn sample_queue(db: DatabaseConnection, shutdown: CancellationToken) {
    let mut ticks = tokio::time::interval(SAMPLE_EVERY);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let Ok(queue) = store::notification::queue(&db).await else {
            continue;
        };
        let age = queue.oldest.map_or(0.0, |oldest| {
            (Utc::now() - oldest).num_milliseconds().max(0) as f64 / 1000.0
        });
        GAUGES.depth.record(queue.depth as f64, &[]);
        GAUGES.oldest_age.record(age, &[]);
    }
}
