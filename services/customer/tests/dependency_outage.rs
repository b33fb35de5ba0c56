//! R9 while the partnership service cannot be reached: a partnership it
//! acknowledged is not refused as "not a partner" (a permanent-looking
//! answer) but answered as transient, and the same request succeeds once
//! the partnership log is reachable again.

mod common;

use std::time::Duration;

use common::*;
use tonic::Code;
use twotier_testkit::{ChaosProxy, System, assert_error, wait_until};

#[tokio::test]
async fn partnership_service_unreachable_answers_dependency_unavailable_not_reseller_not_partner() {
    let mut system = System::start(&["partnership"], &[]).await;
    let proxy = ChaosProxy::start(system.server("partnership").addr).await;
    let through_proxy = format!("http://{}", proxy.addr);
    system
        .add(
            "customer",
            &[("TWOTIER_PARTNERSHIP_ENDPOINT", &through_proxy)],
        )
        .await;
    let h = Harness { system };

    proxy.cut();
    h.onboard(RESELLER, RESELLER_TENANT, "Fabrikam").await;
    h.partner(PROVIDER, RESELLER_TENANT).await;

    let mut customers = h.customers(&provider_admin(PROVIDER));
    let mut request = create(PROVIDER, new_customer("Adatum", "adatum", RESELLER));
    request.request_id = "create-adatum-during-outage".into();
    assert_error(
        customers.create_customer(request.clone()).await,
        Code::Unavailable,
        "DEPENDENCY_UNAVAILABLE",
    );
    let listed = customers
        .list_customers(twotier_proto::customer::ListCustomersRequest {
            parent: format!("providers/{PROVIDER}"),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert!(
        listed.customers.is_empty(),
        "the refused call created nothing"
    );

    proxy.restore();
    wait_until(
        "the same request succeeds once the partnership log is reachable",
        Duration::from_secs(30),
        || {
            let mut customers = customers.clone();
            let request = request.clone();
            async move { customers.create_customer(request).await.is_ok() }
        },
    )
    .await;
}
