//! The consumer's cursor: stored in the consuming service's database and
//! moved in the same transaction as the effects of the events it passes.

use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter};

use super::Consumer;
use crate::entity::consumer_cursor;

impl Consumer {
    /// Moves the cursor from before `first` to `last`, if nobody has moved
    /// it past `first` yet. On PostgreSQL the row lock serialises replicas of
    /// this consumer, so exactly one of them applies each event.
    pub(super) async fn claim_positions(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        first: u64,
        last: u64,
    ) -> Result<bool, DbErr> {
        let first = i64::try_from(first).unwrap_or(i64::MAX);
        let last = i64::try_from(last).unwrap_or(i64::MAX);
        let claimed = consumer_cursor::Entity::update_many()
            .col_expr(consumer_cursor::Column::Position, Expr::value(last))
            .col_expr(consumer_cursor::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(consumer_cursor::Column::Upstream.eq(&self.settings.upstream))
            .filter(consumer_cursor::Column::Position.lt(first))
            .exec(txn)
            .await?;
        Ok(claimed.rows_affected == 1)
    }

    /// Moves the stored cursor forward to `position` (never back).
    pub(super) async fn store_cursor(&self, position: u64) -> Result<(), DbErr> {
        let position = i64::try_from(position).unwrap_or(i64::MAX);
        consumer_cursor::Entity::update_many()
            .col_expr(consumer_cursor::Column::Position, Expr::value(position))
            .col_expr(consumer_cursor::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(consumer_cursor::Column::Upstream.eq(&self.settings.upstream))
            .filter(consumer_cursor::Column::Position.lt(position))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    pub(super) async fn load_cursor(&self) -> Result<u64, DbErr> {
        let row = consumer_cursor::ActiveModel {
            upstream: Set(self.settings.upstream.clone()),
            position: Set(0),
            updated_at: Set(Utc::now()),
        };
        consumer_cursor::Entity::insert(row)
            .on_conflict(
                OnConflict::column(consumer_cursor::Column::Upstream)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        let cursor = consumer_cursor::Entity::find_by_id(self.settings.upstream.clone())
            .one(&self.db)
            .await?
            .map_or(0, |row| row.position);
        Ok(u64::try_from(cursor).unwrap_or_default())
    }
}
