//! Where a committed event gets its log position: on SQLite in the
//! command's own transaction (one writer, so no second commit), on
//! PostgreSQL from the sequencer once the row is committed.

mod common;

use std::time::Duration;

use common::*;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use twotier_outbox::{Outbox, Sequencer};

async fn positions(db: &sea_orm::DatabaseConnection) -> Vec<Option<i64>> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT position FROM outbox_event ORDER BY id",
    ))
    .await
    .expect("read outbox")
    .iter()
    .map(|row| {
        row.try_get::<Option<i64>>("", "position")
            .expect("position")
    })
    .collect()
}

#[tokio::test]
async fn a_command_on_sqlite_numbers_its_events_as_it_commits_and_postgres_waits_for_the_sequencer()
{
    let (_guard, db) = database("numbering").await;
    let outbox = Outbox::new(db.clone());
    let head = outbox.watch_head();
    write_events(&outbox, 3, "a").await;

    if db.get_database_backend() == DbBackend::Sqlite {
        assert_eq!(positions(&db).await, vec![Some(1), Some(2), Some(3)]);
        assert_eq!(*head.borrow(), 3, "readers are told at commit");
        return;
    }
    assert_eq!(
        positions(&db).await,
        vec![None, None, None],
        "committed, not yet numbered"
    );
    let sequencer = Sequencer::new(outbox, Duration::from_secs(60), Duration::from_secs(3600));
    assert_eq!(sequencer.sequence_batch().await.expect("numbered"), 3);
    assert_eq!(positions(&db).await, vec![Some(1), Some(2), Some(3)]);
    assert_eq!(*head.borrow(), 3);
}
