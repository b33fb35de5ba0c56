//! Overload: the partnership read first with as many clients as the
//! concurrency limit, then with ten times as many, on a system of its own
//! whose limit is small enough for a few clients to exceed it. The ten
//! times as many clients run twice: once waiting as long as a refusal's
//! `RetryInfo` asks before calling again (as a client decoding it, or a
//! gRPC retry policy reading the same wait from the pushback trailer,
//! does), once calling again at once (a client that ignores both).

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

/// What a client does when it is refused.
#[derive(Clone, Copy)]
enum OnRefusal {
    /// Waits as long as the refusal's `RetryInfo` asks.
    WaitAsAsked,
    /// Calls again at once.
    CallAgain,
}

/// The overload scenario's result.
pub struct Overload {
    pub unloaded: Load,
    /// Ten times the limit, clients waiting as refusals ask.
    pub overloaded: Load,
    /// Ten times the limit, clients calling again at once.
    pub flooded: Load,
}

/// Starts a system with `TWOTIER_CONCURRENCY_LIMIT=8` (per-tenant share 8
/// too) on `backend` and runs the partnership read on it with 8 clients,
/// then twice with 80 (waiting as asked, calling again at once), for
/// `duration` each.
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
    let measure = async |label: &str, clients: usize, on_refusal: OnRefusal| {
        eprintln!("running overload: partnership read, {label}, {clients} clients...");
        let read = Read {
            system: &system,
            token: &token,
            partnership: &partnership.name,
        };
        load(read, clients, on_refusal, duration).await
    };
    let overloaded_clients = LIMIT * OVERLOAD_FACTOR;
    Ok(Overload {
        // As earlier runs measured it: a rare refusal here (the services'
        // own log calls holding part of the limit) is called again at once.
        unloaded: measure("unloaded", LIMIT, OnRefusal::CallAgain).await?,
        overloaded: measure(
            "overloaded, waiting as asked",
            overloaded_clients,
            OnRefusal::WaitAsAsked,
        )
        .await?,
        flooded: measure(
            "overloaded, calling again at once",
            overloaded_clients,
            OnRefusal::CallAgain,
        )
        .await?,
    })
}

/// The call every client makes: `GetPartnership` of `partnership` with
/// `token`.
#[derive(Clone, Copy)]
struct Read<'a> {
    system: &'a System,
    token: &'a str,
    partnership: &'a str,
}

/// What one call came to.
enum Outcome {
    Admitted,
    /// Refused for `reason`, asking to wait `retry_delay`.
    Refused {
        reason: String,
        retry_delay: Option<Duration>,
    },
    Failed(String, String),
}

/// `clients` tasks, each on its own connection (as separate callers would
/// be, so no one HTTP/2 connection queues the load before the server
/// sees it), each calling `GetPartnership` again as soon as it is answered
/// or, when refused, as `on_refusal` says.
async fn load(
    Read {
        system,
        token,
        partnership,
    }: Read<'_>,
    clients: usize,
    on_refusal: OnRefusal,
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
                            Outcome::Refused {
                                reason: twotier_platform::upstream::reason_of(&status)
                                    .unwrap_or_else(|| "(no reason)".into()),
                                retry_delay: twotier_platform::upstream::retry_delay_of(&status),
                            }
                        }
                        Ok(Err(status)) => {
                            Outcome::Failed(format!("{:?}", status.code()), super::status(status))
                        }
                        Err(_) => Outcome::Failed(
                            format!("{:?}", Code::DeadlineExceeded),
                            format!("no answer within {CALL_DEADLINE:?}"),
                        ),
                    };
                    let latency = call_started.elapsed();
                    let wait = match (&outcome, on_refusal) {
                        (Outcome::Refused { retry_delay, .. }, OnRefusal::WaitAsAsked) => {
                            *retry_delay
                        }
                        _ => None,
                    };
                    outcomes.push((outcome, latency));
                    if let Some(wait) = wait {
                        // Never past the end of the run.
                        let until = (Instant::now() + wait).min(deadline);
                        tokio::time::sleep_until(until.into()).await;
                    }
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
                Outcome::Refused { reason, .. } => {
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
    /// The three loads, as the table prints them.
    fn loads(&self) -> [(&'static str, &Load); 3] {
        [
            ("unloaded (clients = limit)", &self.unloaded),
            ("overloaded, clients wait as asked", &self.overloaded),
            ("overloaded, clients call again at once", &self.flooded),
        ]
    }

    /// Prints the loads and the targets, as markdown.
    pub fn print(&self) {
        println!("\nOverload: partnership read at {OVERLOAD_FACTOR}x the concurrency limit\n");
        println!(
            "A system of its own with `TWOTIER_CONCURRENCY_LIMIT={LIMIT}` and \
             `TWOTIER_TENANT_CONCURRENCY_LIMIT={LIMIT}` (so the one tenant calling, the \
             provider, may use the whole limit); each client has its own connection and calls \
             again as soon as it is answered, with a {}-second deadline per call. A refused \
             client either waits as long as the refusal's `RetryInfo` asks (as a client \
             decoding it, or a gRPC retry policy reading the same wait from the \
             `grpc-retry-pushback-ms` trailer, does) or calls again at once (one that ignores \
             both); both loads have {} clients. The tenant's share is checked first, so that tenant's \
             refusals carry the reason TENANT_CONCURRENCY_LIMIT; SERVER_OVERLOADED appears \
             when other callers (the services' own event-log calls) hold part of the limit.\n",
            CALL_DEADLINE.as_secs(),
            LIMIT * OVERLOAD_FACTOR
        );
        println!(
            "| load | clients | admitted calls/s | admitted p50 | admitted p99 | refused | refused p50 | refused p99 | failed |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (label, load) in self.loads() {
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
        for (label, load) in self.loads() {
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
        let before = &self.unloaded.admitted;
        for (label, load) in [
            ("clients wait as asked", &self.overloaded),
            ("clients call again at once", &self.flooded),
        ] {
            let growth = load.admitted.p99.as_secs_f64() / before.p99.as_secs_f64().max(1e-9);
            println!(
                "- admitted p99, overloaded vs unloaded, {label}: {growth:.2}x{}",
                target(growth <= 3.0, "target <= 3x")
            );
            let refused = &load.refused;
            if refused.calls == 0 {
                println!("- refusal p99, {label}: no call was refused");
            } else {
                println!(
                    "- refusal p99, {label}: {}{}",
                    ms(refused.p99),
                    target(refused.p99 < Duration::from_millis(5), "target < 5 ms")
                );
            }
        }
        let failures: usize = self.loads().iter().map(|(_, load)| load.failures()).sum();
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
