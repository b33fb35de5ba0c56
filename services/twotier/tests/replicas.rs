//! Two instances of every service on one PostgreSQL run the workload with
//! exactly the same results as one: the sequencers coordinate through an
//! advisory lock, consumers through their cursor rows, and the email
//! dispatchers through leases.

mod common;

use std::time::{Duration, Instant};

use common::System;
use common::workload::{Clients, run_item};

const ITEMS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_of_every_service_give_the_same_results_as_one() {
    if twotier_testkit::skip_without_postgres("the replica test") {
        return;
    }
    let system = System::start(2).await;
    let deadline = Instant::now() + Duration::from_secs(180);
    // Calls alternate between the replicas.
    let clients: Vec<Clients> = (0..2)
        .map(|replica| Clients::new(&system, replica))
        .collect();
    let workers = clients.iter().enumerate().map(|(w, clients)| async move {
        for item in (w..ITEMS).step_by(2) {
            run_item(clients, item, deadline).await;
        }
    });
    futures::future::join_all(workers).await;
    common::verify(&system, ITEMS).await;
}
