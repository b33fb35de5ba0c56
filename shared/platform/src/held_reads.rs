//! PostgreSQL reads on connections held outside sqlx's pool.
//!
//! sqlx pings every connection returned to its pool, a round trip to the
//! server after each statement (sqlx 0.9 has no setting to turn it off),
//! and spawns a task to do it: a point read cost the server two wake-ups
//! where one answers it. [`HeldReads`] keeps a few connections of its own
//! and runs the reads made by position ([`crate::by_position`]) on them,
//! putting a connection back the moment its statement has answered in
//! full, which leaves it idle and ready, so there is nothing to ping.
//!
//! Each read is one statement on its own, as on the pool: it sees every
//! transaction committed before it began, on any replica, so a read right
//! after a write returns it. A read waits briefly for a busy held
//! connection; one this path cannot answer (no connection open yet, none
//! free in time, or its statement failed) is left to the pool, which
//! answers it as every other read is answered, errors included. A
//! connection whose statement failed, or whose read was abandoned
//! half-way, is closed rather than kept.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sea_orm::sea_query::Values;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, Connection};
use sea_orm::{DbErr, QueryResult, Statement};
use sea_query_sqlx::SqlxValues;
use tokio::sync::Semaphore;

/// After a connection failed to open, no other is tried for this long:
/// during an outage the pool's own attempts answer the reads.
const OPEN_AGAIN_AFTER: Duration = Duration::from_secs(1);

/// How long opening a connection may take before it counts as failed (a
/// server behind a dropped route never answers at all).
const OPEN_WITHIN: Duration = Duration::from_secs(3);

/// A connection older than this is closed instead of used, as the pool
/// closes its own (sqlx's default lifetime): its server process and
/// statement cache do not live forever, and a server moved behind the
/// same name is reached within this long.
const LIFETIME: Duration = Duration::from_secs(30 * 60);

/// How long a read waits for a held connection when every one is open and
/// busy, before the pool answers it instead: many reads' time, so the pool
/// takes over when connections are stuck, not whenever all are in use.
const WAIT_FOR_ONE: Duration = Duration::from_millis(25);

/// PostgreSQL connections held for reads, at most `most` open at a time.
#[derive(Clone)]
pub struct HeldReads {
    shared: Arc<Shared>,
}

struct Shared {
    options: PgConnectOptions,
    most: usize,
    idle: Mutex<Vec<Idle>>,
    /// One permit per idle connection, for reads waiting for one.
    ready: Semaphore,
    /// Connections open or being opened, idle or in use.
    open: AtomicUsize,
    /// Whether a connection is being opened now (one at a time).
    opening: AtomicBool,
    /// When the last attempt to open one failed.
    failed_at: Mutex<Option<Instant>>,
}

/// An idle connection, with when it was opened and when it was last put
/// back.
struct Idle {
    connection: PgConnection,
    opened_at: Instant,
    since: Instant,
}

impl HeldReads {
    /// Up to `most` connections to the PostgreSQL database of `url`;
    /// `None` for SQLite or when `most` is zero.
    pub fn for_url(url: &str, most: usize) -> Result<Option<Self>, DbErr> {
        if most == 0 || url.starts_with("sqlite:") {
            return Ok(None);
        }
        let options = PgConnectOptions::from_str(url).map_err(crate::db::sqlx_to_db_err)?;
        Ok(Some(Self {
            shared: Arc::new(Shared {
                options,
                most,
                idle: Mutex::new(Vec::new()),
                ready: Semaphore::new(0),
                open: AtomicUsize::new(0),
                opening: AtomicBool::new(false),
                failed_at: Mutex::new(None),
            }),
        }))
    }

