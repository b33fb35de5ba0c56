//! Overload: a burst far above the concurrency limit gets RESOURCE_EXHAUSTED
//! at once for the excess while admitted calls still succeed; memory stays
//! bounded and the service is healthy right after.

use std::time::{Duration, Instant};

mod slow_checkout;

use tonic::Code;
use twotier_proto::subscription as spb;
use twotier_proto::subscription::subscription_service_client::SubscriptionServiceClient;

const LIMIT: usize = 4;
const BURST: usize = 200;
const HOLD: Duration = Duration::from_secs(1);

fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_owned)
        })
        .and_then(|line| {
            line.split_whitespace()
                .nth(1)
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_above_the_limit_is_shed_fast_while_admitted_calls_succeed() {
    // Admitted calls wait on a slow link to the customer service, so they
    // hold their place for HOLD while the burst arrives.
    let limit = LIMIT.to_string();
    let system = slow_checkout::start(
        HOLD,
        &[
            ("TWOTIER_CONCURRENCY_LIMIT", &limit),
            // One tenant sends the whole burst: this test is about the
            // process-wide limit, so the tenant may use all of it (fairness
            // between tenants is tests/hostile_tenants.rs).
            ("TWOTIER_TENANT_CONCURRENCY_LIMIT", &limit),
        ],
    )
    .await;
    let provider = slow_checkout::provider();
    let subscription = &system.subscription;
    let slow_link = &system.slow_link;

    let memory_before = resident_kib();
    let client =
        SubscriptionServiceClient::with_interceptor(subscription.channel(), provider.clone());
    let calls: Vec<_> = (0..BURST)
        .map(|_| {
            let mut client = client.clone();
            let request = system.create_cart();
            tokio::spawn(async move {
                let started = Instant::now();
                let outcome = client.create_cart(request).await;
                (outcome.map(|_| ()), started.elapsed())
            })
        })
        .collect();
    let mut admitted = 0;
    let mut shed = 0;
    let mut slowest_refusal = Duration::ZERO;
    for call in calls {
        let (outcome, took) = call.await.unwrap();
        match outcome {
            Ok(()) => admitted += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                use tonic_types::StatusExt;
                let wait = status
                    .get_details_retry_info()
                    .and_then(|info| info.retry_delay)
                    .expect("the refusal says when to retry");
                let pushback = status
                    .metadata()
                    .get("grpc-retry-pushback-ms")
                    .and_then(|ms| ms.to_str().ok()?.parse::<u128>().ok());
                assert_eq!(
                    pushback,
                    Some(wait.as_millis()),
                    "the same wait as gRPC's retry policy reads it"
                );
                shed += 1;
                slowest_refusal = slowest_refusal.max(took);
            }
        }
    }
    println!(
        "burst of {BURST}: {admitted} admitted, {shed} shed, slowest refusal {slowest_refusal:?}"
    );
    assert!(
        (1..=BURST - LIMIT).contains(&admitted),
        "admitted calls succeed, the excess is shed"
    );
    assert!(shed >= BURST / 2, "most of the burst is shed");
    assert!(
        slowest_refusal < HOLD,
        "refusals come at once, not after a stall"
    );
    let growth_mib = resident_kib().saturating_sub(memory_before) / 1024;
    assert!(growth_mib < 64, "memory grew by {growth_mib} MiB");

    slow_link.delay(Duration::ZERO);
    let mut health = tonic_health::pb::health_client::HealthClient::new(subscription.channel());
    let status = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .status;
    assert_eq!(
        status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    let mut client = client;
    client
        .list_offers(spb::ListOffersRequest::default())
        .await
        .expect("healthy right after");
}

/// A command held past the server's limit (`TWOTIER_REQUEST_TIMEOUT`) is
/// cut off with a reason, not tonic's bare `CANCELLED`: `DEADLINE_EXCEEDED`
/// without a retry hint, as it may have taken effect (a read would hear
/// `UNAVAILABLE` with `RetryInfo`; one held past its caller's shorter
/// deadline `DEADLINE_EXCEEDED`, which a tonic client, enforcing the
/// deadline itself, never waits for: `deadline.rs` unit tests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_held_past_the_servers_limit_is_cut_off_with_a_reason() {
    let system = slow_checkout::start(
        Duration::from_secs(2),
        &[("TWOTIER_REQUEST_TIMEOUT", "500ms")],
    )
    .await;
    let mut client = SubscriptionServiceClient::with_interceptor(
        system.subscription.channel(),
        slow_checkout::provider(),
    );
    let cut = client
        .create_cart(system.create_cart())
        .await
        .expect_err("held past the server's limit");
    assert_eq!(cut.code(), Code::DeadlineExceeded, "{cut:?}");
    assert_eq!(
        twotier_platform::upstream::reason_of(&cut).as_deref(),
        Some("REQUEST_TIMEOUT")
    );
    use tonic_types::StatusExt;
    assert!(cut.get_details_retry_info().is_none(), "{cut:?}");
}
