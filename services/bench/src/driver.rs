//! Drives one operation from N concurrent clients for a fixed time and
//! reports throughput and latency percentiles.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What one scenario measured.
#[derive(Debug, Clone, Default)]
pub struct Measurement {
    pub name: String,
    pub calls: usize,
    pub errors: usize,
    pub seconds: f64,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
}

impl Measurement {
    pub fn throughput(&self) -> f64 {
        if self.seconds == 0.0 {
            0.0
        } else {
            self.calls as f64 / self.seconds
        }
    }

    /// Percentiles of `samples`.
    pub fn from_samples(
        name: &str,
        mut samples: Vec<Duration>,
        errors: usize,
        seconds: f64,
    ) -> Self {
        samples.sort();
        let at = |q: f64| {
            if samples.is_empty() {
                return Duration::ZERO;
            }
            let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
            samples[index.min(samples.len() - 1)]
        };
        Self {
            name: name.to_owned(),
            calls: samples.len(),
            errors,
            seconds,
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
        }
    }
}

/// Runs `op(client, sequence number)` from `clients` tasks for `duration`
/// (or until `limit` calls were made); only successful calls count.
pub async fn drive<F, Fut>(
    name: &str,
    clients: usize,
    duration: Duration,
    limit: Option<usize>,
    op: F,
) -> Measurement
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    eprintln!("running {name}...");
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let op = op.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let mut samples = Vec::new();
                let mut errors = 0;
                let mut first_error = None;
                while Instant::now() < deadline {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if limit.is_some_and(|limit| n >= limit) {
                        break;
                    }
                    let call_started = Instant::now();
                    match op(client, n).await {
                        Ok(()) => samples.push(call_started.elapsed()),
                        Err(error) => {
                            errors += 1;
                            first_error.get_or_insert(error);
                        }
                    }
                }
                (samples, errors, first_error)
            })
        })
        .collect();
    let mut samples = Vec::new();
    let mut errors = 0;
    for task in tasks {
        if let Ok((mut s, e, first)) = task.await {
            samples.append(&mut s);
            errors += e;
            if let Some(error) = first {
                eprintln!("  {name}: first error: {error}");
            }
        }
    }
    Measurement::from_samples(name, samples, errors, started.elapsed().as_secs_f64())
}

/// Starts `op(n)` `rate` times per second for `duration`, whether or not
/// earlier calls have answered (an open loop: the load a steady stream of
/// users makes), with at most `max_in_flight` outstanding; returns
/// (answered OK, failed, skipped because too many were outstanding).
pub async fn at_rate<F, Fut>(
    rate: f64,
    duration: Duration,
    max_in_flight: usize,
    op: F,
) -> (usize, usize, usize)
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.001)));
    let in_flight = Arc::new(tokio::sync::Semaphore::new(max_in_flight));
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let mut skipped = 0;
    let deadline = Instant::now() + duration;
    let mut n = 0;
    while Instant::now() < deadline {
        tick.tick().await;
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            skipped += 1;
            continue;
        };
        let call = op(n);
        n += 1;
        let (ok, failed) = (ok.clone(), failed.clone());
        tokio::spawn(async move {
            let counter = if call.await.is_ok() { ok } else { failed };
            counter.fetch_add(1, Ordering::Relaxed);
            drop(permit);
        });
    }
    // Every started call is answered before the counts are read.
    let _ = in_flight
        .acquire_many(u32::try_from(max_in_flight).unwrap_or(u32::MAX))
        .await;
    (
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        skipped,
    )
}
