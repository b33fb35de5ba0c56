//! `twotier`: runs every service in one process (the embedded default:
//! SQLite files under the data directory), applies migrations, and mints
//! development tokens.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use futures::FutureExt;
use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;
use twotier_customer::CustomerService;
use twotier_notification::NotificationService;
use twotier_partnership::PartnershipService;
use twotier_platform::auth::Role;
use twotier_platform::channel::{ChannelOptions, ClientChannels};
use twotier_platform::config::{EnvMap, Settings, TelemetrySettings, process_env};
use twotier_platform::startup::{self, Identity, ServiceContext, ServiceDefinition, StartError};
use twotier_subscription::SubscriptionService;

#[derive(Debug, Parser)]
#[command(
    name = "twotier",
    version,
    about = "Two-tier cloud distribution: every twotier service in one process."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs every service (partnership :50051, customer :50052, subscription
    /// :50053, notification :50054), migrations first.
    Run {
        /// Run only these services (repeat for several); default: all.
        #[arg(long = "only", value_parser = ["partnership", "customer", "subscription", "notification"])]
        only: Vec<String>,
    },
    /// Serves one service alone, exactly as its own binary
    /// (`twotier-<service> serve`) would: listening on `TWOTIER_LISTEN_ADDR`,
    /// migrations first. What each Kubernetes Deployment runs.
    Serve {
        /// The service to serve.
        #[arg(value_parser = ["partnership", "customer", "subscription", "notification"])]
        service: String,
    },
    /// Applies every service's migrations and exits.
    Migrate,
    /// Exits 0 when every given server reports SERVING (a container health
    /// check). Default: `TWOTIER_LISTEN_ADDR`, else all four standard ports.
    /// Bare addresses use https when `TWOTIER_TLS_CERT_FILE` is set (the
    /// server speaks TLS), verified with `TWOTIER_TLS_CA_FILE`.
    Health {
        /// Address to check, e.g. `127.0.0.1:50051` or
        /// `https://partnership:50051`; repeat for several.
        #[arg(long = "addr")]
        addrs: Vec<String>,
    },
    /// Prints a development user token for a tenant and roles, signed with
    /// the development identity-provider secret (by default the one under
    /// the data directory), or with --service a service token.
    Token {
        /// Tenant id (`tid`): the provider, reseller, customer or platform tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// Role to grant; repeat for several (GlobalAdmin, SalesAgent,
        /// BillingAdmin, HelpdeskAgent, ResellerAdmin, CustomerAdmin,
        /// Integration, PlatformOperator; PlatformOperator counts only in
        /// the platform tenant).
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Subject (`sub`); defaults to `dev@<tenant>`.
        #[arg(long)]
        subject: Option<String>,
        /// Email claim; defaults to the subject if it is an email address.
        #[arg(long)]
        email: Option<String>,
        /// Lifetime, e.g. `12h`.
        #[arg(long, default_value = "12h", value_parser = humantime::parse_duration)]
        ttl: Duration,
        /// Mint a service token of this twotier service instead (e.g.
        /// `notification`), signed with the service secret.
        #[arg(long, conflicts_with_all = ["tenant", "roles", "subject", "email"])]
        service: Option<String>,
    },
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
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Run { only } => run(&only).await,
            Command::Serve { service } => serve(&service).await,
            Command::Migrate => migrate().await,
            Command::Health { addrs } => health(addrs).await,
            Command::Token {
                tenant,
                roles,
                subject,
                email,
                ttl,
                service,
            } => token(tenant, &roles, subject, email, ttl, service),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("twotier: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The shared settings and identity of the process.
fn process_identity(env: &EnvMap) -> Result<(Settings, Identity), StartError> {
    let settings = Settings::load(env, "twotier")?;
    let identity = Identity::from_settings(&settings)?;
    Ok((settings, identity))
}

/// Serves `S`; when it stops (or fails to start) the other services of the
/// process are told to stop too.
async fn serve_until_any_stops(
    prepared: startup::Prepared,
    shutdown: CancellationToken,
) -> Result<(), StartError> {
    let outcome = prepared.serve().await;
    shutdown.cancel();
    outcome
}

async fn run(only: &[String]) -> Result<(), StartError> {
    let env = process_env();
    let settings = Settings::load(&env, "twotier")?;
    // A process serving one service names itself as that service's own
    // binary would, so traces and metrics of `--only` replicas tell apart.
    let service_name = match only {
        [one] => format!("twotier-{one}"),
        _ => "twotier".to_owned(),
    };
    let telemetry_settings = TelemetrySettings::from_env(&env, &service_name, settings.log_format);
    let telemetry = twotier_platform::telemetry::init(&telemetry_settings)
        .map_err(|e| StartError::Other(format!("telemetry: {e}")))?;
    let (settings, identity) = process_identity(&env)?;
    let shutdown = CancellationToken::new();
    startup::cancel_on_termination(shutdown.clone());

    let selected = |name: &str| only.is_empty() || only.iter().any(|wanted| wanted == name);
    // Alone, a service keeps its own binary's metrics port, so `--only`
    // processes side by side do not collide.
    let metrics_port = match only {
        [one] => metrics_port_of(one),
        _ => ALL_IN_ONE_METRICS_PORT,
    };
    let metrics =
        startup::serve_metrics(&settings, metrics_port, &telemetry, shutdown.clone()).await?;
    let mut banner = Vec::new();
    let mut services: Vec<BoxFuture<'static, Result<(), StartError>>> = Vec::new();
    let mut background = Vec::new();
    // Every service is built and bound before any serves, so the banner
    // shows the addresses really bound and every setting has been read.
    macro_rules! add {
        ($service:ty) => {
            if selected(<$service>::NAME) {
                let ctx = ServiceContext::new(
                    env.clone(),
                    <$service>::NAME,
                    identity.clone(),
                    shutdown.clone(),
                )?;
                let prepared = startup::prepare::<$service>(&ctx).await?;
                banner.push(Endpoint::of::<$service>(&ctx, prepared.addr));
                background.push(ctx.tasks.clone());
                services.push(serve_until_any_stops(prepared, shutdown.clone()).boxed());
            }
        };
    }
    add!(PartnershipService);
    add!(CustomerService);
    add!(SubscriptionService);
    add!(NotificationService);
    print_banner(&settings, &banner, metrics);
    twotier_platform::config::report_unknown_variables(&env);
    let outcome = futures::future::join_all(services)
        .await
        .into_iter()
        .collect::<Result<Vec<()>, StartError>>()
        .map(|_| ());
    startup::join_background(&background, settings.shutdown_grace).await;
    telemetry.shutdown();
    outcome
}

async fn serve(service: &str) -> Result<(), StartError> {
    let serve = startup::ServiceCommand::Serve;
    match service {
        PartnershipService::NAME => startup::run_alone::<PartnershipService>(serve).await,
        CustomerService::NAME => startup::run_alone::<CustomerService>(serve).await,
        SubscriptionService::NAME => startup::run_alone::<SubscriptionService>(serve).await,
        NotificationService::NAME => startup::run_alone::<NotificationService>(serve).await,
        other => Err(StartError::Other(format!("no service {other}"))),
    }
}

/// The Prometheus port of a process running every service.
const ALL_IN_ONE_METRICS_PORT: u16 = 9460;

fn metrics_port_of(service: &str) -> u16 {
    match service {
        PartnershipService::NAME => PartnershipService::METRICS_PORT,
        CustomerService::NAME => CustomerService::METRICS_PORT,
        SubscriptionService::NAME => SubscriptionService::METRICS_PORT,
        NotificationService::NAME => NotificationService::METRICS_PORT,
        _ => ALL_IN_ONE_METRICS_PORT,
    }
}

async fn migrate() -> Result<(), StartError> {
    let env = process_env();
    let (_, identity) = process_identity(&env)?;
    let shutdown = CancellationToken::new();
    let context =
        |name: &str| ServiceContext::new(env.clone(), name, identity.clone(), shutdown.clone());
    PartnershipService::migrate(&context(PartnershipService::NAME)?).await?;
    CustomerService::migrate(&context(CustomerService::NAME)?).await?;
    SubscriptionService::migrate(&context(SubscriptionService::NAME)?).await?;
    NotificationService::migrate(&context(NotificationService::NAME)?).await?;
    println!("migrations applied");
    Ok(())
}

async fn health(addrs: Vec<String>) -> Result<(), StartError> {
    use tonic_health::pb::health_check_response::ServingStatus;
    let addrs = if addrs.is_empty() {
        match std::env::var("TWOTIER_LISTEN_ADDR") {
            Ok(addr) if !addr.is_empty() => vec![addr.replace("0.0.0.0", "127.0.0.1")],
            _ => [50051, 50052, 50053, 50054]
                .iter()
                .map(|port| format!("127.0.0.1:{port}"))
                .collect(),
        }
    } else {
        addrs
    };
    let settings = Settings::load(&process_env(), "twotier")?;
    let channels = ClientChannels::from_settings(&settings)?;
    let scheme = if settings.tls_cert_file.is_some() {
        "https"
    } else {
        "http"
    };
    let options = ChannelOptions {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Some(Duration::from_secs(2)),
    };
    for addr in addrs {
        let endpoint = if addr.contains("://") {
            addr.clone()
        } else {
            format!("{scheme}://{addr}")
        };
        let channel = channels
            .connect(&endpoint, options)
            .await
            .map_err(|e| StartError::Other(format!("{addr}: {e}")))?;
        let status = tonic_health::pb::health_client::HealthClient::new(channel)
            .check(tonic_health::pb::HealthCheckRequest {
                service: String::new(),
            })
            .await
            .map_err(|e| StartError::Other(format!("{addr}: {}", e.message())))?
            .into_inner()
            .status;
        if status != ServingStatus::Serving as i32 {
            return Err(StartError::Other(format!("{addr}: not serving")));
        }
        println!("{addr}: serving");
    }
    Ok(())
}

fn token(
    tenant: Option<String>,
    roles: &[String],
    subject: Option<String>,
    email: Option<String>,
    ttl: Duration,
    service: Option<String>,
) -> Result<(), StartError> {
    let env = process_env();
    let (_, identity) = process_identity(&env)?;
    if let Some(service) = service {
        // A service token, e.g. to follow an event log with grpcurl.
        let token = identity.service_tokens(&service).token()?;
        println!("{token}");
        return Ok(());
    }
    let usage = || StartError::Other("give --tenant and at least one --role (or --service)".into());
    let tenant = tenant.ok_or_else(usage)?;
    if roles.is_empty() {
        return Err(usage());
    }
    let minter = identity.dev_minter.ok_or_else(|| {
        StartError::Other(
            "user tokens come from your identity provider: this process only holds its public keys"
                .into(),
        )
    })?;
    let roles = roles
        .iter()
        .map(|name| match Role::parse(name) {
            Some(Role::Service) => Err(StartError::Other(
                "Service is not a user role; mint a service token with --service <name>".into(),
            )),
            Some(role) => Ok(role),
            None => Err(StartError::Other(format!("unknown role {name}"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let subject = subject.unwrap_or_else(|| format!("dev@{tenant}"));
    let email = email.or_else(|| subject.contains('@').then(|| subject.clone()));
    let token = minter.mint(&subject, &tenant, &roles, email.as_deref(), ttl)?;
    println!("{token}");
    Ok(())
}

/// A service as the start-up banner shows it.
struct Endpoint {
    name: &'static str,
    addr: std::net::SocketAddr,
    database: String,
}

impl Endpoint {
    fn of<S: ServiceDefinition>(ctx: &ServiceContext, addr: std::net::SocketAddr) -> Self {
        Self {
            name: S::NAME,
            addr,
            database: twotier_platform::db::redact_url(&ctx.settings.database_url_for(S::NAME)),
        }
    }
}

fn print_banner(settings: &Settings, services: &[Endpoint], metrics: Option<std::net::SocketAddr>) {
    println!(
        "twotier is starting; data directory: {}",
        settings.data_dir.display()
    );
    let (scheme, grpcurl_tls) = match &settings.tls_cert_file {
        Some(_) => ("grpcs", "-cacert <ca.pem>".to_owned()),
        None => ("grpc", "-plaintext".to_owned()),
    };
    for service in services {
        println!(
            "  {:<13} {scheme}://{}  (database: {})",
            service.name, service.addr, service.database
        );
    }
    if let Some(addr) = metrics {
        println!("  {:<13} http://{addr}/metrics", "metrics");
    }
    println!(
        "get a token:  {} token --tenant contoso --role GlobalAdmin",
        this_command()
    );
    if let Some(first) = services.first() {
        let reachable = std::net::SocketAddr::new(
            if first.addr.ip().is_unspecified() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                first.addr.ip()
            },
            first.addr.port(),
        );
        println!("list APIs:    grpcurl {grpcurl_tls} {reachable} list");
    }
}

/// How the user ran this program: `cargo run -q -p twotier --` from a
/// checkout's target directory, else the binary's own name.
fn this_command() -> String {
    let program = std::env::args().next().unwrap_or_else(|| "twotier".into());
    if program.contains("/target/") {
        return "cargo run -q -p twotier --".into();
    }
    program
}
