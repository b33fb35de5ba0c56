//! Email throughput: a mixed workload (customers created for a reseller,
//! invitations accepted, carts checked out) at a steady rate, and how long
//! each email takes from its event's commit to the mail system: handed to
//! an SMTP server (a sink in the bench) or written to the spool folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use twotier_proto::customer as cpb;
use twotier_proto::partnership as ppb;

use super::*;
use crate::cpu::{CpuSample, CpuUse};
use crate::driver::{Measurement, at_rate};
use crate::smtp_sink::SmtpSink;
use crate::system::{Backend, System};

/// Where the emails go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handover {
    /// An SMTP server (the bench's sink).
    Smtp,
    /// `.eml` files in the mail folder (no SMTP server configured).
    Spool,
}

impl Handover {
    pub fn label(self) -> &'static str {
        match self {
            Handover::Smtp => "SMTP",
            Handover::Spool => "the mail folder",
        }
    }

    pub fn destination(self) -> &'static str {
        match self {
            Handover::Smtp => "accepted by the SMTP server",
            Handover::Spool => "spool file written",
        }
    }
}

/// One rate of the workload.
#[derive(Debug, Clone)]
pub struct EmailStep {
    /// Commands started per second.
    pub rate: f64,
    /// Commands acknowledged per second.
    pub acknowledged: f64,
    /// Commands that failed or were not started (too many outstanding).
    pub failed: usize,
    /// Emails caused by the commands of the step, delivered per second of
    /// the step.
    pub emails_per_second: f64,
    /// Event committed -> handed over, over the step's emails.
    pub latency: Measurement,
    /// How long after the step's last command was answered the last of its
    /// emails went out: a backlog that grew during the step shows here.
    pub drain: Duration,
    /// Emails recorded for the step that never went out within the wait.
    pub missing: usize,
    /// Emails the SMTP server received more than once, so far.
    pub duplicates: usize,
    /// CPU time per acknowledged command, from the step's start until its
    /// emails were out; `None` where the machine's times cannot be read.
    pub cpu_per_command: Option<CpuUse>,
}

impl EmailStep {
    /// Kept pace: every command taken and every email out within a second
    /// of the last command's answer.
    pub fn sustained(&self) -> bool {
        self.failed == 0 && self.missing == 0 && self.drain < Duration::from_secs(1)
    }
}

