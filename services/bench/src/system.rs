//! The system under measurement: all four services in this process on
//! ephemeral ports, each on a fresh database.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use twotier_customer::CustomerService;
use twotier_notification::NotificationService;
use twotier_partnership::PartnershipService;
use twotier_platform::channel::{ChannelOptions, ClientChannels};
use twotier_platform::config::EnvMap;
use twotier_platform::startup::{Identity, ServiceContext, ServiceDefinition, StartError};
use twotier_subscription::SubscriptionService;

/// Which database every service of the run uses.
#[derive(Debug, Clone)]
pub enum Backend {
    /// SQLite files in a temporary directory (the embedded default).
    Sqlite,
    /// Fresh databases on this PostgreSQL server (admin URL).
    Postgres(String),
}

impl Backend {
    pub fn label(&self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }
}

/// A running system.
pub struct System {
    pub partnership: SocketAddr,
    pub customer: SocketAddr,
    pub subscription: SocketAddr,
    pub database_urls: [String; 4],
    pub identity: Identity,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

impl System {
    /// Starts the four services on `backend`.
    pub async fn start(backend: &Backend, run: &str) -> Result<Self, StartError> {
        Self::start_with(backend, run, &[]).await
    }

    /// Starts the four services on `backend`, with `extra` variables that
    /// win over the bench's own (e.g. a concurrency limit, an SMTP server).
    pub async fn start_with(
        backend: &Backend,
        run: &str,
        extra: &[(&str, &str)],
    ) -> Result<Self, StartError> {
        let dir = tempfile::tempdir()?;
        let mut database_urls = Vec::new();
        for service in ["partnership", "customer", "subscription", "notification"] {
            database_urls
                .push(database_url(backend, &dir, &format!("bench_{run}_{service}")).await?);
        }
        let listeners = [
            TcpListener::bind("127.0.0.1:0").await?,
            TcpListener::bind("127.0.0.1:0").await?,
            TcpListener::bind("127.0.0.1:0").await?,
            TcpListener::bind("127.0.0.1:0").await?,
        ];
        let addrs: Vec<SocketAddr> = listeners
            .iter()
            .map(|l| l.local_addr())
            .collect::<Result<_, _>>()?;
        let mut env = EnvMap::from([
            (
                "TWOTIER_DATA_DIR".to_owned(),
                dir.path().display().to_string(),
            ),
            (
                "TWOTIER_JWT_HS256_SECRET".to_owned(),
                "benchmark-identity-provider-secret-0123456789".to_owned(),
            ),
            (
                "TWOTIER_MAIL_DIR".to_owned(),
                dir.path().join("mail").display().to_string(),
            ),
            ("TWOTIER_CONCURRENCY_LIMIT".to_owned(), "4096".to_owned()),
        ]);
        for (i, service) in ["PARTNERSHIP", "CUSTOMER", "SUBSCRIPTION", "NOTIFICATION"]
            .iter()
            .enumerate()
        {
            env.insert(
                format!("TWOTIER_{service}_DATABASE_URL"),
                database_urls[i].clone(),
            );
            env.insert(
                format!("TWOTIER_{service}_ENDPOINT"),
                format!("http://{}", addrs[i]),
            );
        }
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let settings = twotier_platform::config::Settings::load(&env, "twotier")?;
        let identity = Identity::from_settings(&settings)?;
        let shutdown = CancellationToken::new();
        let [p, c, s, n] = listeners;
        start::<PartnershipService>(&env, &identity, &shutdown, p).await?;
        start::<CustomerService>(&env, &identity, &shutdown, c).await?;
        start::<SubscriptionService>(&env, &identity, &shutdown, s).await?;
        start::<NotificationService>(&env, &identity, &shutdown, n).await?;
        let urls: [String; 4] = database_urls
            .try_into()
            .map_err(|_| StartError::Other("four databases".into()))?;
        Ok(Self {
            partnership: addrs[0],
            customer: addrs[1],
            subscription: addrs[2],
            database_urls: urls,
            identity,
            shutdown,
            _dir: dir,
        })
    }

    pub fn channel(addr: SocketAddr) -> Channel {
        // Part of the bench's start-up; a socket address always makes a
        // valid http:// endpoint.
        ClientChannels::plaintext()
            .connect_lazy(&format!("http://{addr}"), ChannelOptions::default())
            .expect("an http endpoint from a socket address")
    }

    /// A bearer token for `tenant` with `roles`.
    pub fn token(
        &self,
        subject: &str,
        tenant: &str,
        roles: &[twotier_platform::auth::Role],
    ) -> String {
        self.identity
            .dev_minter
            .as_ref()
            .and_then(|minter| {
                minter
                    .mint(
                        subject,
                        tenant,
                        roles,
                        Some(&format!("{subject}@{tenant}.example")),
                        std::time::Duration::from_secs(3600),
                    )
                    .ok()
            })
            .unwrap_or_default()
    }
}

impl Drop for System {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn start<S: ServiceDefinition>(
    env: &EnvMap,
    identity: &Identity,
    shutdown: &CancellationToken,
    listener: TcpListener,
) -> Result<(), StartError> {
    let ctx = ServiceContext::new(env.clone(), S::NAME, identity.clone(), shutdown.clone())?;
    let server = S::build(&ctx).await?;
    let stop = shutdown.clone();
    tokio::spawn(async move {
        if let Err(error) = server.serve(listener, stop).await {
            eprintln!("{}: {error}", S::NAME);
        }
    });
    Ok(())
}

/// Drops the databases the run `run` created on `backend` (PostgreSQL),
/// once its systems have stopped: a server that keeps every run's
/// databases has autovacuum visit them all, load the next run measures.
pub async fn drop_databases(backend: &Backend, run: &str) -> Result<(), StartError> {
    use sea_orm::{ConnectionTrait, Statement};
    let Backend::Postgres(admin) = backend else {
        return Ok(());
    };
    let db = twotier_platform::db::connect(admin, 2).await?;
    let names = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE $1",
            [format!("bench\\_{run}%").into()],
        ))
        .await?;
    for row in names {
        drop_database(&db, &row.try_get_by_index::<String>(0)?).await?;
    }
    Ok(())
}

/// Drops the database `name`, if there is one, ending its connections.
async fn drop_database(db: &sea_orm::DatabaseConnection, name: &str) -> Result<(), StartError> {
    use sea_orm::ConnectionTrait;
    db.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await?;
    Ok(())
}

/// A fresh database named `name` on `backend`.
pub async fn database_url(
    backend: &Backend,
    dir: &tempfile::TempDir,
    name: &str,
) -> Result<String, StartError> {
    match backend {
        Backend::Sqlite => Ok(format!(
            "sqlite://{}?mode=rwc",
            dir.path().join(format!("{name}.db")).display()
        )),
        Backend::Postgres(admin) => {
            use sea_orm::ConnectionTrait;
            let db = twotier_platform::db::connect(admin, 2).await?;
            drop_database(&db, name).await?;
            db.execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            let (base, _) = admin
                .rsplit_once('/')
                .ok_or_else(|| StartError::Other("postgres url needs a database".into()))?;
            Ok(format!("{base}/{name}"))
        }
    }
}
