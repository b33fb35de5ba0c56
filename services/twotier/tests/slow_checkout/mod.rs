//! A subscription service whose calls to the customer service cross a slow
//! link, so its `CreateCart` calls hold their admission permit for as long
//! as the link delays them: the fixture of the overload and fairness tests.

#![allow(dead_code)]

use std::time::Duration;

use twotier_customer::CustomerService;
use twotier_partnership::PartnershipService;
use twotier_platform::auth::Role;
use twotier_proto::subscription as spb;
use twotier_subscription::SubscriptionService;
use twotier_testkit::{Bearer, ChaosProxy, RunningServer, TestDatabase};

/// The provider tenant whose customer the carts are for.
pub const PROVIDER: &str = "contoso";

pub struct SlowCheckout {
    pub partnership: RunningServer,
    pub customer: RunningServer,
    /// Between the subscription and the customer service.
    pub slow_link: ChaosProxy,
    pub subscription: RunningServer,
    /// A customer of [`PROVIDER`].
    pub customer_name: String,
    _databases: Vec<TestDatabase>,
}

/// Starts the three services; calls to the customer service are delayed
/// by `hold`. `subscription_env` configures the subscription service.
pub async fn start(hold: Duration, subscription_env: &[(&str, &str)]) -> SlowCheckout {
    let partnership_db = TestDatabase::new("partnership").await;
    let partnership =
        twotier_testkit::start_service::<PartnershipService>(&partnership_db, &[]).await;
    let customer_db = TestDatabase::new("customer").await;
    let customer = twotier_testkit::start_service::<CustomerService>(
        &customer_db,
        &[("TWOTIER_PARTNERSHIP_ENDPOINT", &partnership.endpoint())],
    )
    .await;
    let slow_link = ChaosProxy::start(customer.addr).await;
    slow_link.delay(hold);
    let subscription_db = TestDatabase::new("subscription").await;
    let customer_endpoint = format!("http://{}", slow_link.addr);
    let partnership_endpoint = partnership.endpoint();
    let mut env = vec![
        (
            "TWOTIER_PARTNERSHIP_ENDPOINT",
            partnership_endpoint.as_str(),
        ),
        ("TWOTIER_CUSTOMER_ENDPOINT", customer_endpoint.as_str()),
    ];
    env.extend_from_slice(subscription_env);
    let subscription =
        twotier_testkit::start_service::<SubscriptionService>(&subscription_db, &env).await;
    let customer_name = create_customer(&customer).await;
    SlowCheckout {
        partnership,
        customer,
        slow_link,
        subscription,
        customer_name,
        _databases: vec![partnership_db, customer_db, subscription_db],
    }
}

/// A token of the provider's admin.
pub fn provider() -> Bearer {
    Bearer::new(&twotier_testkit::token(
        "alice",
        PROVIDER,
        &[Role::GlobalAdmin],
    ))
}

impl SlowCheckout {
    /// A cart for the customer: its customer lookup crosses the slow link.
    pub fn create_cart(&self) -> spb::CreateCartRequest {
        spb::CreateCartRequest {
            parent: format!("providers/{PROVIDER}"),
            cart: Some(spb::Cart {
                customer: self.customer_name.clone(),
                ..Default::default()
            }),
            request_id: String::new(),
        }
    }
}

async fn create_customer(customer: &RunningServer) -> String {
    twotier_testkit::flows::customer(customer.channel(), PROVIDER, "adatum", "", false).await
}