/// Runs the mixed workload at each of `rates` (commands per second) for
/// `duration` on a fresh system whose emails go to `handover`.
pub async fn email_throughput(
    backend: &Backend,
    run: &str,
    handover: Handover,
    rates: &[f64],
    workers: usize,
    duration: Duration,
) -> Result<Vec<EmailStep>, Error> {
    eprintln!("running email throughput ({})...", handover.label());
    let sink = SmtpSink::start().await?;
    let spool = tempfile::tempdir()?;
    let sink_port = sink.port.to_string();
    let spool_dir = spool.path().display().to_string();
    let mut env = vec![
        ("TWOTIER_MAIL_DIR", spool_dir.as_str()),
        ("TWOTIER_MAIL_POLL_INTERVAL", "50ms"),
    ];
    if handover == Handover::Smtp {
        env.extend([
            ("TWOTIER_SMTP_HOST", "127.0.0.1"),
            ("TWOTIER_SMTP_PORT", sink_port.as_str()),
            ("TWOTIER_SMTP_TLS", "none"),
        ]);
    }
    let system = System::start_with(backend, run, &env)
        .await
        .map_err(|e| e.to_string())?;
    let clients = Clients::new(&system);
    let notifications = twotier_platform::db::connect(&system.database_urls[3], 2).await?;
    let upstreams = [
        twotier_platform::db::connect(&system.database_urls[0], 2).await?,
        twotier_platform::db::connect(&system.database_urls[1], 2).await?,
        twotier_platform::db::connect(&system.database_urls[2], 2).await?,
    ];

    let (tenant, token) = invitation_for(&clients, 0, "mail-reseller").await?;
    let reseller = clients
        .reseller(&tenant)
        .accept_invitation(ppb::AcceptInvitationRequest { token })
        .await?
        .into_inner()
        .partner_id;
    let commands: f64 = rates.iter().map(|r| r * duration.as_secs_f64()).sum();
    let each = (commands / MIX as f64).ceil() as usize + rates.len();
    let carts = Arc::new(prepare_carts(&clients, workers, each, "mailcustomer").await?);
    let invitations = Arc::new(prepare_invitations(&clients, workers, each, "mail-accept").await);
    drained(&notifications).await?;

    let next_cart = Arc::new(AtomicUsize::new(0));
    let next_invitation = Arc::new(AtomicUsize::new(0));
    let series = Arc::new(AtomicUsize::new(0));
    let mut steps = Vec::new();
    for &rate in rates {
        let started = SystemTime::now();
        let cpu_before = CpuSample::now();
        let step_started = Instant::now();
        let (ok, failed, skipped) = at_rate(rate, duration, 512, |_| {
            let n = series.fetch_add(1, Ordering::Relaxed);
            let clients = clients.clone();
            let (carts, invitations) = (carts.clone(), invitations.clone());
            let (next_cart, next_invitation) = (next_cart.clone(), next_invitation.clone());
            let reseller = reseller.clone();
            async move {
                match n % MIX {
                    // One command in ten of each other kind.
                    0 => {
                        let i = next_invitation.fetch_add(1, Ordering::Relaxed);
                        let (tenant, token) =
                            invitations.get(i).cloned().ok_or("no invitation left")?;
                        clients
                            .reseller(&tenant)
                            .accept_invitation(ppb::AcceptInvitationRequest { token })
                            .await
                            .map(|_| ())
                            .map_err(status)
                    }
                    5 => {
                        let i = next_cart.fetch_add(1, Ordering::Relaxed);
                        let cart = carts.get(i).cloned().ok_or("no cart left")?;
                        let mut subscriptions = clients.subscriptions.clone();
                        subscriptions
                            .checkout_cart(checkout_request(cart, 1_000_000 + i))
                            .await
                            .map(|_| ())
                            .map_err(status)
                    }
                    _ => {
                        let mut customers = clients.customers.clone();
                        customers
                            .create_customer(cpb::CreateCustomerRequest {
                                parent: format!("providers/{PROVIDER}"),
                                customer: Some(customer(&format!("mail{n}"), &reseller)),
                                validate_only: false,
                                request_id: String::new(),
                            })
                            .await
                            .map(|_| ())
                            .map_err(status)
                    }
                }
            }
        })
        .await;
        let stopped = SystemTime::now();
        let seconds = step_started.elapsed().as_secs_f64();
        drained(&notifications).await?;
        let cpu_per_command = cpu_before
            .zip(CpuSample::now())
            .map(|(before, after)| after.since(&before).per(ok));
        let caused = caused_between(&notifications, &upstreams, started, stopped).await?;
        let arrivals = match handover {
            Handover::Smtp => sink.arrivals(),
            Handover::Spool => spooled(spool.path(), caused.keys()),
        };
        let mut latencies = Vec::with_capacity(caused.len());
        let mut last = stopped;
        let mut missing = 0;
        for (id, committed) in &caused {
            match arrivals.get(id) {
                Some(at) => {
                    latencies.push(at.duration_since(*committed).unwrap_or_default());
                    last = last.max(*at);
                }
                None => missing += 1,
            }
        }
        steps.push(EmailStep {
            rate,
            acknowledged: ok as f64 / seconds,
            failed: failed + skipped,
            emails_per_second: latencies.len() as f64 / seconds,
            latency: Measurement::from_samples(
                &format!("email at {rate:.0} commands/s"),
                latencies,
                missing,
                seconds,
            ),
            drain: last.duration_since(stopped).unwrap_or_default(),
            missing,
            duplicates: sink.duplicates(),
            cpu_per_command,
        });
    }
    Ok(steps)
}

/// Commands per round of the mix: one accept, one checkout, the rest
/// customers created for the reseller.
const MIX: usize = 10;

/// Waits (at most a minute) until no email is waiting to go out.
async fn drained(notifications: &DatabaseConnection) -> Result<(), Error> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut empty_in_a_row = 0;
    // Twice empty 200 ms apart: the last events' emails may still be
    // on their way into the table.
    while empty_in_a_row < 2 && Instant::now() < deadline {
        let queue = twotier_notification::store::notification::queue(notifications).await?;
        empty_in_a_row = if queue.depth == 0 {
            empty_in_a_row + 1
        } else {
            0
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// The notifications caused by events committed between `from` and `to`:
/// notification id -> when its event committed.
async fn caused_between(
    notifications: &DatabaseConnection,
    upstreams: &[DatabaseConnection],
    from: SystemTime,
    to: SystemTime,
) -> Result<HashMap<String, SystemTime>, Error> {
    use twotier_notification::store::entities::notification;
    use twotier_outbox::entity::outbox_event;
    let (from, to) = (
        chrono::DateTime::<chrono::Utc>::from(from),
        chrono::DateTime::<chrono::Utc>::from(to),
    );
    let mut committed = HashMap::new();
    for upstream in upstreams {
        for event in outbox_event::Entity::find()
            .filter(outbox_event::Column::OccurredAt.gte(from))
            .filter(outbox_event::Column::OccurredAt.lt(to))
            .all(upstream)
            .await?
        {
            committed.insert(event.event_id, SystemTime::from(event.occurred_at));
        }
    }
    Ok(notification::Entity::find()
        .all(notifications)
        .await?
        .into_iter()
        .filter_map(|n| committed.get(&n.source_event_id).map(|at| (n.id, *at)))
        .collect())
}

/// When each of `ids` was written to the spool folder `dir`.
fn spooled<'a>(dir: &Path, ids: impl Iterator<Item = &'a String>) -> HashMap<String, SystemTime> {
    ids.filter_map(|id| {
        let path: PathBuf = dir.join(format!("{id}.eml"));
        let written = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
        Some((id.clone(), written))
    })
    .collect()
}
