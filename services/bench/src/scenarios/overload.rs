//! Overload: the partnership read first with as many clients as the
//! concurrency limit, then with ten times as many, on a system of its own
//! whose limit is small enough for a few clients to exceed it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tonic::Code;
use twotier_platform::auth::{Bearer, Role};
use twotier_platform::channel::{ChannelOptions, ClientChannels};
use twotier_proto::partnership as ppb;
use twotier_proto::partnership::partnership_service_client::PartnershipServiceClient;

use crate::driver::Measurement;
use crate::system::{Backend, System};
use crate::{ms, target};

use super::*;

/// `TWOTIER_CONCURRENCY_LIMIT` of the overloaded system.
const LIMIT: usize = 8;
/// Clients of the overloaded run, as a multiple of the limit.
const OVERLOAD_FACTOR: usize = 10;
/// A call still unanswered after this counts as timed out.
const CALL_DEADLINE: Duration = Duration::from_secs(10);

/// What one load (a number of clients calling in a closed loop) measured.
pub struct Load {
    pub clients: usize,
    /// Calls the admission layer let through and that answered OK.
    pub admitted: Measurement,
    /// Calls refused with RESOURCE_EXHAUSTED; their latency is how fast a
    /// client learns it has to back off.
    pub refused: Measurement,
    /// Refusals by `ErrorInfo.reason`.
    pub refusal_reasons: BTreeMap<String, usize>,
    /// Calls that failed otherwise, by status code (client-side timeouts
    /// count as `DeadlineExceeded`).
    pub failed: BTreeMap<String, usize>,
    pub first_failure: Option<String>,
}

impl Load {
    fn failures(&self) -> usize {
        self.failed.values().sum()
    }
}

/// The overload scenario's result.
pub struct Overload {
    pub unloaded: Load,
    pub overloaded: Load,
}

/// Starts a system with `TWOTIER_CONCURRENCY_LIMIT=8` (per-tenant share 8
/// too) on `backend` and runs the partnership read on it with 8, then 80,
/// clients for `duration` each.
pub async fn overload(backend: &Backend, run: &str, duration: Duration) -> Result<Overload, Error> {
    let limit = LIMIT.to_string();
    // The whole load comes from one tenant (the provider): with the default
    // share (a quarter of the limit) it would be refused at 2 calls and the
    // process limit would never be reached.
    let system = System::start_with(
        backend,
        run,
        &[
            ("TWOTIER_CONCURRENCY_LIMIT", &limit),
            ("TWOTIER_TENANT_CONCURRENCY_LIMIT", &limit),
        ],
    )
    .await
    .map_err(|e| e.to_string())?;
    let clients = Clients::new(&system);
    let (tenant, token) = invitation_for(&clients, 0, "read").await?;
    let partnership = clients
        .reseller(&tenant)
        .accept_invitation(ppb::AcceptInvitationRequest { token })
        .await?
        .into_inner();
    let token = system.token("bench", PROVIDER, &[Role::GlobalAdmin]);
    let mut loads = Vec::new();
    for (label, clients) in [("unloaded", LIMIT), ("overloaded", LIMIT * OVERLOAD_FACTOR)] {
        eprintln!("running overload: partnership read, {label}, {clients} clients...");
        loads.push(load(&system, &token, &partnership.name, clients, duration).await?);
    }
    let overloaded = loads.pop().ok_or("the overloaded run")?;
    let unloaded = loads.pop().ok_or("the unloaded run")?;
    Ok(Overload {
        unloaded,
        overloaded,
    })
}

/// What one call came to.
enum Outcome {
    Admitted,
    Refused(String),
    Failed(String, String),
}

