//! Guarded updates: change a row only if it is still as the command saw it
//! (its version, or a state it must still be in), bump its version, and get
//! the row as written back. A concurrent change that got there first makes
//! the guard fail, and the caller decides what that means (a stale etag, an
//! invitation no longer pending); nothing is overwritten.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// Applies `changes` to the rows matching `guard` and increments their
/// `version` column; the first updated row, or `None` when the guard held
/// for none.
pub async fn update_guarded<E, A>(
    db: &impl ConnectionTrait,
    changes: A,
    version: E::Column,
    guard: sea_orm::Condition,
) -> Result<Option<E::Model>, DbErr>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E> + Send,
{
    let rows = E::update_many()
        .set(changes)
        .col_expr(version, Expr::col(version).add(1))
        .filter(guard)
        .exec_with_returning(db)
        .await?;
    Ok(rows.into_iter().next())
}

/// The guard of a row by its id that still has `expected` as its version
/// (whatever integer type the table's version column has).
pub fn at_version<C: ColumnTrait>(
    id_column: C,
    id: &str,
    version_column: C,
    expected: impl Into<sea_orm::Value>,
) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(id_column.eq(id))
        .add(version_column.eq(expected))
}