    /// The rows of `statement`, each decoded by `decode`; `None` when it
    /// could not be answered here and should go to the pool. Only an error
    /// of `decode` is returned as an error.
    pub async fn query<T>(
        &self,
        statement: &Statement,
        mut decode: impl FnMut(&QueryResult) -> Result<T, DbErr>,
    ) -> Result<Option<Vec<T>>, DbErr> {
        let Some(Idle {
            mut connection,
            opened_at,
            since,
        }) = self.take().await
        else {
            return Ok(None);
        };
        // Counts the connection as open until it is put back or dropped,
        // also when this read is abandoned half-way.
        let mut taken = Taken {
            shared: &self.shared,
            put_back: false,
        };
        if opened_at.elapsed() > LIFETIME {
            // Closed politely, off this read's path; a fresh one replaces it.
            tokio::spawn(async move {
                let _ = connection.close().await;
            });
            drop(taken);
            self.open_in_background();
            return Ok(None);
        }
        // As the pool does before handing out a connection idle for a
        // while: a server gone silent behind a dropped route answers no
        // ping, and the read goes to the pool instead of waiting for it.
        if since.elapsed() > crate::db::PING_IF_IDLE_FOR {
            let ping = tokio::time::timeout(crate::db::ACQUIRE_TIMEOUT, connection.ping());
            if !matches!(ping.await, Ok(Ok(()))) {
                return Ok(None);
            }
        }
        let values = statement.values.clone().unwrap_or(Values(Vec::new()));
        let query = sqlx::query_with(
            sqlx::AssertSqlSafe(statement.sql.as_str()),
            SqlxValues(values),
        );
        let rows = match query.fetch_all(&mut connection).await {
            Ok(rows) => rows,
            Err(error) => {
                // Dropped, not kept: whatever went wrong (the server gone,
                // a statement it refused) the pool answers the read.
                tracing::debug!(%error, "held PostgreSQL read left to the pool");
                return Ok(None);
            }
        };
        taken.put_back(connection, opened_at);
        rows.into_iter()
            .map(|row| decode(&QueryResult::from(row)))
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// An idle connection, waiting up to [`WAIT_FOR_ONE`] when all are
    /// open and busy; while fewer than `most` are open, none (the pool
    /// answers) and one more is opened in the background.
    async fn take(&self) -> Option<Idle> {
        let shared = &self.shared;
        let ready = match shared.ready.try_acquire() {
            Ok(ready) => ready,
            Err(_) if shared.open.load(Ordering::Acquire) < shared.most => {
                self.open_in_background();
                return None;
            }
            Err(_) => tokio::time::timeout(WAIT_FOR_ONE, shared.ready.acquire())
                .await
                .ok()?
                .ok()?,
        };
        // The permit stood for the connection now taken from the idle list.
        ready.forget();
        shared
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    fn open_in_background(&self) {
        let shared = &self.shared;
        let backing_off = shared
            .failed_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|at| at.elapsed() < OPEN_AGAIN_AFTER);
        if backing_off || shared.opening.swap(true, Ordering::AcqRel) {
            return;
        }
        // Counted only while under `most`, decided in one step.
        let counted = shared
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < shared.most).then_some(open + 1)
            });
        if counted.is_err() {
            shared.opening.store(false, Ordering::Release);
            return;
        }
        let shared = Arc::clone(shared);
        tokio::spawn(async move {
            let opened =
                tokio::time::timeout(OPEN_WITHIN, PgConnection::connect_with(&shared.options))
                    .await;
            match opened {
                Ok(Ok(connection)) => shared.put_back(connection, Instant::now()),
                Ok(Err(error)) => shared.not_opened(&error),
                Err(elapsed) => shared.not_opened(&elapsed),
            }
            shared.opening.store(false, Ordering::Release);
        });
    }
}

impl Shared {
    fn not_opened(&self, error: &dyn std::fmt::Display) {
        tracing::debug!(%error, "cannot open a held PostgreSQL reader");
        *self
            .failed_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        self.open.fetch_sub(1, Ordering::AcqRel);
    }

    fn put_back(&self, connection: PgConnection, opened_at: Instant) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Idle {
                connection,
                opened_at,
                since: Instant::now(),
            });
        self.ready.add_permits(1);
    }
}

/// A connection taken for one read: counted as open until it is put back
/// (its statement answered in full) or dropped with the read.
struct Taken<'a> {
    shared: &'a Shared,
    put_back: bool,
}

