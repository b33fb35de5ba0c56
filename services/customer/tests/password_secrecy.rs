//! R11: the temporary password is returned once and found nowhere else —
//! not in the database (files or rows), not in the logs at trace level,
//! not in any event.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use sea_orm::{ConnectionTrait, Statement};
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLogs {
    type Writer = CapturedLogs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Everything stored in a test database, as text or bytes to search.
async fn database_contents(db: &twotier_testkit::TestDatabase) -> Vec<u8> {
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

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test]
async fn temporary_password_is_nowhere_but_in_the_first_response() {
    let logs = CapturedLogs::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .init();

    let h = start().await;
    h.onboard(RESELLER, RESELLER_TENANT, "Fabrikam").await;
    h.partner(PROVIDER, RESELLER_TENANT).await;
    let mut request = create(PROVIDER, new_customer("Adatum", "adatum", RESELLER));
    request.request_id = "secret-check".into();
    let created = h
        .customers(&provider_admin(PROVIDER))
        .create_customer(request.clone())
        .await
        .expect("create")
        .into_inner();
    let password = created
        .admin_credentials
        .expect("credentials")
        .temporary_password;
    let retry = h
        .customers(&provider_admin(PROVIDER))
        .create_customer(request)
        .await
        .expect("retry")
        .into_inner();
    assert!(retry.admin_credentials.is_none());

    let events = h.events(2).await;
    for event in &events {
        let encoded = prost::Message::encode_to_vec(event);
        assert!(
            !contains(&encoded, &password),
            "event {} carries the password",
            event.event_type
        );
    }
    let stored = database_contents(&h.customer_db).await;
    assert!(
        contains(&stored, "adatum"),
        "the search does see stored data"
    );
    assert!(
        !contains(&stored, &password),
        "the database holds the password"
    );
    let captured = logs.0.lock().expect("logs").clone();
    assert!(
        contains(&captured, "TRACE") || contains(&captured, "DEBUG"),
        "logging ran at trace level"
    );
    assert!(
        !contains(&captured, &password),
        "the logs hold the password"
    );
}
