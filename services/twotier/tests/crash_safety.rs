//! Crash safety (PostgreSQL): the workload runs while each service process
//! in turn is killed with SIGKILL at random moments and restarted.
//! Afterwards every acknowledged command is in its database, every event's
//! effect happened exactly once in every consumer, and nothing is stuck.

mod common;

use std::time::{Duration, Instant};

use common::System;
use common::workload::{Clients, run_item};

const ITEMS: usize = 24;
const WORKERS: usize = 3;

/// A small deterministic generator, seeded and printed so a failing run can
/// be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_killed_with_sigkill_mid_workload_lose_nothing_and_apply_every_event_once() {
    if twotier_testkit::skip_without_postgres("crash safety") {
        return;
    }
    let mut system = System::start(1).await;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    println!("kill schedule seed: {seed}");
    let deadline = Instant::now() + Duration::from_secs(240);

    let workload = {
        let clients: Vec<Clients> = (0..WORKERS).map(|w| Clients::new(&system, w)).collect();
        async move {
            let workers = clients
                .into_iter()
                .enumerate()
                .map(|(w, clients)| async move {
                    for item in (w..ITEMS).step_by(WORKERS) {
                        run_item(&clients, item, deadline).await;
                    }
                });
            futures::future::join_all(workers).await;
        }
    };
    tokio::pin!(workload);

    // Kill until the workload is done and every service died at least twice
    // (the consumers and the email dispatcher are still busy after the last
    // call returns).
    let mut random = Lcg(seed);
    let mut kills = 0;
    let mut victim = 0;
    let mut finished = false;
    while !finished || kills < 8 {
        let pause = Duration::from_millis(150 + random.next(400));
        if finished {
            tokio::time::sleep(pause).await;
        } else {
            tokio::select! {
                () = &mut workload => finished = true,
                () = tokio::time::sleep(pause) => {}
            }
        }
        let process = &mut system.processes[victim % 4];
        victim += 1;
        process.kill().await;
        kills += 1;
        tokio::time::sleep(Duration::from_millis(100 + random.next(400))).await;
        process.spawn();
    }
    println!("killed {kills} processes while the workload ran");
    assert!(kills >= 8, "every service was killed at least twice");
    for process in &mut system.processes {
        process.wait_serving().await;
    }
    common::verify(&system, ITEMS).await;
}
