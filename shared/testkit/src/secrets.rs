//! Looking for a secret where it must not be: every byte a test database
//! stores (SQLite files, or every row of every PostgreSQL table), and the
//! log lines a test captured.

use std::io::Write;
use std::sync::{Arc, Mutex};

use sea_orm::{ConnectionTrait, Statement};

use crate::TestDatabase;

/// Everything stored in `db`: the SQLite files (database, WAL and shared
/// memory) byte for byte, or every row of every PostgreSQL table as JSON.
pub async fn database_contents(db: &TestDatabase) -> Vec<u8> {
    if !db.is_postgres() {
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(db.data_dir()).expect("data dir") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                bytes.extend(std::fs::read(&path).expect("read database file"));
            }
        }
        return bytes;
    }
    let conn = twotier_platform::db::connect(&db.url, 2)
        .await
        .expect("connect");
    let tables = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
        ))
        .await
        .expect("tables");
    let mut text = Vec::new();
    for table in tables {
        let name: String = table.try_get("", "table_name").expect("name");
        let rows = conn
            .query_all_raw(Statement::from_string(
                conn.get_database_backend(),
                format!("SELECT row_to_json(t)::text AS row FROM \"{name}\" t"),
            ))
            .await
            .expect("rows");
        for row in rows {
            let json: String = row.try_get("", "row").expect("row json");
            text.extend(json.into_bytes());
        }
    }
    assert!(!text.is_empty(), "the database has rows to search");
    text
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// Log output captured in memory, for a `tracing_subscriber` writer.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    /// Everything written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().expect("log buffer").clone()
    }
}

impl Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
