//! Every service process serves `/metrics` for Prometheus: request counts
//! and latencies in second-sized buckets, and what an operator watches
//! between calls (how far each consumer is behind, parked dead letters,
//! how many emails wait and for how long).

mod common;

use std::time::{Duration, Instant};

use common::workload::{Clients, run_item};
use common::{SERVICES, System};

/// The value of the sample whose line starts with `series` (name and
/// labels, as far as given), if the scrape has it.
fn sample(scrape: &str, series: &str, label: &str) -> Option<f64> {
    scrape
        .lines()
        .filter(|line| line.starts_with(series) && line.contains(label))
        .find_map(|line| line.rsplit(' ').next()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_serves_prometheus_metrics_in_the_units_it_records() {
    let system = System::start(1).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    run_item(&Clients::new(&system, 0), 0, deadline).await;
    common::verify(&system, 1).await;

    for service in SERVICES {
        let process = &system.replicas(service)[0];
        let scrape = process.scrape().await;
        assert!(
            scrape.contains("# TYPE rpc_server_duration_seconds histogram"),
            "{service}: no request latency histogram:\n{scrape}"
        );
        // Second-sized buckets: a fast call lands below 0.25 s, not in a
        // first bucket meant for milliseconds.
        for bound in ["le=\"0.001\"", "le=\"0.25\"", "le=\"300\""] {
            assert!(
                scrape.contains(bound),
                "{service}: no bucket {bound}:\n{scrape}"
            );
        }
        let served = sample(&scrape, "rpc_server_duration_seconds_count", "").unwrap_or(0.0);
        let fast = sample(&scrape, "rpc_server_duration_seconds_bucket", "le=\"0.25\"");
        assert!(
            served > 0.0 && fast.is_some_and(|fast| fast > 0.0),
            "{service}: calls served and counted in their buckets:\n{scrape}"
        );
        assert!(
            scrape.contains("service_version=\""),
            "{service}: the version is on the target info:\n{scrape}"
        );
    }

    // The consumers report how far behind their upstream they are, and
    // come to rest at zero once everything is applied.
    for (service, upstream) in [
        ("customer", "partnership"),
        ("subscription", "partnership"),
        ("notification", "subscription"),
    ] {
        let process = &system.replicas(service)[0];
        let label = format!("upstream=\"{upstream}\"");
        twotier_testkit::wait_until(
            &format!("{service} reports it is not behind {upstream}"),
            Duration::from_secs(60),
            || async {
                let scrape = process.scrape().await;
                sample(&scrape, "outbox_consumer_behind", &label) == Some(0.0)
                    && sample(&scrape, "outbox_dead_letters", &label) == Some(0.0)
            },
        )
        .await;
    }

    // The email queue drains: once every email of the workload is out,
    // nothing waits and the oldest waiting email is no age at all.
    let notification = &system.replicas("notification")[0];
    twotier_testkit::wait_until(
        "the email queue reports empty",
        Duration::from_secs(60),
        || async {
            let scrape = notification.scrape().await;
            sample(&scrape, "email_queue_depth", "") == Some(0.0)
                && sample(&scrape, "email_queue_oldest_age_seconds", "") == Some(0.0)
        },
    )
    .await;
}
