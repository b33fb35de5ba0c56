//! Rows a consumer keeps from an upstream log, each remembering the log
//! position of the event it was last taken from. Dead letters are replayed
//! after later events have been applied, so an upsert from an event takes
//! the place of a row only if that row comes from an older event.

use sea_orm::sea_query::{Alias, Expr, ExprTrait};
use twotier_proto::events::EventEnvelope;

/// The position of `event` as the projections store it.
pub fn position(event: &EventEnvelope) -> i64 {
    i64::try_from(event.position).unwrap_or(i64::MAX)
}

/// The condition under which an upsert from the event at `position`
/// replaces the row of `table` it conflicts with (its `position` column):
/// the row comes from an older event. An event applied out of order never
/// brings back an older state, such as a removed partnership or a former
/// address.
pub fn taken_from_older<T: sea_orm::EntityName>(table: T, position: i64) -> Expr {
    Expr::col((table, Alias::new("position"))).lt(position)
}
