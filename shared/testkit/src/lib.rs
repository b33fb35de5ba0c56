//! Test support shared by every service's integration tests.
//!
//! Tests run against SQLite always; when `TWOTIER_TEST_DATABASE_URL` names a
//! PostgreSQL server (e.g. `postgres://postgres@127.0.0.1:5432/postgres`),
//! every [`TestDatabase`] is a fresh PostgreSQL database there instead.

pub mod dynamic;
pub mod flows;
mod jwks;
pub mod pki;
mod proxy;
pub mod secrets;
mod smtp;

pub use jwks::JwksServer;
pub use proxy::ChaosProxy;
pub use smtp::SmtpSink;
pub use twotier_platform::auth::Bearer;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use twotier_platform::auth::{Role, Secret, TokenMinter, TokenRules, TokenVerifier, UserKeys};
use twotier_platform::channel::{ChannelOptions, ClientChannels};
use twotier_platform::config::{EnvMap, Settings};
use twotier_platform::server::GrpcServer;
use twotier_platform::startup::{Identity, ServiceContext, ServiceDefinition};

/// Environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "TWOTIER_TEST_DATABASE_URL";
/// Issuer and audience of test tokens.
pub const ISSUER: &str = "twotier";
/// Audience of test tokens.
pub const AUDIENCE: &str = "twotier";
/// Shared secret of test user tokens (the stand-in identity provider's).
pub const SECRET: &str = "twotier-test-identity-provider-secret";
/// The test services' own secret, for service tokens.
pub const SERVICE_SECRET: &str = "twotier-test-service-secret-not-for-users";
/// The platform tenant of tests.
pub const PLATFORM_TENANT: &str = "twotier";

/// A database for one test: a SQLite file in a temporary directory, or a
/// fresh PostgreSQL database.
pub struct TestDatabase {
    /// Connection URL.
    pub url: String,
    /// Directory for the test's files (SQLite, mail); removed on drop.
    pub dir: tempfile::TempDir,
}

impl TestDatabase {
    /// A new, empty database named after `label`.
    pub async fn new(label: &str) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = match std::env::var(POSTGRES_URL_VAR) {
            Ok(admin_url) if !admin_url.is_empty() => {
                create_postgres_database(&admin_url, label).await
            }
            _ => format!(
                "sqlite://{}?mode=rwc",
                dir.path().join(format!("{label}.db")).display()
            ),
        };
        Self { url, dir }
    }

    /// Whether this test runs on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }

    /// The data directory of the test.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

/// Whether tests run against PostgreSQL.
pub fn postgres_configured() -> bool {
    std::env::var(POSTGRES_URL_VAR).is_ok_and(|url| !url.is_empty())
}

async fn create_postgres_database(admin_url: &str, label: &str) -> String {
    use sea_orm::sqlx::{Connection, PgConnection};
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let name = format!(
        "tt_{}_{}",
        label.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        &suffix[..12]
    )
    .to_lowercase();
    let mut admin = PgConnection::connect(admin_url)
        .await
        .expect("connect to the test PostgreSQL server");
    sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {name}"
    )))
    .execute(&mut admin)
    .await
    .expect("create test database");
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("postgres url has a database path");
    format!("{base}/{name}")
}

/// The stand-in identity provider's secret.
pub fn user_secret() -> Secret {
    Secret::new("test", SECRET.as_bytes().to_vec()).expect("test secret is long enough")
}

/// The test services' secret.
pub fn service_secret() -> Secret {
    Secret::new("test", SERVICE_SECRET.as_bytes().to_vec()).expect("test secret is long enough")
}

/// The rules test tokens follow.
pub fn rules() -> TokenRules {
    TokenRules {
        issuer: ISSUER.to_owned(),
        audience: AUDIENCE.to_owned(),
        platform_tenant: PLATFORM_TENANT.to_owned(),
        leeway: Duration::from_secs(30),
        max_lifetime: Duration::from_secs(24 * 3600),
    }
}

/// The identity of test services.
pub fn identity() -> Identity {
    Identity::new(
        UserKeys::SharedSecret(user_secret()),
        service_secret(),
        rules(),
    )
}

/// The verifier of test tokens.
pub fn verifier() -> Arc<TokenVerifier> {
    identity().verifier
}

/// The minter of test user tokens.
pub fn minter() -> TokenMinter {
    TokenMinter::new(&user_secret(), ISSUER, AUDIENCE)
}

/// A service token of test service `name` (subject `service:<name>`).
pub fn service_token(name: &str) -> String {
    identity()
        .service_tokens(name)
        .token()
        .expect("mint service token")
}

/// A minter with the test key for another issuer or audience.
pub fn minter_for(issuer: &str, audience: &str) -> TokenMinter {
    TokenMinter::new(&user_secret(), issuer, audience)
}

/// A valid token for `subject` of `tenant` with `roles`.
pub fn token(subject: &str, tenant: &str, roles: &[Role]) -> String {
    minter()
        .mint(
            subject,
            tenant,
            roles,
            Some(&format!("{subject}@{tenant}.example")),
            Duration::from_secs(600),
        )
        .expect("mint test token")
}

