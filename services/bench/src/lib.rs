//! `twotier-bench`: drives a complete system over gRPC with N concurrent
//! clients and measures it against baselines taken in the same run on the
//! same machine (a bare tonic unary service; raw single-row insert
//! transactions on the same database). See `docs/benchmarks.md`.

mod baselines;
mod cpu;
mod driver;
mod memory;
mod process;
mod scenarios;
mod smtp_sink;
mod startup;
mod system;

use std::time::Duration;

use driver::Measurement;
use system::{Backend, System};

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Concurrent clients per scenario.
    pub clients: usize,
    /// How long each scenario runs.
    pub duration: Duration,
    /// PostgreSQL admin URL; SQLite always runs.
    pub postgres: Option<String>,
    /// Partnerships of the big list (the small one has 1,000).
    pub big_list: usize,
    /// Event latency samples.
    pub latency_samples: usize,
    /// Sections to run (`commands`, `email`, `overload`, `processes`);
    /// empty runs all.
    pub only: Vec<String>,
    /// Commands per second the email workload is run at, one step each.
    pub email_rates: Vec<f64>,
}

impl BenchOptions {
    fn wants(&self, section: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == section)
    }
}

/// The sections `--only` may name.
pub const SECTIONS: [&str; 4] = ["commands", "email", "overload", "processes"];

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Runs every scenario on SQLite and, if configured, PostgreSQL, and prints
/// the results with their ratios to the baselines.
pub async fn run(options: BenchOptions) -> Result<(), Error> {
    println!("# twotier benchmark\n");
    println!(
        "clients: {}, duration per scenario: {:?}, machine: {} cores\n",
        options.clients,
        options.duration,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    let mut backends = vec![Backend::Sqlite];
    if let Some(url) = &options.postgres {
        backends.push(Backend::Postgres(url.clone()));
    }
    for backend in backends {
        run_backend(&backend, &options).await?;
    }
    if !options.wants("processes") {
        return Ok(());
    }
    println!("\n## Idle memory per service process\n");
    for (service, kib) in memory::idle_rss().await? {
        println!(
            "- {service}: {:.1} MiB resident{}",
            kib as f64 / 1024.0,
            target(kib < 40 * 1024, "target < 40 MiB")
        );
    }
    startup::measure().await?.print();
    Ok(())
}

fn target(met: bool, what: &str) -> String {
    format!(" ({what}: {})", if met { "met" } else { "MISSED" })
}

async fn run_backend(backend: &Backend, options: &BenchOptions) -> Result<(), Error> {
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    println!("\n## {}\n", backend.label());
    let (c, d) = (options.clients, options.duration);
    if options.wants("commands") {
        commands(backend, options, &run).await?;
    }
    if options.wants("email") {
        for (handover, suffix) in [
            (scenarios::Handover::Smtp, "m"),
            (scenarios::Handover::Spool, "f"),
        ] {
            let steps = scenarios::email_throughput(
                backend,
                &format!("{run}{suffix}"),
                handover,
                &options.email_rates,
                c,
                d,
            )
            .await?;
            print_email_steps(backend, handover, &steps);
        }
    }
    if options.wants("overload") {
        // Last, on a system of its own: its refusals must not disturb the
        // scenarios above.
        scenarios::overload(backend, &format!("{run}o"), d)
            .await?
            .print();
    }
    system::drop_databases(backend, &run)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Reads, commands and event latency, against the bare tonic call and the
/// raw insert transaction.
async fn commands(backend: &Backend, options: &BenchOptions, run: &str) -> Result<(), Error> {
    let (c, d) = (options.clients, options.duration);
    let echo = baselines::echo(c, d).await?;
    let raw = baselines::raw_inserts(backend, run, c, d)
        .await
        .map_err(|e| e.to_string())?;
    let system = System::start(backend, run)
        .await
        .map_err(|e| e.to_string())?;
    let clients = scenarios::Clients::new(&system);
    let partnership_db = twotier_platform::db::connect(&system.database_urls[0], 2).await?;
    eprintln!("seeding 1,000 and {} partnerships...", options.big_list);
    scenarios::seed_partnerships(&partnership_db, 1_000).await?;
    scenarios::seed_partnerships(&partnership_db, options.big_list).await?;

    let read = scenarios::partnership_read(&clients, c, d).await?;
    let mut lists = Vec::new();
    for rows in [1_000, options.big_list] {
        for deep in [false, true] {
            lists.push(scenarios::list(&system, &clients, rows, deep, c, d).await?);
        }
    }
    let create = scenarios::create_customer(&clients, c, d, &format!("c{run}")).await;
    let checkout = scenarios::checkout(&clients, c, d, 3_000).await?;
    let accept = scenarios::accept(&clients, c, d, 1_500).await;

    // Event latency at half of the maximum write (create customer) rate.
    let half_rate = (create.throughput() / 2.0).max(1.0);
    let load = tokio::spawn(background_load(
        clients.clone(),
        half_rate,
        format!("l{run}"),
    ));
    let latency = scenarios::event_latency(&system, &clients, options.latency_samples).await;
    load.abort();
    let (to_projection, to_notification) = latency?;

    println!("| scenario | calls/s | p50 | p90 | p99 | errors | ratio to baseline |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    row(&echo, None);
    row(&raw, None);
    row(&read, Some(("echo", &echo)));
    for list in &lists {
        row(list, Some(("echo", &echo)));
    }
    row(&create, Some(("raw insert", &raw)));
    row(&checkout, Some(("raw insert", &raw)));
    row(&accept, Some(("raw insert", &raw)));
    println!(
        "\nEvent latency under a background write load of {half_rate:.0} customers/s (half the measured maximum):\n"
    );
    println!("| path | samples | p50 | p90 | p99 |");
    println!("|---|---:|---:|---:|---:|");
    for m in [&to_projection, &to_notification] {
        println!(
            "| {} | {} | {} | {} | {} |",
            m.name,
            m.calls,
            ms(m.p50),
            ms(m.p90),
            ms(m.p99)
        );
    }

    println!("\nTargets:\n");
    let read_ratio = read.throughput() / echo.throughput();
    println!(
        "- read RPC vs echo: {read_ratio:.2}x{}",
        target(read_ratio >= 0.5, "target >= 0.5x")
    );
    let list_ratio = lists[0].throughput() / echo.throughput();
    println!(
        "- list page of 50 vs echo: {list_ratio:.2}x{}",
        target(list_ratio >= 0.2, "target >= 0.2x")
    );
    let create_ratio = create.throughput() / raw.throughput();
    let postgres = matches!(backend, Backend::Postgres(_));
    let create_note = if postgres {
        "target >= 0.5x on PostgreSQL"
    } else {
        "target applies to PostgreSQL"
    };
    println!(
        "- create customer vs raw insert: {create_ratio:.2}x{}",
        target(create_ratio >= 0.5 || !postgres, create_note)
    );
    for command in [&checkout, &accept] {
        let ratio = command.throughput() / raw.throughput();
        println!(
            "- {} vs raw insert: {ratio:.2}x{}",
            command.name,
            target(ratio >= 0.3, "target >= 0.3x")
        );
    }
    let p99 = to_projection.p99.max(to_notification.p99);
    println!(
        "- event latency p99 at half load: {}{}",
        ms(p99),
        target(p99 < Duration::from_millis(20), "target < 20 ms")
    );
    for deep in [false, true] {
        let small = &lists[usize::from(deep)];
        let big = &lists[2 + usize::from(deep)];
        let growth = big.p50.as_secs_f64() / small.p50.as_secs_f64().max(1e-9);
        println!(
            "- list {} page p50, {} vs 1,000 partnerships: {growth:.2}x{}",
            if deep { "deep" } else { "first" },
            options.big_list,
            target(growth <= 1.5, "target <= 1.5x")
        );
    }
    Ok(())
}

/// Commands per second the email workload is run at by default, one step
/// each.
pub const EMAIL_RATES: [f64; 6] = [125.0, 250.0, 500.0, 600.0, 750.0, 1000.0];

fn print_email_steps(
    backend: &Backend,
    handover: scenarios::Handover,
    steps: &[scenarios::EmailStep],
) {
    println!(
        "\nEmail throughput, handed over by {}: event committed -> {}:\n",
        handover.label(),
        handover.destination()
    );
    println!(
        "| commands/s started | acknowledged/s | failed or not started | emails/s | p50 | p90 | p99 | last email after the last answer | never sent | sent twice | kept pace | machine CPU per command | of which PostgreSQL |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|");
    for step in steps {
        let (machine, postgres) = match (step.cpu_per_command, backend) {
            (None, _) => ("-".to_owned(), "-".to_owned()),
            (Some(cpu), Backend::Sqlite) => (ms(cpu.machine), "-".to_owned()),
            (Some(cpu), Backend::Postgres(_)) => (ms(cpu.machine), ms(cpu.postgres)),
        };
        println!(
            "| {:.0} | {:.0} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {machine} | {postgres} |",
            step.rate,
            step.acknowledged,
            step.failed,
            step.emails_per_second,
            ms(step.latency.p50),
            ms(step.latency.p90),
            ms(step.latency.p99),
            ms(step.drain),
            step.missing,
            step.duplicates,
            if step.sustained() { "yes" } else { "no" }
        );
    }
    let best = steps
        .iter()
        .filter(|s| s.sustained())
        .map(|s| s.emails_per_second)
        .fold(0.0, f64::max);
    let verdict = if matches!(backend, Backend::Postgres(_)) {
        target(best >= 500.0, "target >= 500 emails/s")
    } else {
        " (the target applies to PostgreSQL)".to_owned()
    };
    println!("\nHighest sustained rate: {best:.0} emails/s{verdict}");
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn row(m: &Measurement, baseline: Option<(&str, &Measurement)>) {
    let ratio = baseline
        .map(|(name, b)| format!("{:.2}x {name}", m.throughput() / b.throughput().max(1e-9)))
        .unwrap_or_else(|| "baseline".into());
    println!(
        "| {} | {:.0} | {} | {} | {} | {} | {} |",
        m.name,
        m.throughput(),
        ms(m.p50),
        ms(m.p90),
        ms(m.p99),
        m.errors,
        ratio
    );
}

/// Creates customers at `rate` per second until aborted.
async fn background_load(clients: scenarios::Clients, rate: f64, series: String) {
    driver::at_rate(rate, Duration::from_secs(24 * 3600), 64, |n| {
        let mut client = clients.customers.clone();
        let request = twotier_proto::customer::CreateCustomerRequest {
            parent: format!("providers/{}", scenarios::PROVIDER),
            customer: Some(scenarios::customer(&format!("{series}{n}"), "")),
            validate_only: false,
            request_id: String::new(),
        };
        async move {
            client
                .create_customer(request)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    })
    .await;
}
