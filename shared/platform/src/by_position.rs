//! Rows read by column position, for the reads callers make most.
//!
//! sea-orm finds each column of a model by name: it builds that name with
//! `format!` for every value of every row, and sqlx then searches the
//! row's columns for it. On a list page of 50 partnerships with their
//! resellers that was 30 % of the process's CPU, 11 % in `format!` alone
//! (docs/benchmarks.md). A hot read instead decodes the columns in the
//! order it selected them, from a row of either driver: sqlx's through
//! sea-orm, or one read in the calling thread on SQLite
//! ([`crate::inline_reads`]) or on a held connection on PostgreSQL
//! ([`crate::held_reads`]).

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryResult,
    QuerySelect, QueryTrait, Select, TryGetable,
};

use crate::held_reads::HeldReads;
use crate::inline_reads::{InlineReads, Reads};

/// A value a column may hold, as both drivers decode it.
pub trait Value: TryGetable {
    /// The value of a column of a row SQLite read in the calling thread.
    fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Result<Self, DbErr>;
}

fn mismatch(expected: &str, value: rusqlite::types::ValueRef<'_>) -> DbErr {
    DbErr::Type(format!(
        "expected {expected}, the column holds {}",
        value.data_type()
    ))
}

impl Value for String {
    fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Result<Self, DbErr> {
        match value {
            rusqlite::types::ValueRef::Text(text) => std::str::from_utf8(text)
                .map(str::to_owned)
                .map_err(|e| DbErr::Type(format!("text column is not UTF-8: {e}"))),
            other => Err(mismatch("text", other)),
        }
    }
}

impl Value for i64 {
    fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Result<Self, DbErr> {
        match value {
            rusqlite::types::ValueRef::Integer(number) => Ok(number),
            other => Err(mismatch("an integer", other)),
        }
    }
}

impl Value for i32 {
    fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Result<Self, DbErr> {
        let number = i64::from_sqlite(value)?;
        i32::try_from(number).map_err(|_| DbErr::Type(format!("{number} is out of range")))
    }
}

impl Value for bool {
    fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Result<Self, DbErr> {
        Ok(i64::from_sqlite(value)? != 0)
    }
}

/// sqlx writes an instant as RFC 3339 text and reads it back in that form
/// or SQLite's own `YYYY-MM-DD HH:MM:SS` (what a column default writes).
impl Value for DateTime<Utc> {
    fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Result<Self, DbErr> {
        let text = String::from_sqlite(value)?;
        if let Ok(instant) = DateTime::parse_from_rfc3339(&text) {
            return Ok(instant.with_timezone(&Utc));
        }
        chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%.f")
            .map(|naive| naive.and_utc())
            .map_err(|e| DbErr::Type(format!("{text:?} is not an instant: {e}")))
    }
}

impl<T: Value> Value for Option<T> {
    fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Result<Self, DbErr> {
        match value {
            rusqlite::types::ValueRef::Null => Ok(None),
            other => T::from_sqlite(other).map(Some),
        }
    }
}

/// How sqlx binds an instant on SQLite, so that a value bound in the
/// calling thread compares with stored ones exactly as one bound by sqlx.
pub(crate) fn sqlite_instant(instant: &DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// A row of either driver, read by column position.
pub trait Row {
    /// The value of column `index`.
    fn value<T: Value>(&self, index: usize) -> Result<T, DbErr>;
}

impl Row for QueryResult {
    fn value<T: Value>(&self, index: usize) -> Result<T, DbErr> {
        self.try_get_by_index(index)
    }
}

impl Row for rusqlite::Row<'_> {
    fn value<T: Value>(&self, index: usize) -> Result<T, DbErr> {
        let value = self
            .get_ref(index)
            .map_err(|e| DbErr::Type(format!("column {index}: {e}")))?;
        T::from_sqlite(value).map_err(|e| DbErr::Type(format!("column {index}: {e}")))
    }
}

