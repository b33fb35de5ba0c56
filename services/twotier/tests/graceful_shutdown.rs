//! Graceful shutdown: on SIGTERM a service reports NOT_SERVING, lets its
//! in-flight calls finish, then refuses new ones and exits within its grace
//! period.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::Command;
use twotier_customer::CustomerService;
use twotier_partnership::PartnershipService;
use twotier_platform::auth::Role;
use twotier_proto::subscription as spb;
use twotier_proto::subscription::subscription_service_client::SubscriptionServiceClient;
use twotier_testkit::{Bearer, ChaosProxy, TestDatabase};

const NOT_SERVING: i32 = tonic_health::pb::health_check_response::ServingStatus::NotServing as i32;
const SERVING: i32 = tonic_health::pb::health_check_response::ServingStatus::Serving as i32;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_calls_refuses_new_ones_and_exits_within_grace() {
    let partnership_db = TestDatabase::new("partnership").await;
    let partnership =
        twotier_testkit::start_service::<PartnershipService>(&partnership_db, &[]).await;
    let customer_db = TestDatabase::new("customer").await;
    let customer = twotier_testkit::start_service::<CustomerService>(
        &customer_db,
        &[("TWOTIER_PARTNERSHIP_ENDPOINT", &partnership.endpoint())],
    )
    .await;
    // The subscription process reaches the customer service through a slow
    // link, so a cart creation stays in flight for a while.
    let slow_link = ChaosProxy::start(customer.addr).await;
    slow_link.delay(Duration::from_millis(1000));

    let provider = Bearer::new(&twotier_testkit::token(
        "alice",
        "contoso",
        &[Role::GlobalAdmin],
    ));
    let customer_name =
        twotier_testkit::flows::customer(customer.channel(), "contoso", "adatum", "", false).await;

    let subscription_db = TestDatabase::new("subscription").await;
    let port = twotier_testkit::free_port();
    let mut process = Command::new(env!("CARGO_BIN_EXE_twotier"))
        .args(["run", "--only", "subscription"])
        .env("TWOTIER_DATA_DIR", subscription_db.data_dir())
        .env("TWOTIER_SUBSCRIPTION_DATABASE_URL", &subscription_db.url)
        .env(
            "TWOTIER_SUBSCRIPTION_LISTEN_ADDR",
            format!("127.0.0.1:{port}"),
        )
        .env("TWOTIER_PARTNERSHIP_ENDPOINT", partnership.endpoint())
        .env(
            "TWOTIER_CUSTOMER_ENDPOINT",
            format!("http://{}", slow_link.addr),
        )
        .env("TWOTIER_JWT_HS256_SECRET", twotier_testkit::SECRET)
        .env(
            "TWOTIER_SERVICE_TOKEN_SECRET",
            twotier_testkit::SERVICE_SECRET,
        )
        .env("TWOTIER_METRICS_ADDR", "127.0.0.1:0")
        .env("TWOTIER_SHUTDOWN_DRAIN_DELAY", "1s")
        .env("TWOTIER_SHUTDOWN_GRACE", "5s")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let channel = twotier_testkit::channel(&format!("http://127.0.0.1:{port}"));
    let health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    twotier_testkit::wait_until("the process serves", Duration::from_secs(60), || async {
        status(&health).await == Some(SERVING)
    })
    .await;

    // An in-flight call: it is waiting on the slow link when SIGTERM arrives.
    let mut client = SubscriptionServiceClient::with_interceptor(channel.clone(), provider.clone());
    let request = spb::CreateCartRequest {
        parent: "providers/contoso".into(),
        cart: Some(spb::Cart {
            customer: customer_name.clone(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let in_flight = tokio::spawn(async move { client.create_cart(request).await });
    twotier_testkit::wait_until(
        "the call reaches the customer service link",
        Duration::from_secs(10),
        || async { slow_link.forwarded() > 0 },
    )
    .await;
    let terminated_at = Instant::now();
    let pid = process.id().expect("running").to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");

    twotier_testkit::wait_until(
        "health reports NOT_SERVING",
        Duration::from_secs(5),
        || async { status(&health).await == Some(NOT_SERVING) },
    )
    .await;
    let cart = in_flight
        .await
        .unwrap()
        .expect("the in-flight call finished normally")
        .into_inner();
    assert_eq!(cart.customer, customer_name);

    let exit = tokio::time::timeout(Duration::from_secs(10), process.wait())
        .await
        .expect("exits within the grace period")
        .expect("exit status");
    assert!(exit.success(), "clean exit, got {exit:?}");
    assert!(
        terminated_at.elapsed() < Duration::from_secs(1 + 5 + 2),
        "drain delay plus grace"
    );
    let mut late = SubscriptionServiceClient::with_interceptor(
        twotier_testkit::channel(&format!("http://127.0.0.1:{port}")),
        provider,
    );
    let refused = late.list_offers(spb::ListOffersRequest::default()).await;
    assert_eq!(
        refused.expect_err("new calls are refused").code(),
        tonic::Code::Unavailable
    );
}

async fn status(
    health: &tonic_health::pb::health_client::HealthClient<tonic::transport::Channel>,
) -> Option<i32> {
    let mut health = health.clone();
    let request = tonic_health::pb::HealthCheckRequest {
        service: String::new(),
    };
    health
        .check(request)
        .await
        .ok()
        .map(|r| r.into_inner().status)
}
