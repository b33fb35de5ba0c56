//! SQLite reads answered in the calling thread.
//!
//! sqlx runs each SQLite connection on a worker thread of its own: every
//! statement is a hand-off to that thread and back, and a connection
//! returned to the pool is pinged, another hand-off. On a point read those
//! hand-offs, not SQLite, were most of the database's cost (a profile put
//! 17 % of the process's samples on the worker threads and 22 % in
//! `futex`, docs/benchmarks.md), while the lookup itself takes a few
//! microseconds. [`InlineReads`] runs such a read in the calling thread on
//! a read-only connection of its own, with no hand-off, no ping, and the
//! values decoded straight from SQLite's row.
//!
//! A statement runs to its end before its connection is put back, so no
//! connection keeps an old snapshot: like the pool's readers in WAL mode,
//! each read sees every transaction committed before it began. A read
//! this path cannot answer at once (the database is busy, a value it does
//! not bind, any SQLite error) is left to the pool, which answers it as
//! every other read is answered, errors included.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use rusqlite::{OpenFlags, types::Value as Bound};
use sea_orm::sea_query::Value;
use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::{DatabaseConnection, DbErr, Statement};

use crate::by_position::sqlite_instant;
use crate::held_reads::HeldReads;

/// Idle connections kept. A read never awaits while it holds one, so at
/// most one per runtime worker thread is in use at a time.
const IDLE_CONNECTIONS: usize = 8;
/// Prepared statements kept per connection (rusqlite's default is 16).
const STATEMENTS_PER_CONNECTION: usize = 64;

/// Read-only SQLite connections used in the calling thread.
pub struct InlineReads {
    file: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

impl InlineReads {
    /// Connections to the SQLite file of `url`; `None` for PostgreSQL and
    /// for an in-memory database (it exists only on its writer's
    /// connection).
    pub fn for_url(url: &str) -> Result<Option<Self>, DbErr> {
        if !url.starts_with("sqlite:") || crate::db::is_in_memory(url) {
            return Ok(None);
        }
        let options = SqliteConnectOptions::from_str(url).map_err(crate::db::sqlx_to_db_err)?;
        Ok(Some(Self {
            file: options.get_filename().to_path_buf(),
            idle: Mutex::new(Vec::new()),
        }))
    }