/// `clients` tasks, each on its own connection (as separate callers would
/// be, so no one HTTP/2 connection queues the load before the server
/// sees it), each calling `GetPartnership` again as soon as it is answered.
async fn load(
    system: &System,
    token: &str,
    partnership: &str,
    clients: usize,
    duration: Duration,
) -> Result<Load, Error> {
    let mut connected = Vec::with_capacity(clients);
    for _ in 0..clients {
        // Connected before the clock starts, so no sample pays a handshake.
        let channel = ClientChannels::plaintext()
            .connect(
                &format!("http://{}", system.partnership),
                ChannelOptions::default(),
            )
            .await?;
        connected.push(PartnershipServiceClient::with_interceptor(
            channel,
            Bearer::new(token),
        ));
    }
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = connected
        .into_iter()
        .map(|mut client| {
            let name = partnership.to_owned();
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                while Instant::now() < deadline {
                    let mut request =
                        tonic::Request::new(ppb::GetPartnershipRequest { name: name.clone() });
                    // The server learns the deadline too; the client-side
                    // timeout catches a call that never comes back at all.
                    request.set_timeout(CALL_DEADLINE);
                    let call_started = Instant::now();
                    let answer =
                        tokio::time::timeout(CALL_DEADLINE, client.get_partnership(request)).await;
                    let outcome = match answer {
                        Ok(Ok(_)) => Outcome::Admitted,
                        Ok(Err(status)) if status.code() == Code::ResourceExhausted => {
                            Outcome::Refused(
                                twotier_platform::upstream::reason_of(&status)
                                    .unwrap_or_else(|| "(no reason)".into()),
                            )
                        }
                        Ok(Err(status)) => {
                            Outcome::Failed(format!("{:?}", status.code()), super::status(status))
                        }
                        Err(_) => Outcome::Failed(
                            format!("{:?}", Code::DeadlineExceeded),
                            format!("no answer within {CALL_DEADLINE:?}"),
                        ),
                    };
                    outcomes.push((outcome, call_started.elapsed()));
                }
                outcomes
            })
        })
        .collect();
    let mut admitted = Vec::new();
    let mut refused = Vec::new();
    let mut refusal_reasons = BTreeMap::new();
    let mut failed = BTreeMap::new();
    let mut first_failure = None;
    for task in tasks {
        for (outcome, latency) in task.await? {
            match outcome {
                Outcome::Admitted => admitted.push(latency),
                Outcome::Refused(reason) => {
                    refused.push(latency);
                    *refusal_reasons.entry(reason).or_insert(0) += 1;
                }
                Outcome::Failed(code, message) => {
                    *failed.entry(code).or_insert(0) += 1;
                    first_failure.get_or_insert(message);
                }
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let failures = failed.values().sum();
    Ok(Load {
        clients,
        admitted: Measurement::from_samples("admitted", admitted, failures, seconds),
        refused: Measurement::from_samples("refused", refused, 0, seconds),
        refusal_reasons,
        failed,
        first_failure,
    })
}

impl Overload {
    /// Prints the two loads and the targets, as markdown.
    pub fn print(&self) {
        println!("\nOverload: partnership read at {OVERLOAD_FACTOR}x the concurrency limit\n");
        println!(
            "A system of its own with `TWOTIER_CONCURRENCY_LIMIT={LIMIT}` and \
             `TWOTIER_TENANT_CONCURRENCY_LIMIT={LIMIT}` (so the one tenant calling, the \
             provider, may use the whole limit); each client has its own connection and calls \
             again as soon as it is answered, with a {}-second deadline per call. The tenant's \
             share is checked first, so that tenant's refusals carry the reason \
             TENANT_CONCURRENCY_LIMIT; SERVER_OVERLOADED appears when other callers (the \
             services' own event-log calls) hold part of the limit.\n",
            CALL_DEADLINE.as_secs()
        );
        println!(
            "| load | clients | admitted calls/s | admitted p50 | admitted p99 | refused | refused p50 | refused p99 | failed |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (label, load) in [
            ("unloaded (clients = limit)", &self.unloaded),
            ("overloaded", &self.overloaded),
        ] {
            println!(
                "| {label} | {} | {:.0} | {} | {} | {} | {} | {} | {} |",
                load.clients,
                load.admitted.throughput(),
                ms(load.admitted.p50),
                ms(load.admitted.p99),
                load.refused.calls,
                ms(load.refused.p50),
                ms(load.refused.p99),
                load.failures()
            );
        }
        for (label, load) in [
            ("unloaded", &self.unloaded),
            ("overloaded", &self.overloaded),
        ] {
            if !load.refusal_reasons.is_empty() {
                println!(
                    "\nRefusal reasons, {label}: {}",
                    counts(&load.refusal_reasons)
                );
            }
            if let Some(first) = &load.first_failure {
                println!(
                    "\nFailed, {label}: {} (first: {first})",
                    counts(&load.failed)
                );
            }
        }

        println!("\nOverload targets:\n");
        let (before, after) = (&self.unloaded.admitted, &self.overloaded.admitted);
        let growth = after.p99.as_secs_f64() / before.p99.as_secs_f64().max(1e-9);
        println!(
            "- admitted p99, overloaded vs unloaded: {growth:.2}x{}",
            target(growth <= 3.0, "target <= 3x")
        );
        let refused = &self.overloaded.refused;
        if refused.calls == 0 {
            println!("- refusal p99: no call was refused");
        } else {
            println!(
                "- refusal p99: {}{}",
                ms(refused.p99),
                target(refused.p99 < Duration::from_millis(5), "target < 5 ms")
            );
        }
        let failures = self.unloaded.failures() + self.overloaded.failures();
        println!(
            "- calls failed with DEADLINE_EXCEEDED or any code but RESOURCE_EXHAUSTED: {failures}{}",
            target(failures == 0, "target 0")
        );
    }
}

fn counts(by_key: &BTreeMap<String, usize>) -> String {
    by_key
        .iter()
        .map(|(key, n)| format!("{key} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
