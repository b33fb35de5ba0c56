//! Starting a service: alone (its own binary, as on Kubernetes) or beside
//! the others in the all-in-one binary. Both go through [`ServiceDefinition`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::{
    Jwks, JwksSettings, Secret, SecretError, SecretSource, ServiceTokens, TokenMinter, TokenRules,
    TokenVerifier, UserKeys,
};
use crate::capability::{CAPABILITY_KEY_PURPOSE, CapabilityTokens};
use crate::config::{ConfigError, EnvMap, Sensitive, Settings};
use crate::metrics::MetricsEndpoint;
use crate::readiness::Schema;
use crate::server::{GrpcServer, ServerLimits};

/// Why a service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A setting does not parse.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database cannot be reached or migrated.
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// A file or socket operation failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A secret or key file cannot be used.
    #[error("keys: {0}")]
    Keys(#[from] SecretError),
    /// Keys do not parse.
    #[error("jwt keys: {0}")]
    Jwt(#[from] jsonwebtoken::errors::Error),
    /// The listen address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server failed.
    #[error("server: {0}")]
    Serve(#[from] crate::server::ServeError),
    /// TLS files are missing or unusable.
    #[error("tls: {0}")]
    Tls(#[from] crate::tls::TlsError),
    /// A client channel to another service cannot be built.
    #[error("client channel: {0}")]
    Channel(#[from] crate::channel::ChannelError),
    /// Anything else a service needs at start-up.
    #[error("{0}")]
    Other(String),
}

/// How a process checks tokens and signs its own calls.
#[derive(Clone)]
pub struct Identity {
    /// Checks bearer tokens, user and service.
    pub verifier: Arc<TokenVerifier>,
    /// Mints development user tokens; only when the identity provider is
    /// stood in for by a shared HS256 secret.
    pub dev_minter: Option<TokenMinter>,
    service_secret: Secret,
}

/// The generated development secret of user tokens, under the data directory.
pub const DEV_USER_SECRET_FILE: &str = "dev-jwt-secret";
/// The generated development service secret, under the data directory.
pub const DEV_SERVICE_SECRET_FILE: &str = "dev-service-secret";

impl Identity {
    /// The identity the settings configure: user tokens checked with the
    /// identity provider's JWKS URL, its RS256 public key, or (development)
    /// a shared HS256 secret; service tokens with the service secret.
    pub fn from_settings(settings: &Settings) -> Result<Self, StartError> {
        if settings.jwt_rs256_private_key_file.is_some() {
            return Err(StartError::Other(
                "TWOTIER_JWT_RS256_PRIVATE_KEY_FILE is no longer accepted: the identity provider's private key stays with the identity provider; services sign their own calls with TWOTIER_SERVICE_TOKEN_SECRET_FILE".into(),
            ));
        }
        let shared = SecretSource {
            name: "TWOTIER_JWT_HS256_SECRET",
            value: settings.jwt_hs256_secret.as_ref().map(Sensitive::expose),
            file: settings.jwt_hs256_secret_file.as_deref(),
        };
        let providers = [
            settings.jwt_jwks_url.is_some(),
            settings.jwt_rs256_public_key_file.is_some(),
            shared.is_configured(),
        ];
        if providers.iter().filter(|set| **set).count() > 1 {
            return Err(StartError::Other(
                "configure one way to check user tokens: TWOTIER_JWT_JWKS_URL, TWOTIER_JWT_RS256_PUBLIC_KEY_FILE or TWOTIER_JWT_HS256_SECRET(_FILE)".into(),
            ));
        }
        let users = if let Some(url) = &settings.jwt_jwks_url {
            UserKeys::Jwks(Arc::new(
                Jwks::new(JwksSettings {
                    url: url.clone(),
                    refresh_interval: settings.jwt_jwks_refresh_interval,
                    min_refetch_interval: settings.jwt_jwks_min_refetch_interval,
                    timeout: JWKS_FETCH_TIMEOUT,
                })
                .map_err(|e| StartError::Other(format!("jwks client: {e}")))?,
            ))
        } else if let Some(file) = &settings.jwt_rs256_public_key_file {
            let pem = std::fs::read(file).map_err(|source| SecretError::Io {
                path: file.clone(),
                source,
            })?;
            UserKeys::PublicKey(jsonwebtoken::DecodingKey::from_rsa_pem(&pem)?)
        } else {
            UserKeys::SharedSecret(shared.load(&settings.data_dir.join(DEV_USER_SECRET_FILE))?)
        };
        let service = SecretSource {
            name: "TWOTIER_SERVICE_TOKEN_SECRET",
            value: settings
                .service_token_secret
                .as_ref()
                .map(Sensitive::expose),
            file: settings.service_token_secret_file.as_deref(),
        };
        if !matches!(users, UserKeys::SharedSecret(_)) && !service.is_configured() {
            // With a real identity provider this is a real deployment: a
            // secret generated per replica would make services refuse each
            // other's calls.
            return Err(StartError::Other(
                "TWOTIER_SERVICE_TOKEN_SECRET_FILE (or TWOTIER_SERVICE_TOKEN_SECRET) must be set when user tokens come from an identity provider".into(),
            ));
        }
        let service_secret = service.load(&settings.data_dir.join(DEV_SERVICE_SECRET_FILE))?;
        Ok(Self::new(users, service_secret, TokenRules::from(settings)))
    }

    /// The identity of explicit keys.
    pub fn new(users: UserKeys, service_secret: Secret, rules: TokenRules) -> Self {
        let dev_minter = match &users {
            UserKeys::SharedSecret(secret) => {
                Some(TokenMinter::new(secret, &rules.issuer, &rules.audience))
            }
            _ => None,
        };
        Self {
            verifier: Arc::new(TokenVerifier::new(users, &service_secret, rules)),
            dev_minter,
            service_secret,
        }
    }

    /// The tokens service `name` signs its own calls with.
    pub fn service_tokens(&self, name: &str) -> Arc<ServiceTokens> {
        Arc::new(ServiceTokens::new(&self.service_secret, name))
    }

    /// A key for one `purpose` (page tokens, invitation links), the same in
    /// every replica of every service that shares the service secret.
    pub fn derive_key(&self, purpose: &str) -> [u8; 32] {
        self.service_secret.derive(purpose)
    }
}

/// Longest a JWKS fetch may take.
const JWKS_FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl From<&Settings> for TokenRules {
    fn from(settings: &Settings) -> Self {
        Self {
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
            platform_tenant: settings.platform_tenant.clone(),
            leeway: settings.jwt_leeway,
            max_lifetime: settings.jwt_max_lifetime,
        }
    }
}

/// What a service gets to build itself.
#[derive(Clone)]
pub struct ServiceContext {
    /// The environment, for service-specific settings.
    pub env: EnvMap,
    /// Shared settings, with this service's overrides applied.
    pub settings: Settings,
    /// Token checking.
    pub identity: Identity,
    /// The tokens this service signs its own calls and subscriptions with.
    pub service_tokens: Arc<ServiceTokens>,
    /// The tokens of personal links (invitations, consent requests).
    pub capabilities: CapabilityTokens,
    /// Cancelled when the process shuts down; background tasks stop with it.
    pub shutdown: CancellationToken,
    /// The service's background tasks (sequencer, consumers, dispatcher),
    /// waited for when the process stops.
    pub tasks: TaskTracker,
    /// Whether the service's schema is migrated (it serves only then).
    pub schema: Schema,
}

impl ServiceContext {
    /// The context of service `name` in this process.
    pub fn new(
        env: EnvMap,
        name: &str,
        identity: Identity,
        shutdown: CancellationToken,
    ) -> Result<Self, StartError> {
        let settings = Settings::load(&env, name)?;
        Ok(Self {
            env,
            settings,
            service_tokens: identity.service_tokens(name),
            capabilities: CapabilityTokens::new(identity.derive_key(CAPABILITY_KEY_PURPOSE)),
            identity,
            shutdown,
            tasks: TaskTracker::new(),
            schema: Schema::pending(),
        })
    }

    /// Runs `task` in the background until it ends; it is expected to end
    /// once [`Self::shutdown`] is cancelled, and the process waits for it.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(task);
    }

    /// A gRPC server with this context's limits and verifier.
    pub fn grpc_server(&self) -> GrpcServer {
        let mut server = GrpcServer::new(
            ServerLimits::from(&self.settings),
            self.identity.verifier.clone(),
        );
        server.require_schema(self.schema.clone());
        server
    }
}

/// A twotier service, as the binaries start it.
pub trait ServiceDefinition {
    /// Short name: configuration prefix, database file name, log field.
    const NAME: &'static str;
    /// Standard port.
    const PORT: u16;
    /// Standard port of the Prometheus endpoint when the service runs alone.
    const METRICS_PORT: u16;

    /// Connects to the database and applies migrations, then returns.
    fn migrate(ctx: &ServiceContext) -> impl Future<Output = Result<(), StartError>> + Send;

    /// Connects, migrates, starts background tasks (tied to
    /// `ctx.shutdown`) and returns the server, ready to serve.
    fn build(ctx: &ServiceContext) -> impl Future<Output = Result<GrpcServer, StartError>> + Send;
}

/// A built service bound to its listener, about to serve.
pub struct Prepared {
    name: &'static str,
    server: GrpcServer,
    listener: TcpListener,
    shutdown: CancellationToken,
    /// The address it listens on (the real port when 0 was configured).
    pub addr: SocketAddr,
}

/// Builds service `S` and binds its configured address.
pub async fn prepare<S: ServiceDefinition>(ctx: &ServiceContext) -> Result<Prepared, StartError> {
    let addr = ctx.settings.listen_addr_or(S::PORT);
    let server = S::build(ctx).await?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    Ok(Prepared {
        name: S::NAME,
        server,
        listener,
        shutdown: ctx.shutdown.clone(),
        addr,
    })
}

impl Prepared {
    /// The service's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Serves until the context's shutdown is cancelled.
    pub async fn serve(self) -> Result<(), StartError> {
        tracing::info!(service = self.name, addr = %self.addr, "serving");
        self.server.serve(self.listener, self.shutdown).await?;
        tracing::info!(service = self.name, "stopped");
        Ok(())
    }
}

/// Builds service `S` and serves it on its configured address until
/// `ctx.shutdown` is cancelled.
pub async fn serve<S: ServiceDefinition>(ctx: ServiceContext) -> Result<(), StartError> {
    let prepared = prepare::<S>(&ctx).await?;
    crate::config::report_unknown_variables(&ctx.env);
    prepared.serve().await
}

/// Serves the process's Prometheus endpoint as `settings` say (on
/// `default_port` unless configured) until `shutdown`; the bound address,
/// or `None` when it is off.
pub async fn serve_metrics(
    settings: &Settings,
    default_port: u16,
    telemetry: &crate::telemetry::Telemetry,
    shutdown: CancellationToken,
) -> Result<Option<SocketAddr>, StartError> {
    let MetricsEndpoint::On(addr) = settings.metrics_endpoint_or(default_port)? else {
        return Ok(None);
    };
    let bound = crate::metrics::serve_prometheus(addr, telemetry.prometheus_registry(), shutdown)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    Ok(Some(bound))
}

/// Cancels `shutdown` on SIGTERM or Ctrl-C.
pub fn cancel_on_termination(shutdown: CancellationToken) {
    tokio::spawn(async move {
        crate::server::termination_signal().await;
        tracing::info!("termination requested; draining");
        shutdown.cancel();
    });
}

/// Connects to the database of service `name` and applies its migrations,
/// then marks `ctx.schema` ready. A database that cannot be reached yet
/// does not stop the service: it keeps trying in the background (answering
/// `UNAVAILABLE` meanwhile, alive but not ready), so a pod that starts
/// during a database outage waits instead of crash-looping.
pub async fn open_database<M: sea_orm_migration::MigratorTrait + 'static>(
    ctx: &ServiceContext,
    name: &str,
) -> Result<sea_orm::DatabaseConnection, StartError> {
    let url = ctx.settings.database_url_for(name);
    let db = crate::db::connect(&url, pooled(ctx.settings.database_max_connections)).await?;
    match crate::db::migrate::<M>(&db, name).await {
        Ok(()) => ctx.schema.mark_ready(),
        Err(error) if crate::db::is_retryable(&error) => {
            tracing::warn!(%error, service = name, "database unreachable at start; retrying in the background");
            ctx.spawn(migrate_when_reachable::<M>(
                db.clone(),
                name.to_owned(),
                ctx.schema.clone(),
                ctx.shutdown.clone(),
            ));
        }
        Err(error) => return Err(error.into()),
    }
    Ok(db)
}

/// Connections for the reads of service `name` beside `writer`, the
/// database [`open_database`] opened (see [`crate::db::connect_readers`],
/// [`crate::inline_reads`] and [`crate::held_reads`]).
pub async fn open_readers(
    ctx: &ServiceContext,
    name: &str,
    writer: &sea_orm::DatabaseConnection,
) -> Result<crate::inline_reads::Reads, StartError> {
    let url = ctx.settings.database_url_for(name);
    let pool = crate::db::connect_readers(&url, writer, SQLITE_READERS).await?;
    let inline = crate::inline_reads::InlineReads::for_url(&url)?;
    let budget = ctx.settings.database_max_connections;
    let held = crate::held_reads::HeldReads::for_url(&url, held_for_reads(budget) as usize)?;
    Ok(crate::inline_reads::Reads::new(pool, inline, held))
}

/// Of the `budget` of connections a service may open to PostgreSQL
/// (`TWOTIER_DATABASE_MAX_CONNECTIONS`), those held for reads by position
/// ([`crate::held_reads`]); the pool opens the rest. A budget under 4
/// holds none. On SQLite the budget does not apply.
fn held_for_reads(budget: u32) -> u32 {
    budget / 4
}

/// Of the `budget`, the connections the pool may open.
fn pooled(budget: u32) -> u32 {
    budget - held_for_reads(budget)
}

/// Read connections of a SQLite database: reads mostly wait on the thread
/// hop to their connection, not on the CPU, so a few more than the cores.
const SQLITE_READERS: u32 = 4;

async fn migrate_when_reachable<M: sea_orm_migration::MigratorTrait + 'static>(
    db: sea_orm::DatabaseConnection,
    name: String,
    schema: Schema,
    shutdown: CancellationToken,
) {
    use backon::BackoffBuilder;
    let mut delays = backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(500))
        .with_max_delay(Duration::from_secs(10))
        .without_max_times()
        .build();
    loop {
        let delay = delays.next().unwrap_or(Duration::from_secs(10));
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(delay) => {},
        }
        match crate::db::migrate::<M>(&db, &name).await {
            Ok(()) => {
                tracing::info!(service = %name, "database reachable; schema migrated");
                schema.mark_ready();
                return;
            }
            Err(error) if crate::db::is_retryable(&error) => {
                tracing::warn!(%error, service = %name, "database still unreachable");
            }
            Err(error) => {
                tracing::error!(%error, service = %name, "migration failed; the service stays unavailable");
                return;
            }
        }
    }
}

