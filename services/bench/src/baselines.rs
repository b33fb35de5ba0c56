//! The baselines every result is divided by: a bare tonic unary service and
//! raw single-row insert transactions on the same database.

use std::net::SocketAddr;
use std::time::Duration;

use sea_orm::{ConnectionTrait, TransactionTrait};
use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;

use super::driver::{Measurement, drive};
use super::system::{Backend, System, database_url};

/// A tonic server with nothing but the health service: no auth, tracing,
/// limits or database. Its `Check` is the unary echo the harness drives.
pub async fn bare_tonic_server() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (_reporter, health) = tonic_health::server::health_reporter();
    tokio::spawn(async move {
        let _ = Server::builder()
            .add_service(health)
            .serve_with_incoming(TcpIncoming::from(listener).with_nodelay(Some(true)))
            .await;
    });
    Ok(addr)
}

pub async fn echo(clients: usize, duration: Duration) -> std::io::Result<Measurement> {
    let addr = bare_tonic_server().await?;
    let client = tonic_health::pb::health_client::HealthClient::new(System::channel(addr));
    Ok(drive(
        "baseline: bare tonic unary",
        clients,
        duration,
        None,
        move |_, _| {
            let mut client = client.clone();
            async move {
                client
                    .check(tonic_health::pb::HealthCheckRequest {
                        service: String::new(),
                    })
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        },
    )
    .await)
}

/// Single-row insert transactions with the services' own connection
/// settings (pool size, SQLite WAL + synchronous=FULL).
pub async fn raw_inserts(
    backend: &Backend,
    run: &str,
    clients: usize,
    duration: Duration,
) -> Result<Measurement, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let url = database_url(backend, &dir, &format!("bench_{run}_raw")).await?;
    let db = twotier_platform::db::connect(&url, 16).await?;
    db.execute_unprepared(
        "CREATE TABLE bench_raw (id VARCHAR(36) PRIMARY KEY, payload TEXT NOT NULL)",
    )
    .await?;
    let measured = drive("baseline: raw insert transaction", clients, duration, None, move |_, n| {
        let db = db.clone();
        async move {
            let txn = db.begin().await.map_err(|e| e.to_string())?;
            let sql = format!("INSERT INTO bench_raw (id, payload) VALUES ('{}', 'customer-sized payload {n}')", uuid::Uuid::now_v7());
            txn.execute_unprepared(&sql).await.map_err(|e| e.to_string())?;
            txn.commit().await.map_err(|e| e.to_string())
        }
    })
    .await;
    drop(dir);
    Ok(measured)
}
