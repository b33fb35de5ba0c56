//! Connecting to the service's database: SQLite files for the embedded
//! default, PostgreSQL for real deployments, with the same code and
//! migrations for both.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sea_orm::sqlx::{self, postgres::PgPoolOptions, sqlite};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryTrait, RuntimeErr,
    Select, SqlxPostgresConnector, SqlxSqliteConnector, Statement,
};
use sea_orm_migration::MigratorTrait;

/// How long a call waits for a database connection before answering
/// UNAVAILABLE, so an outage fails fast instead of stalling callers.
pub(crate) const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// A PostgreSQL connection idle for longer than this is pinged before it is
/// handed out. One in steady use is not: sqlx already pings every
/// connection when it is returned (and closes it if that fails), so a ping
/// on acquire too would add a round trip to every read and command for a
/// connection known alive moments ago. A connection that broke since fails
/// its statement, which answers as transient, and is then closed.
pub(crate) const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// Rows a SQLite connection's worker thread may hand over before the
/// reader takes them. sqlx's 50 is one short of a default page (50 rows
/// and the probe row that tells whether another page follows), so the
/// worker stopped and waited to be woken once on every such page; pages
/// of more than 127 rows still wait.
const SQLITE_ROWS_IN_FLIGHT: usize = 128;

/// Opens a pool for `url` (`sqlite://path` or `postgres://...`).
///
/// SQLite runs in WAL mode with `synchronous=FULL`, so an acknowledged commit
/// survives a crash, and with a single connection: SQLite serialises writers
/// anyway, and one connection avoids `SQLITE_BUSY` when a read transaction
/// turns into a write.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    if url.starts_with("sqlite:") {
        return connect_sqlite(url).await;
    }
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .before_acquire(|connection, meta| {
                Box::pin(async move {
                    if meta.idle_for > PING_IF_IDLE_FOR {
                        sqlx::Connection::ping(connection).await?;
                    }
                    Ok(true)
                })
            })
            .connect_lazy(url)
            .map_err(sqlx_to_db_err)?;
        return Ok(SqlxPostgresConnector::from_sqlx_postgres_pool(pool));
    }
    Err(DbErr::Custom(format!(
        "unsupported database url {:?}: use sqlite://<file> or postgres://...",
        redact_url(url)
    )))
}

/// Connections for reads beside `writer`, the pool [`connect`] opened for
/// `url`. On SQLite, whose one writing connection serialises every
/// statement, a read-only pool of `readers` connections reads in parallel:
/// in WAL mode a reader sees every transaction committed before its read
/// began, so a read after a write still returns it. PostgreSQL's pool
/// serves reads already: it is returned as is.
pub async fn connect_readers(
    url: &str,
    writer: &DatabaseConnection,
    readers: u32,
) -> Result<DatabaseConnection, DbErr> {
    if !url.starts_with("sqlite:") {
        return Ok(writer.clone());
    }
    if is_in_memory(url) {
        // An in-memory database exists only on the writer's connection.
        return Ok(writer.clone());
    }
    let options = sqlite::SqliteConnectOptions::from_str(url)
        .map_err(sqlx_to_db_err)?
        .read_only(true)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        .row_buffer_size(SQLITE_ROWS_IN_FLIGHT);
    let pool = sqlite::SqlitePoolOptions::new()
        .max_connections(readers.max(1))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .connect_lazy_with(options);
    Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

/// Whether SQLite `url` names an in-memory database. Decided from the URL:
/// sqlx renames such a database to a generated file name when it parses it.
pub(crate) fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// `url` with any password replaced by `***`, for banners, logs and errors.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        format!("{key}=***")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

async fn connect_sqlite(url: &str) -> Result<DatabaseConnection, DbErr> {
    let options = sqlite::SqliteConnectOptions::from_str(url)
        .map_err(sqlx_to_db_err)?
        .create_if_missing(true)
        .journal_mode(sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlite::SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        .row_buffer_size(SQLITE_ROWS_IN_FLIGHT);
    let file = options.get_filename();
    if !is_in_memory(url) {
        // Tenants' data: readable by this service's user only.
        if let Some(parent) = file.parent() {
            crate::files::create_private_dir(parent).map_err(|e| {
                DbErr::Custom(format!("cannot create directory {}: {e}", parent.display()))
            })?;
        }
        crate::files::ensure_private_file(file).map_err(|e| {
            DbErr::Custom(format!("cannot create database {}: {e}", file.display()))
        })?;
    }
    // No ping before handing the connection out: it is a file in this
    // process and cannot go stale, and each ping is a round trip to the
    // connection's worker thread on every statement's path.
    let pool = sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .test_before_acquire(false)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(sqlx_to_db_err)?;
    Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

/// The default SQLite URL of a service: `<data_dir>/<service>.db`.
pub fn default_sqlite_url(data_dir: &Path, service: &str) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        data_dir.join(format!("{service}.db")).display()
    )
}

/// Applies the pending migrations of `M`. On PostgreSQL a session advisory
/// lock keeps replicas that start together from migrating concurrently.
pub async fn migrate<M: MigratorTrait>(
    db: &DatabaseConnection,
    lock_name: &str,
) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return M::up(db, None).await;
    }
    let pool = db.get_postgres_connection_pool();
    let mut lock_conn = pool.acquire().await.map_err(sqlx_to_db_err)?;
    let key = advisory_key(&format!("migrate:{lock_name}"));
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(key)
        .execute(&mut *lock_conn)
        .await
        .map_err(sqlx_to_db_err)?;
    let outcome = M::up(db, None).await;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut *lock_conn)
        .await
        .map_err(sqlx_to_db_err)?;
    outcome
}

