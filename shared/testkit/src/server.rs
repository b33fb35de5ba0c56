//! Services on ephemeral loopback ports, in this process, over a test
//! database, configured like production but with test keys.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use twotier_platform::channel::{ChannelOptions, ClientChannels};
use twotier_platform::config::{EnvMap, Settings};
use twotier_platform::server::GrpcServer;
use twotier_platform::startup::{Identity, ServiceContext, ServiceDefinition};

use crate::{SECRET, SERVICE_SECRET, TestDatabase};

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
