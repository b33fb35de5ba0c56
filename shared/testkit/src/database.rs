//! Test databases: a SQLite file in a temporary directory, or, when
//! `TWOTIER_TEST_DATABASE_URL` names a PostgreSQL server, a fresh database
//! there; and what a test reads back from them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sea_orm::{ConnectionTrait, Statement};

/// Environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "TWOTIER_TEST_DATABASE_URL";

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

    /// PostgreSQL: the address of the server holding this database.
    pub fn server(&self) -> std::net::SocketAddr {
        self.host_port().parse().expect("host:port")
    }

    /// PostgreSQL: this database's URL, reaching its server at `proxy`
    /// instead (a [`crate::ChaosProxy`] in front of [`Self::server`]).
    pub fn url_via(&self, proxy: std::net::SocketAddr) -> String {
        self.url.replacen(self.host_port(), &proxy.to_string(), 1)
    }

    fn host_port(&self) -> &str {
        let (_, rest) = self.url.split_once('@').expect("postgres://user@host/name");
        rest.split_once('/').expect("host:port/name").0
    }
}

/// A PostgreSQL test database is dropped with its test, so that a run of the
/// suite does not leave hundreds behind (a server holding many databases
/// grows slower for every later run). `WITH (FORCE)` ends the connections
/// of servers the test has not shut down. The drop runs on a runtime of its
/// own on a thread of its own (the dropping thread may be a worker of the
/// test's runtime, where blocking on a future is not allowed) and waits for
/// it, at most as long as `DROP_DEADLINE`.
impl Drop for TestDatabase {
    fn drop(&mut self) {
        if !self.is_postgres() {
            return;
        }
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            return;
        };
        let Some((_, name)) = self.url.rsplit_once('/') else {
            return;
        };
        let name = name.to_owned();
        let dropped = std::thread::spawn(move || drop_postgres_database(&admin_url, &name)).join();
        if let Ok(Err(error)) = dropped {
            eprintln!("could not drop the test database: {error}");
        }
    }
}

/// How long dropping a test database may take before the test goes on
/// without it (CI drops what is left before each run).
const DROP_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

fn drop_postgres_database(admin_url: &str, name: &str) -> Result<(), String> {
    use sea_orm::sqlx::{Connection, PgConnection};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    runtime.block_on(async {
        let dropped = async {
            let mut admin = PgConnection::connect(admin_url)
                .await
                .map_err(|error| error.to_string())?;
            sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await
            .map_err(|error| error.to_string())?;
            Ok(())
        };
        tokio::time::timeout(DROP_DEADLINE, dropped)
            .await
            .map_err(|_| "timed out".to_owned())?
    })
}

/// Whether tests run against PostgreSQL.
pub fn postgres_configured() -> bool {
    std::env::var(POSTGRES_URL_VAR).is_ok_and(|url| !url.is_empty())
}

/// For a test that needs PostgreSQL: true, after saying why `what` is
/// skipped, when none is configured.
pub fn skip_without_postgres(what: &str) -> bool {
    if postgres_configured() {
        return false;
    }
    eprintln!("{what} runs on PostgreSQL: set {POSTGRES_URL_VAR}");
    true
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

/// Every row count of every table of the database at `url`.
pub async fn row_counts(url: &str) -> BTreeMap<String, i64> {
    let db = twotier_platform::db::connect(url, 2)
        .await
        .expect("connect");
    let backend = db.get_database_backend();
    let list = if url.starts_with("sqlite") {
        "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    } else {
        "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public'"
    };
    let mut counts = BTreeMap::new();
    for row in db
        .query_all_raw(Statement::from_string(backend, list))
        .await
        .expect("tables")
    {
        let table: String = row.try_get("", "t").expect("name");
        let n = db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM \"{table}\""),
            ))
            .await
            .expect("count")
            .expect("row")
            .try_get::<i64>("", "n")
            .expect("n");
        counts.insert(table, n);
    }
    counts
}