/// A stable 64-bit key for a PostgreSQL advisory lock.
pub fn advisory_key(name: &str) -> i64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Whether the database answers a trivial query (for health reporting).
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT 1",
    ))
    .await
    .is_ok()
}

/// Whether `error` means the database could not be reached (as opposed to a
/// query the database refused).
pub fn is_connection_error(error: &DbErr) -> bool {
    match error {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match e.as_ref() {
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed
                | sqlx::Error::Tls(_)
                // The server closed the connection mid-conversation.
                | sqlx::Error::Protocol(_) => true,
                sqlx::Error::Database(database) => database
                    .code()
                    .is_some_and(|code| is_transient_code(&code)),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Whether a database error code means the database cannot serve now,
/// whatever the statement. PostgreSQL (a five-character SQLSTATE): its
/// connection exceptions (class 08), a server shutting down or starting
/// (57P01-57P03), insufficient resources (class 53: too many connections,
/// a full disk, memory), a read-only transaction (25006: a connection
/// still on a former primary after a failover), the server's own I/O
/// failing (58030), and the retryable transaction outcomes (serialization
/// failure 40001, deadlock 40P01). SQLite reports extended result codes,
/// whose low byte is the primary one: busy (5), locked (6), a disk I/O
/// error (10) and a full disk (13) in all their variants, but the two I/O
/// errors that report corruption (`SQLITE_IOERR_DATA` 8202,
/// `SQLITE_IOERR_CORRUPTFS` 8458), which waiting does not mend; a full
/// disk is an outage on either database, never the request's fault.
fn is_transient_code(code: &str) -> bool {
    if code.len() == 5 {
        return code.starts_with("08")
            || code.starts_with("53")
            || matches!(
                code,
                "57P01" | "57P02" | "57P03" | "25006" | "58030" | "40001" | "40P01"
            );
    }
    code.parse::<i32>()
        .is_ok_and(|code| matches!(code & 0xff, 5 | 6 | 10 | 13) && !matches!(code, 8202 | 8458))
}

/// Whether `error`, an outage or not, is worth the caller's retry: besides
/// an outage, a statement or lock wait cut off by a timeout (57014,
/// 55P03). A call answers it as transient; an event handler counts it as a
/// failed attempt, so one event that always hits it is set aside in the
/// end instead of holding its consumer forever.
pub fn is_retryable(error: &DbErr) -> bool {
    if is_connection_error(error) {
        return true;
    }
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = error
    else {
        return false;
    };
    match e.as_ref() {
        sqlx::Error::Database(database) => {
            database.code().is_some_and(|code| is_retryable_code(&code))
        }
        _ => false,
    }
}

fn is_retryable_code(code: &str) -> bool {
    matches!(code, "57014" | "55P03")
}

/// Whether `error` is PostgreSQL refusing text it cannot hold in UTF-8: a
/// NUL character (22021) or one its encoding lacks (22P05). Only a caller's
/// text carries such a character, so this is the caller's mistake wherever
/// a field's own check let it through (a filter, say); SQLite stores it.
pub fn is_unstorable_text(error: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = error
    else {
        return false;
    };
    match e.as_ref() {
        sqlx::Error::Database(database) => database
            .code()
            .is_some_and(|code| matches!(code.as_ref(), "22021" | "22P05")),
        _ => false,
    }
}

/// Whether `error` is a unique-constraint violation.
pub fn is_unique_violation(error: &DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// A failure to reach the database through sqlx (opening a pool, getting a
/// connection) as sea-orm reports its own: a connection error, which
/// [`is_connection_error`] answers as transient.
pub fn sqlx_to_db_err(error: sqlx::Error) -> DbErr {
    DbErr::Conn(RuntimeErr::SqlxError(std::sync::Arc::new(error)))
}

/// A statement sqlx ran that failed, as sea-orm reports its own: a query
/// error, transient only for the causes [`is_connection_error`] names.
pub fn sqlx_query_err(error: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(std::sync::Arc::new(error)))
}

/// Every row of `select`, its LIMIT written into the SQL (see
/// [`limit_in_sql`]). The queries of pages go through here.
pub async fn all<E: EntityTrait>(
    db: &impl ConnectionTrait,
    select: Select<E>,
) -> Result<Vec<E::Model>, DbErr> {
    let statement = limit_in_sql(select.build(db.get_database_backend()));
    E::find().from_raw_sql(statement).all(db).await
}

/// `statement` with its trailing `LIMIT` written as a number instead of
/// bound. PostgreSQL plans a prepared statement whose LIMIT is a parameter
/// anew on every execution: not knowing how few rows are wanted, its
/// generic plan looks costlier than each custom one, so it never settles
/// on it. Planning was 40 % of PostgreSQL's CPU time on a list page
/// (docs/benchmarks.md). With the number in the SQL the plan is made once
/// per page size and kept. A statement whose LIMIT is not its last clause
/// is returned as it is.
pub fn limit_in_sql(mut statement: Statement) -> Statement {
    let Some(values) = statement.values.as_mut() else {
        return statement;
    };
    let placeholder = match statement.db_backend {
        DbBackend::Postgres => format!(" LIMIT ${}", values.0.len()),
        _ => " LIMIT ?".to_owned(),
    };
    if !statement.sql.ends_with(&placeholder) {
        return statement;
    }
    let Some(sea_orm::Value::BigUnsigned(Some(limit))) = values.0.last() else {
        return statement;
    };
    let written = format!(" LIMIT {limit}");
    values.0.pop();
    let kept = statement.sql.len() - placeholder.len();
    statement.sql.truncate(kept);
    statement.sql.push_str(&written);
    statement
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_losses_shutdowns_and_retryable_conflicts_are_transient() {
        for code in [
            "08006", "08003", "57P01", "57P03", "25006", "53300", "53100", "53200", "40001",
            "40P01", "58030", "5", "6", "517", "261", "773", "262", "10", "266", "778", "1034",
            "13",
        ] {
            assert!(is_transient_code(code), "{code}");
        }
        // 22021 is 0x5605: a SQLSTATE is never read as a SQLite code. A
        // timeout is no outage (`is_retryable`).
        for code in [
            "23505", "42P01", "22001", "22021", "19", "2067", "1555", "57014", "55P03", "8202",
            "8458",
        ] {
            assert!(!is_transient_code(code), "{code}");
        }
    }

    #[test]
    fn statement_and_lock_timeouts_are_worth_a_retry() {
        for code in ["57014", "55P03"] {
            assert!(is_retryable_code(code), "{code}");
        }
        for code in ["23505", "22021", "5", "570"] {
            assert!(!is_retryable_code(code), "{code}");
        }
    }

    #[test]
    fn passwords_in_database_urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.internal:5432/customer"),
            "postgres://app:***@db.internal:5432/customer"
        );
        assert_eq!(
            redact_url("postgres://db/customer?user=app&password=s3cret&sslmode=require"),
            "postgres://db/customer?user=app&password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://app@db/customer"),
            "postgres://app@db/customer"
        );
        assert_eq!(
            redact_url("sqlite://data/customer.db?mode=rwc"),
            "sqlite://data/customer.db?mode=rwc"
        );
    }

    /// `.cargo/config.toml` compiles the bundled SQLite; without these
    /// options every statement with `LIMIT ?` is prepared again on every
    /// run and every allocation takes a process-wide mutex.
    #[tokio::test]
    async fn the_bundled_sqlite_plans_without_bound_values_and_allocates_without_statistics() {
        let db = connect("sqlite::memory:", 1).await.unwrap();
        for option in ["ENABLE_QPSG", "DEFAULT_MEMSTATUS=0"] {
            let used = db
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    "SELECT sqlite_compileoption_used(?) AS used",
                    [option.into()],
                ))
                .await
                .unwrap()
                .and_then(|row| row.try_get::<i64>("", "used").ok());
            assert_eq!(used, Some(1), "SQLite is built without {option}");
        }
    }

    #[tokio::test]
    async fn an_in_memory_database_is_read_on_its_writer() {
        let writer = connect("sqlite::memory:", 1).await.unwrap();
        writer
            .execute_unprepared("CREATE TABLE t (n INTEGER)")
            .await
            .unwrap();
        let readers = connect_readers("sqlite::memory:", &writer, 4)
            .await
            .unwrap();
        readers
            .execute_unprepared("SELECT n FROM t")
            .await
            .expect("the writer's table");
    }

    #[tokio::test]
    async fn a_read_on_the_sqlite_read_pool_right_after_a_write_returns_it() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let writer = connect(&url, 1).await.unwrap();
        let readers = connect_readers(&url, &writer, 4).await.unwrap();
        writer
            .execute_unprepared("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .await
            .unwrap();
        for n in 0..200 {
            writer
                .execute_unprepared(&format!("INSERT INTO t (n) VALUES ({n})"))
                .await
                .unwrap();
            let seen = readers
                .query_one_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "SELECT MAX(n) AS n FROM t",
                ))
                .await
                .unwrap()
                .and_then(|row| row.try_get::<i64>("", "n").ok());
            assert_eq!(seen, Some(n), "read after write {n}");
        }
        let refused = readers
            .execute_unprepared("INSERT INTO t (n) VALUES (-1)")
            .await;
        assert!(refused.is_err(), "the read pool cannot write");
    }

    fn page_of_partnerships(backend: DbBackend) -> Statement {
        use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
        let mut select = Query::select();
        select
            .column(Alias::new("id"))
            .from(Alias::new("partnership"))
            .and_where(Expr::col(Alias::new("provider_id")).eq("contoso"))
            .order_by(Alias::new("id"), sea_orm::Order::Asc)
            .limit(51);
        backend.build(&select)
    }

    #[test]
    fn a_pages_limit_is_written_into_its_sql_on_both_backends() {
        let postgres = limit_in_sql(page_of_partnerships(DbBackend::Postgres));
        assert!(
            postgres
                .sql
                .ends_with("WHERE \"provider_id\" = $1 ORDER BY \"id\" ASC LIMIT 51"),
            "{}",
            postgres.sql
        );
        assert_eq!(postgres.values.map(|v| v.0), Some(vec!["contoso".into()]));
        let sqlite = limit_in_sql(page_of_partnerships(DbBackend::Sqlite));
        assert!(
            sqlite
                .sql
                .ends_with("WHERE \"provider_id\" = ? ORDER BY \"id\" ASC LIMIT 51"),
            "{}",
            sqlite.sql
        );
        assert_eq!(sqlite.values.map(|v| v.0), Some(vec!["contoso".into()]));
    }

    #[test]
    fn a_statement_whose_limit_is_not_last_is_left_as_it_is() {
        let with_offset = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id FROM t LIMIT $1 OFFSET $2",
            [
                sea_orm::Value::BigUnsigned(Some(5)),
                sea_orm::Value::BigUnsigned(Some(10)),
            ],
        );
        assert_eq!(limit_in_sql(with_offset.clone()), with_offset);
        let text_limit = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id FROM t LIMIT $1",
            [sea_orm::Value::String(Some("1; DROP TABLE t".into()))],
        );
        assert_eq!(limit_in_sql(text_limit.clone()), text_limit);
        let unbound = Statement::from_string(DbBackend::Sqlite, "SELECT id FROM t LIMIT 3");
        assert_eq!(limit_in_sql(unbound.clone()), unbound);
    }

    #[tokio::test]
    async fn a_page_read_with_its_limit_in_sql_returns_what_the_bound_limit_returns() {
        let db = connect("sqlite::memory:", 1).await.unwrap();
        db.execute_unprepared(
            "CREATE TABLE partnership (id TEXT PRIMARY KEY, provider_id TEXT); \
             INSERT INTO partnership VALUES ('a', 'contoso'), ('b', 'contoso'), ('c', 'northwind')",
        )
        .await
        .unwrap();
        let mut statement = page_of_partnerships(DbBackend::Sqlite);
        if let Some(values) = statement.values.as_mut() {
            values.0.pop();
            values.0.push(sea_orm::Value::BigUnsigned(Some(1)));
        }
        let ids = |rows: Vec<sea_orm::QueryResult>| -> Vec<String> {
            rows.iter()
                .map(|row| row.try_get("", "id").unwrap())
                .collect()
        };
        let bound = ids(db.query_all_raw(statement.clone()).await.unwrap());
        let written = ids(db.query_all_raw(limit_in_sql(statement)).await.unwrap());
        assert_eq!(bound, vec!["a".to_owned()]);
        assert_eq!(written, bound);
    }

    /// How often PostgreSQL used its generic plan, and planned anew, for
    /// `statement` run eight times on one connection.
    async fn plans_of(txn: &sea_orm::DatabaseTransaction, statement: Statement) -> (i64, i64) {
        for _ in 0..8 {
            txn.query_all_raw(statement.clone()).await.unwrap();
        }
        let counts = txn
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
                [statement.sql.into()],
            ))
            .await
            .unwrap()
            .expect("the statement is prepared");
        (
            counts.try_get("", "generic_plans").unwrap(),
            counts.try_get("", "custom_plans").unwrap(),
        )
    }

    #[tokio::test]
    async fn a_page_with_its_limit_in_sql_keeps_its_plan_on_postgresql() {
        use sea_orm::TransactionTrait;
        if twotier_testkit::skip_without_postgres("plan caching") {
            return;
        }
        let test = twotier_testkit::TestDatabase::new("plans").await;
        let db = connect(&test.url, 2).await.unwrap();
        db.execute_unprepared(
            "CREATE TABLE partnership (id TEXT PRIMARY KEY, provider_id TEXT); \
             CREATE INDEX idx_provider ON partnership (provider_id, id); \
             INSERT INTO partnership SELECT 'p' || g, 'contoso' FROM generate_series(1, 2000) g; \
             ANALYZE partnership",
        )
        .await
        .unwrap();
        // One transaction: prepared statements belong to a connection.
        let txn = db.begin().await.unwrap();
        let (generic, custom) = plans_of(&txn, page_of_partnerships(DbBackend::Postgres)).await;
        assert_eq!(
            (generic, custom),
            (0, 8),
            "a bound LIMIT is planned every time"
        );
        let written = limit_in_sql(page_of_partnerships(DbBackend::Postgres));
        let (generic, custom) = plans_of(&txn, written).await;
        assert!(
            generic >= 3 && custom <= 5,
            "{generic} generic, {custom} custom plans"
        );
        txn.rollback().await.unwrap();
    }
}