    /// The rows of `statement`, each decoded by `decode`; `None` when it
    /// could not be answered here and should go to the pool. Only an
    /// error of `decode` is returned as an error.
    pub fn query<T>(
        &self,
        statement: &Statement,
        mut decode: impl FnMut(&rusqlite::Row<'_>) -> Result<T, DbErr>,
    ) -> Result<Option<Vec<T>>, DbErr> {
        let Some(values) = bind(statement) else {
            return Ok(None);
        };
        let Some(connection) = self.connection() else {
            return Ok(None);
        };
        match run(&connection, &statement.sql, &values, &mut decode) {
            Ok(decoded) => {
                self.put_back(connection);
                decoded.map(Some)
            }
            Err(error) => {
                // The connection is dropped: whatever went wrong (busy,
                // I/O, a schema it could not prepare against) the pool
                // answers the read, and a later read opens a fresh one.
                tracing::debug!(%error, "inline SQLite read left to the pool");
                Ok(None)
            }
        }
    }

    fn connection(&self) -> Option<rusqlite::Connection> {
        if let Some(connection) = self.idle.lock().ok()?.pop() {
            return Some(connection);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = match rusqlite::Connection::open_with_flags(&self.file, flags) {
            Ok(connection) => connection,
            Err(error) => {
                tracing::debug!(%error, "cannot open an inline SQLite reader");
                return None;
            }
        };
        // No busy wait: a read that would wait is left to the pool, whose
        // connections wait on their own threads, not on this one.
        connection.busy_timeout(std::time::Duration::ZERO).ok()?;
        connection.set_prepared_statement_cache_capacity(STATEMENTS_PER_CONNECTION);
        Some(connection)
    }

    fn put_back(&self, connection: rusqlite::Connection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < IDLE_CONNECTIONS
        {
            idle.push(connection);
        }
    }
}

/// Runs `sql` to its last row (which ends its read transaction) and
/// decodes each row; the outer error is SQLite's, the inner `decode`'s.
fn run<T>(
    connection: &rusqlite::Connection,
    sql: &str,
    values: &[Bound],
    decode: &mut impl FnMut(&rusqlite::Row<'_>) -> Result<T, DbErr>,
) -> rusqlite::Result<Result<Vec<T>, DbErr>> {
    let mut prepared = connection.prepare_cached(sql)?;
    let mut rows = prepared.query(rusqlite::params_from_iter(values))?;
    let mut decoded = Vec::new();
    while let Some(row) = rows.next()? {
        match decode(row) {
            Ok(value) => decoded.push(value),
            Err(error) => return Ok(Err(error)),
        }
    }
    Ok(Ok(decoded))
}

/// `statement`'s values as SQLite binds them, as sqlx would bind them;
/// `None` if one is of a kind this path does not bind.
fn bind(statement: &Statement) -> Option<Vec<Bound>> {
    let Some(values) = &statement.values else {
        return Some(Vec::new());
    };
    values.0.iter().map(bound).collect()
}

fn bound(value: &Value) -> Option<Bound> {
    let bound = match value {
        Value::Bool(v) => v.map(|v| Bound::Integer(i64::from(v))),
        Value::TinyInt(v) => v.map(|v| Bound::Integer(i64::from(v))),
        Value::SmallInt(v) => v.map(|v| Bound::Integer(i64::from(v))),
        Value::Int(v) => v.map(|v| Bound::Integer(i64::from(v))),
        Value::BigInt(v) => v.map(Bound::Integer),
        Value::TinyUnsigned(v) => v.map(|v| Bound::Integer(i64::from(v))),
        Value::SmallUnsigned(v) => v.map(|v| Bound::Integer(i64::from(v))),
        Value::Unsigned(v) => v.map(|v| Bound::Integer(i64::from(v))),
        Value::BigUnsigned(v) => match v {
            Some(v) => Some(Bound::Integer(i64::try_from(*v).ok()?)),
            None => None,
        },
        Value::Float(v) => v.map(|v| Bound::Real(f64::from(v))),
        Value::Double(v) => v.map(Bound::Real),
        Value::String(v) => v.as_ref().map(|v| Bound::Text(v.clone())),
        Value::Char(v) => v.map(|v| Bound::Text(v.to_string())),
        Value::Bytes(v) => v.as_ref().map(|v| Bound::Blob(v.clone())),
        Value::ChronoDateTimeUtc(v) => v.as_ref().map(|v| Bound::Text(sqlite_instant(v))),
        _ => return None,
    };
    Some(bound.unwrap_or(Bound::Null))
}

/// Where queries that write nothing go: the read pool, and beside it, for
/// the reads made by position ([`crate::by_position`]), [`InlineReads`] on
/// SQLite or [`HeldReads`] on PostgreSQL.
#[derive(Clone)]
pub struct Reads {
    pool: DatabaseConnection,
    inline: Option<Arc<InlineReads>>,
    held: Option<HeldReads>,
}

impl Reads {
    /// Reads on `pool` only.
    pub fn pool_only(pool: DatabaseConnection) -> Self {
        Self {
            pool,
            inline: None,
            held: None,
        }
    }

    /// Reads on `pool`, answered by `inline` (SQLite) or `held`
    /// (PostgreSQL) where they can.
    pub fn new(
        pool: DatabaseConnection,
        inline: Option<InlineReads>,
        held: Option<HeldReads>,
    ) -> Self {
        Self {
            pool,
            inline: inline.map(Arc::new),
            held,
        }
    }

    /// The read pool.
    pub fn pool(&self) -> &DatabaseConnection {
        &self.pool
    }

    /// The connections that answer in the calling thread, if any.
    pub fn inline(&self) -> Option<&InlineReads> {
        self.inline.as_deref()
    }

    /// The PostgreSQL connections held for reads, if any.
    pub fn held(&self) -> Option<&HeldReads> {
        self.held.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

    use super::InlineReads;
    use crate::by_position::{Columns, Row};
    use crate::db::connect;

    async fn sqlite_file(dir: &tempfile::TempDir) -> (String, DatabaseConnection) {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let writer = connect(&url, 1).await.unwrap();
        (url, writer)
    }

    fn first_integer(row: &rusqlite::Row<'_>) -> Result<i64, DbErr> {
        Columns::of(row).take()
    }

    #[test]
    fn only_sqlite_files_are_read_in_the_calling_thread() {
        assert!(InlineReads::for_url("sqlite::memory:").unwrap().is_none());
        assert!(
            InlineReads::for_url("sqlite://t.db?mode=memory")
                .unwrap()
                .is_none()
        );
        assert!(
            InlineReads::for_url("postgres://postgres@127.0.0.1/db")
                .unwrap()
                .is_none()
        );
        assert!(InlineReads::for_url("sqlite://t.db").unwrap().is_some());
    }

    /// The same statement each time: its prepared statement, kept for the
    /// next read, must not keep the snapshot of the read before.
    #[tokio::test]
    async fn a_read_in_the_calling_thread_right_after_a_write_returns_it() {
        let dir = tempfile::tempdir().unwrap();
        let (url, writer) = sqlite_file(&dir).await;
        let inline = InlineReads::for_url(&url).unwrap().unwrap();
        writer
            .execute_unprepared("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .await
            .unwrap();
        let newest = Statement::from_string(DbBackend::Sqlite, "SELECT MAX(n) FROM t");
        for n in 0..200 {
            writer
                .execute_unprepared(&format!("INSERT INTO t (n) VALUES ({n})"))
                .await
                .unwrap();
            let seen = inline.query(&newest, first_integer).unwrap();
            assert_eq!(seen, Some(vec![n]), "read after write {n}");
        }
    }

    /// Values bound here find what sqlx wrote with the same values, and
    /// read back equal to them.
    #[tokio::test]
    async fn values_are_bound_and_read_as_sqlx_binds_and_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let (url, writer) = sqlite_file(&dir).await;
        let inline = InlineReads::for_url(&url).unwrap().unwrap();
        writer
            .execute_unprepared(
                "CREATE TABLE t (name TEXT, count INTEGER, flag BOOLEAN, at TEXT, gone TEXT)",
            )
            .await
            .unwrap();
        let at = Utc.timestamp_opt(1_790_000_000, 123_456_789).unwrap();
        let on_the_second = Utc.timestamp_opt(1_790_000_000, 0).unwrap();
        let values = |at: DateTime<Utc>| -> Vec<sea_orm::Value> {
            vec![
                "Fabrikam".into(),
                7i32.into(),
                true.into(),
                at.into(),
                Option::<String>::None.into(),
            ]
        };
        for at in [at, on_the_second] {
            writer
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    "INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                    values(at),
                ))
                .await
                .unwrap();
        }
        for at in [at, on_the_second] {
            let find = Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "SELECT name, count, flag, at, gone FROM t \
                 WHERE name = ? AND count = ? AND flag = ? AND at = ? AND gone IS ?",
                values(at),
            );
            let found = inline
                .query(&find, |row| {
                    let mut c = Columns::of(row);
                    Ok((
                        c.take::<String>()?,
                        c.take::<i32>()?,
                        c.take::<bool>()?,
                        c.take::<DateTime<Utc>>()?,
                        c.take::<Option<String>>()?,
                    ))
                })
                .unwrap();
            assert_eq!(
                found,
                Some(vec![("Fabrikam".to_owned(), 7, true, at, None)]),
                "bound and read back {at}"
            );
            let by_sqlx = writer.query_one_raw(find).await.unwrap().unwrap();
            assert_eq!(by_sqlx.value::<DateTime<Utc>>(3).unwrap(), at);
        }
    }

    #[tokio::test]
    async fn sqlites_own_timestamps_are_read_as_sqlx_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let (url, writer) = sqlite_file(&dir).await;
        let inline = InlineReads::for_url(&url).unwrap().unwrap();
        writer
            .execute_unprepared(
                "CREATE TABLE t (at TEXT); INSERT INTO t VALUES (CURRENT_TIMESTAMP)",
            )
            .await
            .unwrap();
        let at = Statement::from_string(DbBackend::Sqlite, "SELECT at FROM t");
        let by_sqlx = writer.query_one_raw(at.clone()).await.unwrap().unwrap();
        let read_inline = inline
            .query(&at, |row| Columns::of(row).take::<DateTime<Utc>>())
            .unwrap();
        assert_eq!(
            read_inline,
            Some(vec![by_sqlx.value::<DateTime<Utc>>(0).unwrap()])
        );
    }

