//! Test support shared by every service's integration tests: databases,
//! services on ephemeral ports (alone or as a whole system), tokens,
//! flows every test starts from, and bounded waits.
//!
//! Tests run against SQLite always; when `TWOTIER_TEST_DATABASE_URL` names a
//! PostgreSQL server (e.g. `postgres://postgres@127.0.0.1:5432/postgres`),
//! every [`TestDatabase`] is a fresh PostgreSQL database there instead.

mod audit;
mod database;
pub mod dynamic;
pub mod flows;
mod jwks;
pub mod log;
pub mod pki;
pub mod plans;
mod ports;
mod proxy;
mod rows;
pub mod secrets;
mod server;
pub mod smtp;
pub mod system;
mod tokens;

pub use audit::audit_records;
pub use database::{
    POSTGRES_URL_VAR, TestDatabase, postgres_configured, row_counts, skip_without_postgres,
};
pub use jwks::JwksServer;
pub use ports::free_port;
pub use proxy::ChaosProxy;
pub use rows::read_every_way;
pub use server::{RunningServer, channel, env, settings, start_service, start_service_with_env};
pub use smtp::SmtpSink;
pub use system::System;
pub use tokens::*;
pub use twotier_platform::auth::Bearer;

use std::future::Future;
use std::time::Duration;

/// Waits until `condition` holds, checking every 20 ms, for at most
/// `deadline`; panics with `what` if it never does.
pub async fn wait_until<F, Fut>(what: &str, deadline: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = tokio::time::Instant::now();
    loop {
        if condition().await {
            return;
        }
        assert!(
            started.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asserts that `result` failed with `code` and `google.rpc.ErrorInfo.reason`
/// `reason`; returns the status for further checks.
#[track_caller]
pub fn assert_error<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    code: tonic::Code,
    reason: &str,
) -> tonic::Status {
    let status = result.expect_err("call should fail");
    assert_eq!(status.code(), code, "unexpected code: {status:?}");
    assert_eq!(
        twotier_platform::upstream::reason_of(&status).as_deref(),
        Some(reason),
        "unexpected reason: {status:?}"
    );
    status
}

/// The fields named by a status's `BadRequest` violations.
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}
