//! Starting a service: alone (its own binary, as on Kubernetes) or beside
//! the others in the all-in-one binary. Both go through [`ServiceDefinition`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::{KeyMaterial, TokenMinter, TokenVerifier, load_key_material};
use crate::config::{ConfigError, EnvMap, Settings};
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
    /// Key files cannot be read.
    #[error("keys: {0}")]
    Keys(#[from] std::io::Error),
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

/// How a process checks tokens and, when it holds a private key, mints its
/// own service tokens.
#[derive(Clone)]
pub struct Identity {
    /// Checks bearer tokens.
    pub verifier: Arc<TokenVerifier>,
    /// Mints tokens (service identity, dev tokens); `None` when only a public
    /// key is configured.
    pub minter: Option<TokenMinter>,
}

impl Identity {
    /// The identity the settings configure (see [`load_key_material`]).
    pub fn from_settings(settings: &Settings) -> Result<Self, StartError> {
        let keys = load_key_material(
            settings.jwt_hs256_secret.as_deref(),
            settings.jwt_rs256_public_key_file.as_deref(),
            settings.jwt_rs256_private_key_file.as_deref(),
            &settings.data_dir,
        )?;
        Self::from_keys(&keys, settings)
    }

    /// The identity of explicit key material.
    pub fn from_keys(keys: &KeyMaterial, settings: &Settings) -> Result<Self, StartError> {
        Ok(Self {
            verifier: Arc::new(TokenVerifier::new(
                keys,
                &settings.jwt_issuer,
                &settings.jwt_audience,
            )?),
            minter: TokenMinter::new(keys, &settings.jwt_issuer, &settings.jwt_audience)?,
        })
    }

    /// The minter, required by services that subscribe to other logs.
    pub fn require_minter(&self) -> Result<TokenMinter, StartError> {
        self.minter.clone().ok_or_else(|| {
            StartError::Other(
                "this service subscribes to other services' logs and needs a signing key: set TWOTIER_JWT_HS256_SECRET or TWOTIER_JWT_RS256_PRIVATE_KEY_FILE".into(),
            )
        })
    }
}

/// What a service gets to build itself.
#[derive(Clone)]
pub struct ServiceContext {
    /// The environment, for service-specific settings.
    pub env: EnvMap,
    /// Shared settings, with this service's overrides applied.
    pub settings: Settings,
    /// Token checking and minting.
    pub identity: Identity,
    /// Cancelled when the process shuts down; background tasks stop with it.
    pub shutdown: CancellationToken,
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
            identity,
            shutdown,
        })
    }

    /// A gRPC server with this context's limits and verifier.
    pub fn grpc_server(&self) -> GrpcServer {
        GrpcServer::new(
            ServerLimits::from(&self.settings),
            self.identity.verifier.clone(),
        )
    }
}

/// A twotier service, as the binaries start it.
pub trait ServiceDefinition {
    /// Short name: configuration prefix, database file name, log field.
    const NAME: &'static str;
    /// Standard port.
    const PORT: u16;

    /// Connects to the database and applies migrations, then returns.
    fn migrate(ctx: &ServiceContext) -> impl Future<Output = Result<(), StartError>> + Send;

    /// Connects, migrates, starts background tasks (tied to
    /// `ctx.shutdown`) and returns the server, ready to serve.
    fn build(ctx: &ServiceContext) -> impl Future<Output = Result<GrpcServer, StartError>> + Send;
}

/// Builds service `S` and serves it on its configured address until
/// `ctx.shutdown` is cancelled.
pub async fn serve<S: ServiceDefinition>(ctx: ServiceContext) -> Result<(), StartError> {
    let addr = ctx.settings.listen_addr_or(S::PORT);
    let server = S::build(&ctx).await?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    tracing::info!(service = S::NAME, addr = %local, "serving");
    server.serve(listener, ctx.shutdown.clone()).await?;
    tracing::info!(service = S::NAME, "stopped");
    Ok(())
}

/// Cancels `shutdown` on SIGTERM or Ctrl-C.
pub fn cancel_on_termination(shutdown: CancellationToken) {
    tokio::spawn(async move {
        crate::server::termination_signal().await;
        tracing::info!("termination requested; draining");
        shutdown.cancel();
    });
}

/// Connects to the database of service `name` and applies its migrations.
pub async fn open_database<M: sea_orm_migration::MigratorTrait>(
    ctx: &ServiceContext,
    name: &str,
) -> Result<sea_orm::DatabaseConnection, StartError> {
    let url = ctx.settings.database_url_for(name);
    let db = crate::db::connect(&url, ctx.settings.database_max_connections).await?;
    crate::db::migrate::<M>(&db, name).await?;
    Ok(db)
}

/// What a service binary can be asked to do.
#[derive(Debug, Clone, Copy, Default, clap::Subcommand)]
pub enum ServiceCommand {
    /// Apply migrations, then serve until SIGTERM (the default).
    #[default]
    Serve,
    /// Apply migrations and exit (for a Kubernetes migration Job).
    Migrate,
}

#[derive(Debug, clap::Parser)]
#[command(about = "A twotier service. Configuration comes from TWOTIER_* environment variables.")]
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

async fn run_alone<S: ServiceDefinition>(command: ServiceCommand) -> Result<(), StartError> {
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
    let outcome = match command {
        ServiceCommand::Migrate => S::migrate(&ctx).await,
        ServiceCommand::Serve => {
            cancel_on_termination(shutdown.clone());
            serve::<S>(ctx).await
        }
    };
    shutdown.cancel();
    tokio::time::sleep(BACKGROUND_GRACE).await;
    telemetry.shutdown();
    outcome
}

/// How long a process waits for its background tasks after the servers
/// stopped.
pub const BACKGROUND_GRACE: Duration = Duration::from_millis(200);