/// The columns of one row, taken in the order they were selected.
pub struct Columns<'a, R: ?Sized> {
    row: &'a R,
    next: usize,
}

impl<'a, R: Row + ?Sized> Columns<'a, R> {
    /// The columns of `row`, from the first.
    pub fn of(row: &'a R) -> Self {
        Self { row, next: 0 }
    }

    /// The next column's value.
    pub fn take<T: Value>(&mut self) -> Result<T, DbErr> {
        let value = self.row.value(self.next);
        self.next += 1;
        value
    }
}

/// What one row of a select holds, decoded by position.
pub trait ByPosition: Sized {
    /// The value in `row`.
    fn from_row<R: Row + ?Sized>(row: &R) -> Result<Self, DbErr>;
}

/// Where a read by position runs: any connection or transaction, or
/// [`Reads`], which answers in the calling thread where it can.
pub trait ReadFrom {
    /// The connection a read runs on when it is not answered inline.
    type Connection: ConnectionTrait;

    /// That connection.
    fn connection(&self) -> &Self::Connection;

    /// SQLite connections that answer in the calling thread, if any.
    fn inline(&self) -> Option<&InlineReads> {
        None
    }

    /// PostgreSQL connections held for reads, if any.
    fn held(&self) -> Option<&HeldReads> {
        None
    }
}

impl ReadFrom for DatabaseConnection {
    type Connection = Self;

    fn connection(&self) -> &Self {
        self
    }
}

impl ReadFrom for DatabaseTransaction {
    type Connection = Self;

    fn connection(&self) -> &Self {
        self
    }
}

impl ReadFrom for Reads {
    type Connection = DatabaseConnection;

    fn connection(&self) -> &DatabaseConnection {
        self.pool()
    }

    fn inline(&self) -> Option<&InlineReads> {
        self.inline()
    }

    fn held(&self) -> Option<&HeldReads> {
        self.held()
    }
}

/// Every row `select` returns, each decoded as a `T`.
pub async fn all<T: ByPosition>(
    db: &impl ReadFrom,
    select: impl QueryTrait,
) -> Result<Vec<T>, DbErr> {
    let connection = db.connection();
    let statement = crate::db::limit_in_sql(select.build(connection.get_database_backend()));
    if let Some(inline) = db.inline()
        && let Some(rows) = inline.query(&statement, |row| T::from_row(row))?
    {
        return Ok(rows);
    }
    if let Some(held) = db.held()
        && let Some(rows) = held.query(&statement, |row| T::from_row(row)).await?
    {
        return Ok(rows);
    }
    connection
        .query_all_raw(statement)
        .await?
        .iter()
        .map(T::from_row)
        .collect()
}

/// The first row `select` returns, as its entity's model.
pub async fn one<E>(db: &impl ReadFrom, select: Select<E>) -> Result<Option<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: ByPosition,
{
    Ok(all::<E::Model>(db, select.limit(1))
        .await?
        .into_iter()
        .next())
}

/// The row with the primary key `by_key` looks up (an entity's
/// `find_by_id`), if `belongs` says it is the caller's (its provider or
/// customer column is the one the caller names).
///
/// The owner is compared on the row, not in the SQL. With the key and the
/// owner both in the `WHERE` clause PostgreSQL may serve the lookup from
/// the owner's own index, such as the customers' `(provider_id,
/// company_name_key, id)`, which matches both conditions: on a young
/// table, whose statistics make the two indexes cost the same, it did,
/// kept that plan cached, and then walked all of the provider's customers
/// for each lookup (140 buffers and 0.46 ms instead of 3 buffers and
/// 0.02 ms, docs/benchmarks.md). With the key alone only the primary key
/// can answer. A row of another owner is read and dropped here, never
/// returned.
pub async fn one_owned<E>(
    db: &impl ReadFrom,
    by_key: Select<E>,
    belongs: impl FnOnce(&E::Model) -> bool,
) -> Result<Option<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: ByPosition,
{
    Ok(one(db, by_key).await?.filter(belongs))
}