/// Connects to the database of service `name` and applies its migrations,
/// failing at once when it cannot (the `migrate` command).
pub async fn migrate_database<M: sea_orm_migration::MigratorTrait>(
    ctx: &ServiceContext,
    name: &str,
) -> Result<(), StartError> {
    let url = ctx.settings.database_url_for(name);
    let db = crate::db::connect(&url, pooled(ctx.settings.database_max_connections)).await?;
    crate::db::migrate::<M>(&db, name).await?;
    Ok(())
}

/// What a service binary can be asked to do.
#[derive(Debug, Clone, Copy, Default, clap::Subcommand)]
pub enum ServiceCommand {
    /// Apply migrations, then serve until SIGTERM (the default).
    #[default]
    Serve,
    /// Apply migrations and exit (serving migrates too; this is for doing
    /// it ahead of a release).
    Migrate,
}

#[derive(Debug, clap::Parser)]
#[command(
    version,
    about = "A twotier service. Configuration comes from TWOTIER_* environment variables."
)]
struct ServiceCli {
    #[command(subcommand)]
    command: Option<ServiceCommand>,
}

/// The `main` of a service binary: parses the command line, sets up
/// telemetry and runs `S` alone.
pub fn run_binary<S: ServiceDefinition>() -> std::process::ExitCode {
    use clap::Parser;
    let cli = ServiceCli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run_alone::<S>(cli.command.unwrap_or_default())) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, service = S::NAME, "service failed");
            eprintln!("{}: {error}", S::NAME);
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs `S` alone as its own binary would: its settings, telemetry named
/// `twotier-<service>`, its metrics port; for `twotier serve <service>`,
/// so one image binary can run any service.
pub async fn run_alone<S: ServiceDefinition>(command: ServiceCommand) -> Result<(), StartError> {
    let env = crate::config::process_env();
    let settings = Settings::load(&env, S::NAME)?;
    let telemetry_settings = crate::config::TelemetrySettings::from_env(
        &env,
        &format!("twotier-{}", S::NAME),
        settings.log_format,
    );
    let telemetry = crate::telemetry::init(&telemetry_settings)
        .map_err(|e| StartError::Other(format!("telemetry: {e}")))?;
    let shutdown = CancellationToken::new();
    let identity = Identity::from_settings(&settings)?;
    let ctx = ServiceContext::new(env, S::NAME, identity, shutdown.clone())?;
    if matches!(command, ServiceCommand::Serve)
        && let Some(addr) =
            serve_metrics(&settings, S::METRICS_PORT, &telemetry, shutdown.clone()).await?
    {
        tracing::info!(service = S::NAME, %addr, "metrics at http://{addr}/metrics");
    }
    let tasks = ctx.tasks.clone();
    let grace = ctx.settings.shutdown_grace;
    let outcome = match command {
        ServiceCommand::Migrate => S::migrate(&ctx).await,
        ServiceCommand::Serve => {
            cancel_on_termination(shutdown.clone());
            serve::<S>(ctx).await
        }
    };
    shutdown.cancel();
    join_background(&[tasks], grace).await;
    telemetry.shutdown();
    outcome
}

/// Waits, after the servers stopped and `shutdown` was cancelled, for the
/// background tasks of `trackers` to finish what they were doing (a
/// consumer's batch, an email being handed over), at most `grace`.
pub async fn join_background(trackers: &[TaskTracker], grace: Duration) {
    let all = futures::future::join_all(trackers.iter().map(|tasks| {
        tasks.close();
        tasks.wait()
    }));
    if tokio::time::timeout(grace, all).await.is_err() {
        tracing::warn!(
            ?grace,
            "background tasks still running after the grace period"
        );
    }
}