    #[tokio::test]
    async fn a_read_it_cannot_answer_is_left_to_the_pool() {
        let dir = tempfile::tempdir().unwrap();
        let (url, writer) = sqlite_file(&dir).await;
        let inline = InlineReads::for_url(&url).unwrap().unwrap();
        writer
            .execute_unprepared("CREATE TABLE t (n INTEGER)")
            .await
            .unwrap();
        let no_such_table = Statement::from_string(DbBackend::Sqlite, "SELECT n FROM missing");
        assert_eq!(inline.query(&no_such_table, first_integer).unwrap(), None);
        let unbound = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT n FROM t WHERE n = ?",
            [sea_orm::Value::Json(Some(Box::new(serde_json::json!({}))))],
        );
        assert_eq!(inline.query(&unbound, first_integer).unwrap(), None);
        let answered = Statement::from_string(DbBackend::Sqlite, "SELECT COUNT(*) FROM t");
        assert_eq!(
            inline.query(&answered, first_integer).unwrap(),
            Some(vec![0])
        );
    }

    #[tokio::test]
    async fn a_column_of_another_kind_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (url, _writer) = sqlite_file(&dir).await;
        let inline = InlineReads::for_url(&url).unwrap().unwrap();
        let text = Statement::from_string(DbBackend::Sqlite, "SELECT 'seven'");
        let read = inline.query(&text, first_integer);
        assert!(matches!(read, Err(DbErr::Type(_))), "{read:?}");
    }
}
