//! The partnership database: tables, migrations, and every query, a module
//! per aggregate. Rows are loaded as domain types and domain decisions are
//! saved; version and state guards make a concurrent change lose cleanly.

pub mod by_position;
pub mod entities;
pub mod invitation;
pub mod listing;
pub mod migration;
pub mod partnership;
pub mod reseller;

use sea_orm::DbErr;

/// `None` for an insert that a unique constraint refused: the row, or one
/// that must be unique with it, exists already (a concurrent insert too).
fn created<T>(inserted: Result<T, DbErr>) -> Result<Option<T>, DbErr> {
    match inserted {
        Ok(row) => Ok(Some(row)),
        Err(error) if twotier_platform::db::is_unique_violation(&error) => Ok(None),
        Err(error) => Err(error),
    }
}
