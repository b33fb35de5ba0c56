//! Hostile callers cannot exhaust a service for everyone else: a tenant
//! holding hundreds of calls that never send their request, a tenant
//! saturating its share, and a flood of calls without a valid token all
//! leave another tenant's calls served promptly.

mod raw_h2;
mod slow_checkout;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tonic::Code;
use tonic::transport::Channel;
use tonic_types::StatusExt;
use twotier_partnership::PartnershipService;
use twotier_platform::auth::{Role, Secret, TokenMinter};
use twotier_proto::partnership::ListProviderListingsRequest;
use twotier_proto::partnership::provider_listing_service_client::ProviderListingServiceClient;
use twotier_proto::subscription::ListOffersRequest;
use twotier_proto::subscription::subscription_service_client::SubscriptionServiceClient;
use twotier_testkit::{Bearer, TestDatabase};

use raw_h2::{RawConnection, SilentCall};

fn token(tenant: &str) -> String {
    twotier_testkit::token("admin", tenant, &[Role::GlobalAdmin])
}

async fn list_listings(channel: Channel, token: &str) -> Result<(), tonic::Status> {
    ProviderListingServiceClient::with_interceptor(channel, Bearer::new(token))
        .list_provider_listings(ListProviderListingsRequest::default())
        .await
        .map(|_| ())
}