impl Taken<'_> {
    fn put_back(&mut self, connection: PgConnection, opened_at: Instant) {
        self.shared.put_back(connection, opened_at);
        self.put_back = true;
    }
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        if !self.put_back {
            self.shared.open.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryResult, Statement};
    use twotier_testkit::TestDatabase;

    use super::{HeldReads, Ordering};
    use crate::by_position::{Columns, Row};
    use crate::db::connect;

    fn first_integer(row: &QueryResult) -> Result<i64, DbErr> {
        Columns::of(row).take()
    }

    fn sql(text: &str) -> Statement {
        Statement::from_string(DbBackend::Postgres, text)
    }

    /// A database, a pool writing to it and up to `most` held readers;
    /// `None` without PostgreSQL.
    async fn held(most: usize) -> Option<(TestDatabase, DatabaseConnection, HeldReads)> {
        if twotier_testkit::skip_without_postgres("held PostgreSQL reads") {
            return None;
        }
        let test = TestDatabase::new("held").await;
        let writer = connect(&test.url, 2).await.unwrap();
        let held = HeldReads::for_url(&test.url, most).unwrap().unwrap();
        Some((test, writer, held))
    }

    /// What a held connection answers to `statement`, once one is open.
    async fn answered(held: &HeldReads, statement: &Statement) -> Vec<i64> {
        let started = tokio::time::Instant::now();
        loop {
            if let Some(rows) = held.query(statement, first_integer).await.unwrap() {
                return rows;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "a held connection answers {}",
                statement.sql
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[test]
    fn only_postgresql_reads_are_held() {
        assert!(HeldReads::for_url("sqlite://t.db", 4).unwrap().is_none());
        let postgres = "postgres://postgres@127.0.0.1/db";
        assert!(HeldReads::for_url(postgres, 0).unwrap().is_none());
        assert!(HeldReads::for_url(postgres, 1).unwrap().is_some());
    }

    #[tokio::test]
    async fn reads_are_left_to_the_pool_while_no_connection_can_be_opened() {
        let port = twotier_testkit::free_port();
        let url = format!("postgres://postgres@127.0.0.1:{port}/down");
        let held = HeldReads::for_url(&url, 2).unwrap().unwrap();
        let read = sql("SELECT 1::BIGINT");
        assert_eq!(held.query(&read, first_integer).await.unwrap(), None);
        twotier_testkit::wait_until(
            "the attempt to open failed",
            Duration::from_secs(10),
            || {
                let shared = &held.shared;
                let failed = shared.failed_at.lock().unwrap().is_some();
                async move { failed && !shared.opening.load(Ordering::Acquire) }
            },
        )
        .await;
        assert_eq!(held.shared.open.load(Ordering::Acquire), 0);
        assert_eq!(held.query(&read, first_integer).await.unwrap(), None);
        assert!(
            !held.shared.opening.load(Ordering::Acquire),
            "no new attempt right after a failed one"
        );
    }

    /// The same statement each time on the same connection: it must not
    /// answer from anything older than the write before it.
    #[tokio::test]
    async fn a_held_read_right_after_a_write_returns_it() {
        let Some((_test, writer, held)) = held(1).await else {
            return;
        };
        writer
            .execute_unprepared("CREATE TABLE t (n BIGINT PRIMARY KEY)")
            .await
            .unwrap();
        let newest = sql("SELECT MAX(n) FROM t");
        for n in 0..100 {
            writer
                .execute_unprepared(&format!("INSERT INTO t (n) VALUES ({n})"))
                .await
                .unwrap();
            assert_eq!(
                answered(&held, &newest).await,
                vec![n],
                "read after write {n}"
            );
        }
    }

    #[tokio::test]
    async fn values_are_bound_as_the_pool_binds_them() {
        let Some((_test, writer, held)) = held(1).await else {
            return;
        };
        writer
            .execute_unprepared("CREATE TABLE t (name TEXT, n BIGINT, at TIMESTAMPTZ)")
            .await
            .unwrap();
        let at = chrono::DateTime::from_timestamp(1_790_000_000, 123_456_000).unwrap();
        let insert = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO t VALUES ($1, $2, $3)",
            ["Fabrikam".into(), 7i64.into(), at.into()],
        );
        writer.execute_raw(insert).await.unwrap();
        let find = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT n FROM t WHERE name = $1 AND at = $2",
            ["Fabrikam".into(), at.into()],
        );
        assert_eq!(answered(&held, &find).await, vec![7]);
    }

    #[tokio::test]
    async fn a_read_abandoned_half_way_closes_its_connection() {
        let Some((_test, _writer, held)) = held(1).await else {
            return;
        };
        answered(&held, &sql("SELECT 1::BIGINT")).await;
        let slow = sql("SELECT 1::BIGINT FROM pg_sleep(5)");
        let abandoned =
            tokio::time::timeout(Duration::from_millis(100), held.query(&slow, first_integer))
                .await;
        assert!(abandoned.is_err(), "the read was abandoned");
        assert_eq!(
            held.shared.open.load(Ordering::Acquire),
            0,
            "closed, not kept"
        );
        assert_eq!(answered(&held, &sql("SELECT 2::BIGINT")).await, vec![2]);
    }

    #[tokio::test]
    async fn a_connection_the_server_closed_leaves_its_read_to_the_pool() {
        let Some((_test, writer, held)) = held(1).await else {
            return;
        };
        let pid = answered(&held, &sql("SELECT pg_backend_pid()::BIGINT")).await[0];
        writer
            .execute_unprepared(&format!("SELECT pg_terminate_backend({pid})"))
            .await
            .unwrap();
        // Not an error: the pool answers this read.
        let read = held
            .query(&sql("SELECT 3::BIGINT"), first_integer)
            .await
            .unwrap();
        assert_eq!(read, None);
        assert_eq!(answered(&held, &sql("SELECT 4::BIGINT")).await, vec![4]);
    }

    /// A server that no longer answers (a dropped route) is found out by
    /// the ping before a connection idle for a while is used: the read
    /// goes to the pool within the ping's deadline instead of hanging.
    #[tokio::test]
    async fn a_connection_idle_for_a_while_is_pinged_and_a_silent_one_left() {
        if twotier_testkit::skip_without_postgres("held PostgreSQL reads") {
            return;
        }
        let test = TestDatabase::new("held").await;
        let proxy = twotier_testkit::ChaosProxy::start(test.server()).await;
        let held = HeldReads::for_url(&test.url_via(proxy.addr), 1)
            .unwrap()
            .unwrap();
        answered(&held, &sql("SELECT 1::BIGINT")).await;
        tokio::time::sleep(crate::db::PING_IF_IDLE_FOR + Duration::from_millis(200)).await;
        proxy.delay(Duration::from_secs(60));
        let started = tokio::time::Instant::now();
        let read = held.query(&sql("SELECT 2::BIGINT"), first_integer).await;
        assert_eq!(read.unwrap(), None, "left to the pool");
        assert!(
            started.elapsed() < crate::db::ACQUIRE_TIMEOUT + Duration::from_secs(2),
            "found out within the ping's deadline: {:?}",
            started.elapsed()
        );
        assert_eq!(
            held.shared.open.load(Ordering::Acquire),
            0,
            "closed, not kept"
        );
    }

    #[tokio::test]
    async fn no_more_connections_are_opened_than_held_for_reads() {
        let Some((test, writer, held)) = held(2).await else {
            return;
        };
        answered(&held, &sql("SELECT 1::BIGINT")).await;
        let slow = sql("SELECT 1::BIGINT FROM pg_sleep(0.05)");
        for _ in 0..5 {
            let reads = (0..20).map(|_| held.query(&slow, first_integer));
            futures::future::join_all(reads).await;
            assert!(held.shared.open.load(Ordering::Acquire) <= 2);
        }
        let database = test.url.rsplit('/').next().unwrap().to_owned();
        let connections = writer
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT COUNT(*) FROM pg_stat_activity \
                 WHERE datname = $1 AND backend_type = 'client backend'",
                [database.into()],
            ))
            .await
            .unwrap()
            .unwrap()
            .value::<i64>(0)
            .unwrap();
        assert!(
            connections <= 2 + 2,
            "{connections} connections: the pool's and two held"
        );
    }
}
