//! Two replicas of the customer service behind one name: a client channel
//! resolves the name again and again and spreads its calls over every
//! address (what a headless Kubernetes Service gives), follows replicas
//! that leave and join, and keeps working while the name is resolved.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use twotier_customer::CustomerService;
use twotier_platform::channel::{ChannelOptions, ClientChannels, Resolve};
use twotier_proto::customer as pb;
use twotier_proto::customer::customer_service_client::CustomerServiceClient;
use twotier_testkit::{
    Bearer, ChaosProxy, TestDatabase, provider_admin, start_service, wait_until,
};

/// A name server the test controls: the name resolves to `addresses`.
fn resolver(addresses: Arc<Mutex<Vec<SocketAddr>>>) -> Resolve {
    Arc::new(move |_host, _port| {
        let addresses = addresses.clone();
        Box::pin(async move { Ok(addresses.lock().expect("addresses").clone()) })
    })
}

async fn list(
    client: &mut CustomerServiceClient<
        tonic::codegen::InterceptedService<tonic::transport::Channel, Bearer>,
    >,
) -> bool {
    client
        .list_customers(pb::ListCustomersRequest {
            parent: "providers/contoso".into(),
            ..Default::default()
        })
        .await
        .is_ok()
}

#[tokio::test]
async fn calls_to_one_name_are_spread_over_its_replicas_as_they_come_and_go() {
    let db = TestDatabase::new("customer").await;
    let first = start_service::<CustomerService>(&db, &[]).await;
    let second = start_service::<CustomerService>(&db, &[]).await;
    let third = start_service::<CustomerService>(&db, &[]).await;
    // Each replica behind a proxy that counts what reaches it.
    let to_first = ChaosProxy::start(first.addr).await;
    let to_second = ChaosProxy::start(second.addr).await;
    let to_third = ChaosProxy::start(third.addr).await;
    let addresses = Arc::new(Mutex::new(vec![to_first.addr, to_second.addr]));
    let channel = ClientChannels::plaintext()
        .with_resolver(resolver(addresses.clone()), Duration::from_millis(50))
        .connect_lazy(
            "http://customer.replicas.test:50052",
            ChannelOptions::default(),
        )
        .expect("channel");
    let mut client =
        CustomerServiceClient::with_interceptor(channel, Bearer::new(&provider_admin("contoso")));

    wait_until(
        "the name is resolved and a call succeeds",
        Duration::from_secs(20),
        || {
            let mut client = client.clone();
            async move { list(&mut client).await }
        },
    )
    .await;
    for _ in 0..40 {
        assert!(list(&mut client).await, "every call succeeds");
    }
    assert!(to_first.forwarded() > 0, "the first replica served calls");
    assert!(to_second.forwarded() > 0, "the second replica served calls");
    assert_eq!(
        to_third.forwarded(),
        0,
        "a replica not behind the name gets nothing"
    );

    // The first replica leaves the name and a third joins.
    *addresses.lock().expect("addresses") = vec![to_second.addr, to_third.addr];
    wait_until(
        "the third replica serves calls",
        Duration::from_secs(20),
        || {
            let mut client = client.clone();
            let to_third = &to_third;
            async move { list(&mut client).await && to_third.forwarded() > 0 }
        },
    )
    .await;
    wait_until(
        "the first replica no longer gets calls",
        Duration::from_secs(20),
        || {
            let mut client = client.clone();
            let to_first = &to_first;
            async move {
                let before = to_first.forwarded();
                for _ in 0..10 {
                    assert!(
                        list(&mut client).await,
                        "calls succeed while replicas change"
                    );
                }
                to_first.forwarded() == before
            }
        },
    )
    .await;
    let (second_before, third_before) = (to_second.forwarded(), to_third.forwarded());
    for _ in 0..40 {
        assert!(list(&mut client).await);
    }
    assert!(
        to_second.forwarded() > second_before,
        "the second replica keeps serving"
    );
    assert!(
        to_third.forwarded() > third_before,
        "the third replica serves its share"
    );

    // A failed resolution keeps the replicas known.
    *addresses.lock().expect("addresses") = Vec::new();
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..10 {
        assert!(
            list(&mut client).await,
            "calls succeed while the name resolves to nothing"
        );
    }
    first.stop().await;
    second.stop().await;
    third.stop().await;
}
