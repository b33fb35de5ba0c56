//! Cold start and binary size: the `twotier` binary built beside this one,
//! its size, and how long each service takes from spawning `twotier run
//! --only <service>` on a fresh SQLite data directory until its health
//! check answers SERVING.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use twotier_testkit::free_port;

use crate::Error;
use crate::process::{SERVICES, service_command, twotier_binary};

/// Starts per service; the median is reported.
const STARTS: usize = 3;
/// A service not SERVING by then does not start at all.
const GIVE_UP_AFTER: Duration = Duration::from_secs(60);
/// How often readiness is polled: the resolution of the measurement.
const POLL_EVERY: Duration = Duration::from_millis(2);

/// What was measured.
pub struct Startup {
    pub binary: PathBuf,
    pub binary_bytes: u64,
    /// Median time to SERVING of each service, with every start's time.
    pub cold_starts: Vec<(&'static str, Duration, Vec<Duration>)>,
}

/// Measures the binary's size and each service's cold start.
pub async fn measure() -> Result<Startup, Error> {
    let binary = twotier_binary()?;
    let binary_bytes = std::fs::metadata(&binary)?.len();
    let mut cold_starts = Vec::new();
    for service in SERVICES {
        eprintln!("measuring cold start of {service}...");
        let mut times = Vec::with_capacity(STARTS);
        for _ in 0..STARTS {
            times.push(cold_start(&binary, service).await?);
        }
        let mut sorted = times.clone();
        sorted.sort();
        cold_starts.push((service, sorted[sorted.len() / 2], times));
    }
    Ok(Startup {
        binary,
        binary_bytes,
        cold_starts,
    })
}

/// Time from spawning `service` alone on a fresh data directory until it
/// reports SERVING.
async fn cold_start(binary: &Path, service: &str) -> Result<Duration, Error> {
    let dir = tempfile::tempdir()?;
    let port = free_port();
    // Nothing listens at the upstreams: the service must start without
    // them, as a pod does when it comes up first.
    let mut command = service_command(binary, service, dir.path(), port, |_| {
        "http://127.0.0.1:9".to_owned()
    });
    let started = Instant::now();
    let mut child = command.spawn()?;
    let address = format!("http://127.0.0.1:{port}");
    let mut health = None;
    let outcome = loop {
        if started.elapsed() > GIVE_UP_AFTER {
            break Err(format!("{service} not SERVING after {GIVE_UP_AFTER:?}").into());
        }
        if let Some(status) = child.try_wait()? {
            break Err(format!("{service} exited during start-up ({status})").into());
        }
        if health.is_none() {
            // Refused until the process has bound its port.
            health = tonic::transport::Endpoint::from_shared(address.clone())?
                .connect_timeout(Duration::from_secs(1))
                .connect()
                .await
                .ok()
                .map(HealthClient::new);
        }
        if let Some(client) = health.as_mut() {
            let answer = tokio::time::timeout(
                Duration::from_secs(1),
                client.check(HealthCheckRequest {
                    service: String::new(),
                }),
            )
            .await;
            // Before the schema is migrated the overall status is unknown
            // (NOT_FOUND) or NOT_SERVING.
            if let Ok(Ok(response)) = answer
                && response.into_inner().status == ServingStatus::Serving as i32
            {
                break Ok(started.elapsed());
            }
        }
        tokio::time::sleep(POLL_EVERY).await;
    };
    child.start_kill()?;
    child.wait().await?;
    outcome
}

impl Startup {
    /// Prints the size and the cold starts, as markdown.
    pub fn print(&self) {
        println!("\n## Cold start and binary size\n");
        println!(
            "- `{}`: {:.1} MiB",
            self.binary.display(),
            self.binary_bytes as f64 / (1024.0 * 1024.0)
        );
        println!(
            "\nFrom spawning `twotier run --only <service>` on a fresh SQLite data directory \
             until the health check (service \"\") answers SERVING, median of {STARTS} starts:\n"
        );
        println!("| service | median | starts |");
        println!("|---|---:|---|");
        for (service, median, times) in &self.cold_starts {
            println!(
                "| {service} | {} | {} |",
                crate::ms(*median),
                times
                    .iter()
                    .map(|t| crate::ms(*t))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
}