/// Opens `per_connection` silent calls on each of `connections` HTTP/2
/// connections, then one complete call per connection, which must be
/// served. Frames of a connection are handled in order, so once the
/// complete calls are answered the server has every silent call in hand.
async fn open_silent_calls(
    addr: std::net::SocketAddr,
    token: &str,
    connections: usize,
    per_connection: usize,
) -> (Vec<RawConnection>, Vec<SilentCall>) {
    let mut opened = Vec::new();
    let mut silent = Vec::new();
    for _ in 0..connections {
        let mut connection = RawConnection::open(addr).await;
        for _ in 0..per_connection {
            silent.push(connection.silent_call(token).await);
        }
        let served = connection.complete_call(token).await;
        assert_eq!(
            raw_h2::grpc_status(&served),
            None,
            "the same tenant's complete call is served beside its silent ones: {:?}",
            served.headers()
        );
        opened.push(connection);
    }
    (opened, silent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_calls_that_never_send_a_body_do_not_stop_another_tenant() {
    const RECEIVE_TIMEOUT: Duration = Duration::from_secs(5);
    let db = TestDatabase::new("partnership").await;
    let server = twotier_testkit::start_service::<PartnershipService>(
        &db,
        &[
            // Far fewer permits than silent calls, and the tenant may take
            // all of them: had the silent calls taken permits, nobody else
            // would get one (fairness is not what protects tenant B here).
            ("TWOTIER_CONCURRENCY_LIMIT", "16"),
            ("TWOTIER_TENANT_CONCURRENCY_LIMIT", "16"),
            ("TWOTIER_REQUEST_RECEIVE_TIMEOUT", "5s"),
            ("TWOTIER_REQUEST_TIMEOUT", "30s"),
        ],
    )
    .await;

    let (_connections, silent) = open_silent_calls(server.addr, &token("tenant-a"), 3, 100).await;
    let stalled_since = Instant::now();

    let channel = server.channel();
    for _ in 0..20 {
        tokio::time::timeout(
            Duration::from_secs(2),
            list_listings(channel.clone(), &token("tenant-b")),
        )
        .await
        .expect("tenant B is answered promptly")
        .expect("tenant B is served");
    }
    assert!(
        stalled_since.elapsed() < RECEIVE_TIMEOUT,
        "tenant B was served while all of tenant A's calls were still waiting for their body"
    );

    // The silent calls end with a clear status at the receive deadline,
    // not before.
    for call in silent {
        let response = tokio::time::timeout(Duration::from_secs(15), call.response)
            .await
            .expect("the silent call is ended")
            .expect("response headers");
        assert_eq!(
            raw_h2::grpc_status(&response),
            Some("4"),
            "DEADLINE_EXCEEDED: {:?}",
            response.headers()
        );
    }
    assert!(stalled_since.elapsed() >= RECEIVE_TIMEOUT - Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_saturating_its_share_is_refused_while_another_tenant_is_admitted() {
    const HOLD: Duration = Duration::from_secs(2);
    let system = slow_checkout::start(
        HOLD,
        &[
            ("TWOTIER_CONCURRENCY_LIMIT", "8"),
            ("TWOTIER_TENANT_CONCURRENCY_LIMIT", "2"),
        ],
    )
    .await;
    let client = SubscriptionServiceClient::with_interceptor(
        system.subscription.channel(),
        slow_checkout::provider(),
    );
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let mut client = client.clone();
            let request = system.create_cart();
            tokio::spawn(async move { client.create_cart(request).await })
        })
        .collect();

    // The calls over the share are refused at once; the two admitted ones
    // wait on the slow link.
    twotier_testkit::wait_until("the calls over the share are refused", HOLD / 2, || {
        let finished = calls.iter().filter(|call| call.is_finished()).count();
        async move { finished >= 8 }
    })
    .await;
    let (refused, admitted): (Vec<_>, Vec<_>) =
        calls.into_iter().partition(|call| call.is_finished());
    assert_eq!(admitted.len(), 2, "the tenant's share is 2");
    for call in refused {
        let status = twotier_testkit::assert_error(
            call.await.expect("task"),
            Code::ResourceExhausted,
            "TENANT_CONCURRENCY_LIMIT",
        );
        assert!(
            status.get_details_retry_info().is_some(),
            "the refusal says when to retry"
        );
    }

    let other_tenant = Bearer::new(&token("northwind"));
    SubscriptionServiceClient::with_interceptor(system.subscription.channel(), other_tenant)
        .list_offers(ListOffersRequest::default())
        .await
        .expect("another tenant is admitted");
    assert!(
        admitted.iter().all(|call| !call.is_finished()),
        "the first tenant's calls were still holding their share"
    );
    for call in admitted {
        let _ = call.await.expect("task");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_of_calls_with_invalid_tokens_never_takes_an_admission_permit() {
    let db = TestDatabase::new("partnership").await;
    let server = twotier_testkit::start_service::<PartnershipService>(
        &db,
        // One permit: had an unauthenticated call held it even briefly,
        // the authenticated calls (or the flood) would see RESOURCE_EXHAUSTED.
        &[
            ("TWOTIER_CONCURRENCY_LIMIT", "1"),
            ("TWOTIER_TENANT_CONCURRENCY_LIMIT", "1"),
        ],
    )
    .await;
    let forger = TokenMinter::new(
        &Secret::new("forger", b"not-the-server-secret-but-long-enough".to_vec()).expect("secret"),
        twotier_testkit::ISSUER,
        twotier_testkit::AUDIENCE,
    );
    let forged = forger
        .mint(
            "mallory",
            "tenant-a",
            &[Role::GlobalAdmin],
            None,
            Duration::from_secs(600),
        )
        .expect("forged token");

    let stop = Arc::new(AtomicBool::new(false));
    let flood: Vec<_> = (0..6)
        .map(|_| {
            let channel = server.channel();
            let forged = forged.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut refused = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let outcome = list_listings(channel.clone(), &forged).await;
                    let status = outcome.expect_err("a forged token is refused");
                    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
                    refused += 1;
                }
                refused
            })
        })
        .collect();

    let channel = server.channel();
    for _ in 0..100 {
        list_listings(channel.clone(), &token("tenant-b"))
            .await
            .expect("the authenticated call is never shed");
    }
    stop.store(true, Ordering::Relaxed);
    let mut flooded = 0;
    for task in flood {
        flooded += task
            .await
            .expect("every flood call is refused as unauthenticated");
    }
    assert!(flooded > 100, "the flood ran alongside ({flooded} calls)");
}
