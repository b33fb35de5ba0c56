//! Services run as processes of their own from the `twotier` binary built
//! beside this one, as a deployment runs them.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::Error;

/// The services, in dependency order.
pub const SERVICES: [&str; 4] = ["partnership", "customer", "subscription", "notification"];

/// The `twotier` binary beside this executable.
pub fn twotier_binary() -> Result<PathBuf, Error> {
    let binary = std::env::current_exe()?.with_file_name("twotier");
    if !binary.exists() {
        return Err(format!(
            "{} is missing: build it with `cargo build --release -p twotier` first",
            binary.display()
        )
        .into());
    }
    Ok(binary)
}

/// `twotier run --only <service>` on `data_dir` (SQLite files), listening
/// on loopback `port`, with each upstream at `endpoint(upstream)`; killed
/// when dropped.
pub fn service_command(
    binary: &Path,
    service: &str,
    data_dir: &Path,
    port: u16,
    endpoint: impl Fn(&str) -> String,
) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(binary);
    command
        .args(["run", "--only", service])
        .env("TWOTIER_DATA_DIR", data_dir)
        .env(
            "TWOTIER_JWT_HS256_SECRET",
            "benchmark-identity-provider-secret-0123456789",
        )
        .env("RUST_LOG", "warn")
        .env(
            format!("TWOTIER_{}_LISTEN_ADDR", service.to_uppercase()),
            format!("127.0.0.1:{port}"),
        )
        // Served (it is part of running), but on a free port: the fixed
        // metrics port may be taken by a system running beside the bench.
        .env("TWOTIER_METRICS_ADDR", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    for upstream in SERVICES.iter().filter(|other| **other != service) {
        command.env(
            format!("TWOTIER_{}_ENDPOINT", upstream.to_uppercase()),
            endpoint(upstream),
        );
    }
    command
}