/// The environment of a test service on `db`, with the test token secret,
/// plus `extra` variables.
pub fn env(db: &TestDatabase, extra: &[(&str, &str)]) -> EnvMap {
    let mut env = EnvMap::from([
        ("TWOTIER_DATABASE_URL".to_owned(), db.url.clone()),
        (
            "TWOTIER_DATA_DIR".to_owned(),
            db.data_dir().display().to_string(),
        ),
        ("TWOTIER_JWT_HS256_SECRET".to_owned(), SECRET.to_owned()),
        (
            "TWOTIER_SERVICE_TOKEN_SECRET".to_owned(),
            SERVICE_SECRET.to_owned(),
        ),
        (
            "TWOTIER_OUTBOX_POLL_INTERVAL".to_owned(),
            "200ms".to_owned(),
        ),
        ("TWOTIER_SHUTDOWN_GRACE".to_owned(), "2s".to_owned()),
        ("TWOTIER_CONSUMER_MAX_ATTEMPTS".to_owned(), "3".to_owned()),
    ]);
    for (key, value) in extra {
        env.insert((*key).to_owned(), (*value).to_owned());
    }
    env
}

/// Settings for a test service on `db`, with the test token secret.
pub fn settings(db: &TestDatabase) -> Settings {
    Settings::load(&env(db, &[]), "test").expect("test settings")
}

/// Builds service `S` on `db` (with `extra` variables) and serves it on an
/// ephemeral port.
pub async fn start_service<S: ServiceDefinition>(
    db: &TestDatabase,
    extra: &[(&str, &str)],
) -> RunningServer {
    start_service_with_env::<S>(env(db, extra)).await
}

/// Builds service `S` from exactly `env` and serves it on an ephemeral port.
pub async fn start_service_with_env<S: ServiceDefinition>(env: EnvMap) -> RunningServer {
    let shutdown = CancellationToken::new();
    let settings = Settings::load(&env, S::NAME).expect("test settings");
    let identity = Identity::from_settings(&settings).expect("test identity");
    let ctx =
        ServiceContext::new(env, S::NAME, identity, shutdown.clone()).expect("service context");
    let server = S::build(&ctx).await.expect("service builds");
    RunningServer::start(server, shutdown).await
}

/// A server running on an ephemeral loopback port until dropped.
pub struct RunningServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Cancel to shut it down gracefully.
    pub shutdown: CancellationToken,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl RunningServer {
    /// Serves `server` on `127.0.0.1:0`; `shutdown` also ends background
    /// tasks the caller tied to it.
    pub async fn start(server: GrpcServer, shutdown: CancellationToken) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind ephemeral port");
        let addr = listener.local_addr().expect("local address");
        let stop = shutdown.clone();
        let handle = tokio::spawn(async move {
            server.serve(listener, stop).await.expect("server runs");
        });
        Self {
            addr,
            shutdown,
            handle: Some(handle),
        }
    }

    /// Serves `server` on `addr` (e.g. to restart a server where its clients
    /// expect it).
    pub async fn start_at(
        server: GrpcServer,
        shutdown: CancellationToken,
        addr: SocketAddr,
    ) -> Self {
        let listener = bind_retrying(addr).await;
        let stop = shutdown.clone();
        let handle = tokio::spawn(async move {
            server.serve(listener, stop).await.expect("server runs");
        });
        Self {
            addr,
            shutdown,
            handle: Some(handle),
        }
    }

    /// `http://<addr>`, for clients and consumers.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A channel to the server.
    pub fn channel(&self) -> Channel {
        channel(&self.endpoint())
    }

    /// Shuts the server down and waits for it.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), handle).await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A lazily connected plaintext channel to `endpoint` (`http://…`), built
/// like every client channel of the services.
pub fn channel(endpoint: &str) -> Channel {
    ClientChannels::plaintext()
        .connect_lazy(
            endpoint,
            ChannelOptions {
                connect_timeout: Duration::from_secs(1),
                request_timeout: None,
            },
        )
        .expect("endpoint")
}

async fn bind_retrying(addr: SocketAddr) -> TcpListener {
    let started = tokio::time::Instant::now();
    loop {
        match TcpListener::bind(addr).await {
            Ok(listener) => return listener,
            Err(error) if started.elapsed() < Duration::from_secs(10) => {
                let _ = error;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("cannot bind {addr}: {error}"),
        }
    }
}

/// Waits until `condition` holds, checking every 20 ms, for at most
/// `deadline`; panics with `what` if it never does.
pub async fn wait_until<F, Fut>(what: &str, deadline: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = tokio::time::Instant::now();
    loop {
        if condition().await {
            return;
        }
        assert!(
            started.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asserts that `result` failed with `code` and `google.rpc.ErrorInfo.reason`
/// `reason`; returns the status for further checks.
#[track_caller]
pub fn assert_error<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    code: tonic::Code,
    reason: &str,
) -> tonic::Status {
    let status = result.expect_err("call should fail");
    assert_eq!(status.code(), code, "unexpected code: {status:?}");
    assert_eq!(
        twotier_platform::upstream::reason_of(&status).as_deref(),
        Some(reason),
        "unexpected reason: {status:?}"
    );
    status
}

/// The fields named by a status's `BadRequest` violations.
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}
