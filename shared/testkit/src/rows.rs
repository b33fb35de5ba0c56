//! Rows read every way a service reads them: by name (sea-orm's models),
//! by position on the pool, on SQLite by position in the calling thread
//! (`twotier_platform::inline_reads`) and on PostgreSQL by position on a
//! held connection (`twotier_platform::held_reads`).

use std::fmt::Debug;

use sea_orm::{DbBackend, EntityTrait, QueryTrait, Select};
use twotier_platform::by_position::{self, ByPosition};
use twotier_platform::held_reads::HeldReads;
use twotier_platform::inline_reads::{InlineReads, Reads};

/// The rows `select` returns from the database at `url`, read by name,
/// after asserting that every read by position returns the same rows, and
/// that on SQLite the calling thread, and on PostgreSQL a held connection
/// once it is open, answers the read itself rather than leaving it to the
/// pool.
pub async fn read_every_way<E>(url: &str, select: impl Fn() -> Select<E>) -> Vec<E::Model>
where
    E: EntityTrait,
    E::Model: ByPosition + PartialEq + Debug,
{
    let db = twotier_platform::db::connect(url, 2)
        .await
        .expect("the service's database");
    let reads = Reads::new(
        db.clone(),
        InlineReads::for_url(url).expect("a database url"),
        HeldReads::for_url(url, 1).expect("a database url"),
    );
    let by_name = select().all(&db).await.expect("by name");

    let by_position = by_position::all::<E::Model>(&db, select())
        .await
        .expect("by position");
    assert_eq!(by_position, by_name);
    let read_inline = by_position::all::<E::Model>(&reads, select())
        .await
        .expect("by position, in the calling thread");
    assert_eq!(read_inline, by_name);
    if let Some(inline) = reads.inline() {
        let statement = select().build(DbBackend::Sqlite);
        let answered = inline
            .query(&statement, |row| E::Model::from_row(row))
            .expect("decoded")
            .expect("answered in the calling thread");
        assert_eq!(answered, by_name);
    }
    if let Some(held) = reads.held() {
        let statement = select().build(DbBackend::Postgres);
        let started = tokio::time::Instant::now();
        // The first read opens the connection in the background.
        let answered = loop {
            if let Some(rows) = held
                .query(&statement, E::Model::from_row)
                .await
                .expect("decoded")
            {
                break rows;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "a held connection answers the read"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        assert_eq!(answered, by_name);
    }
    by_name
}
