//! Overload: a burst far above the concurrency limit gets RESOURCE_EXHAUSTED
//! at once for the excess while admitted calls still succeed; memory stays
//! bounded and the service is healthy right after.

use std::time::{Duration, Instant};

use tonic::Code;
use twotier_customer::CustomerService;
use twotier_partnership::PartnershipService;
use twotier_platform::auth::Role;
use twotier_proto::customer as cpb;
use twotier_proto::customer::customer_service_client::CustomerServiceClient;
use twotier_proto::subscription as spb;
use twotier_proto::subscription::subscription_service_client::SubscriptionServiceClient;
use twotier_subscription::SubscriptionService;
use twotier_testkit::{Bearer, ChaosProxy, TestDatabase};

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
    let partnership_db = TestDatabase::new("partnership").await;
    let partnership =
        twotier_testkit::start_service::<PartnershipService>(&partnership_db, &[]).await;
    let customer_db = TestDatabase::new("customer").await;
    let customer = twotier_testkit::start_service::<CustomerService>(
        &customer_db,
        &[("TWOTIER_PARTNERSHIP_ENDPOINT", &partnership.endpoint())],
    )
    .await;
    // Admitted calls wait on a slow link to the customer service, so they
    // hold their place for HOLD while the burst arrives.
    let slow_link = ChaosProxy::start(customer.addr).await;
    slow_link.delay(HOLD);
    let subscription_db = TestDatabase::new("subscription").await;
    let customer_endpoint = format!("http://{}", slow_link.addr);
    let limit = LIMIT.to_string();
    let subscription = twotier_testkit::start_service::<SubscriptionService>(
        &subscription_db,
        &[
            ("TWOTIER_PARTNERSHIP_ENDPOINT", &partnership.endpoint()),
            ("TWOTIER_CUSTOMER_ENDPOINT", &customer_endpoint),
            ("TWOTIER_CONCURRENCY_LIMIT", &limit),
            // One tenant sends the whole burst: this test is about the
            // process-wide limit, so the tenant may use all of it (fairness
            // between tenants is tests/hostile_tenants.rs).
            ("TWOTIER_TENANT_CONCURRENCY_LIMIT", &limit),
        ],
    )
    .await;
    let provider = Bearer::new(&twotier_testkit::token(
        "alice",
        "contoso",
        &[Role::GlobalAdmin],
    ));
    let customer_name =
        CustomerServiceClient::with_interceptor(customer.channel(), provider.clone())
            .create_customer(cpb::CreateCustomerRequest {
                parent: "providers/contoso".into(),
                customer: Some(cpb::Customer {
                    company_name: "Adatum".into(),
                    domain_prefix: "adatum".into(),
                    address: Some(cpb::Address {
                        address_line1: "1 Main St".into(),
                        city: "Berlin".into(),
                        postal_code: "10115".into(),
                        country_code: "DE".into(),
                        ..Default::default()
                    }),
                    primary_contact: Some(cpb::Contact {
                        first_name: "Pat".into(),
                        last_name: "Lee".into(),
                        email: "pat@adatum.example".into(),
                        phone: String::new(),
                    }),
                    ..Default::default()
                }),
                validate_only: false,
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .customer
            .unwrap()
            .name;

    let memory_before = resident_kib();
    let client =
        SubscriptionServiceClient::with_interceptor(subscription.channel(), provider.clone());
    let calls: Vec<_> = (0..BURST)
        .map(|_| {
            let mut client = client.clone();
            let request = spb::CreateCartRequest {
                parent: "providers/contoso".into(),
                cart: Some(spb::Cart {
                    customer: customer_name.clone(),
                    ..Default::default()
                }),
                request_id: String::new(),
            };
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
                assert!(
                    status.get_details_retry_info().is_some(),
                    "the refusal says when to retry"
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
