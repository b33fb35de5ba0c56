//! `twotier-bench`: measures the system against baselines taken in the same
//! run (see docs/benchmarks.md). Build with --release for meaningful
//! numbers; the `twotier` binary must be built beside it (idle memory runs
//! each service as its own process).

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "twotier-bench",
    version,
    about = "Measures twotier against baselines taken in the same run."
)]
struct Cli {
    /// Concurrent clients per scenario.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// How long each scenario runs.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// PostgreSQL admin URL (e.g. postgres://postgres@127.0.0.1:5432/postgres); SQLite always runs.
    #[arg(long)]
    postgres: Option<String>,
    /// Partnerships in the big list (the small one has 1,000).
    #[arg(long, default_value_t = 1_000_000)]
    big_list: usize,
    /// Event latency samples.
    #[arg(long, default_value_t = 200)]
    latency_samples: usize,
    /// Run only these sections (comma-separated); all when absent.
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(twotier_bench::SECTIONS))]
    only: Vec<String>,
    /// Commands per second of the email workload's steps (comma-separated;
    /// 125,250,500,600,750,1000 when absent).
    #[arg(long, value_delimiter = ',', value_parser = positive_rate)]
    email_rates: Vec<f64>,
}

fn positive_rate(rate: &str) -> Result<f64, String> {
    match rate.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!(
            "{rate:?} is not a positive number of commands per second"
        )),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let options = twotier_bench::BenchOptions {
        clients: cli.clients,
        duration: cli.duration,
        postgres: cli.postgres,
        big_list: cli.big_list,
        latency_samples: cli.latency_samples,
        only: cli.only,
        email_rates: if cli.email_rates.is_empty() {
            twotier_bench::EMAIL_RATES.to_vec()
        } else {
            cli.email_rates
        },
    };
    match runtime.block_on(twotier_bench::run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("twotier-bench: {error}");
            ExitCode::FAILURE
        }
    }
}
