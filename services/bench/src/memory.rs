//! Idle memory: each service started as its own process (`twotier run
//! --only <service>`, the `twotier` binary built beside this one), left
//! idle, then its resident set read from /proc.

use std::process::Stdio;
use std::time::Duration;

/// Resident KiB of each idle service process.
pub async fn idle_rss() -> Result<Vec<(&'static str, u64)>, Box<dyn std::error::Error + Send + Sync>>
{
    let dir = tempfile::tempdir()?;
    let exe = std::env::current_exe()?.with_file_name("twotier");
    if !exe.exists() {
        return Err(format!(
            "{} is missing: build it with `cargo build --release -p twotier` first",
            exe.display()
        )
        .into());
    }
    let mut children = Vec::new();
    let ports: Vec<u16> = (0..4)
        .map(|_| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
        })
        .collect::<Result<_, _>>()?;
    let services = ["partnership", "customer", "subscription", "notification"];
    for (i, service) in services.iter().enumerate() {
        let mut command = tokio::process::Command::new(&exe);
        command
            .args(["run", "--only", service])
            .env("TWOTIER_DATA_DIR", dir.path())
            .env(
                "TWOTIER_JWT_HS256_SECRET",
                "benchmark-identity-provider-secret-0123456789",
            )
            .env("RUST_LOG", "warn")
            .env(
                format!("TWOTIER_{}_LISTEN_ADDR", service.to_uppercase()),
                format!("127.0.0.1:{}", ports[i]),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        for (j, upstream) in services.iter().enumerate() {
            command.env(
                format!("TWOTIER_{}_ENDPOINT", upstream.to_uppercase()),
                format!("http://127.0.0.1:{}", ports[j]),
            );
        }
        children.push((*service, command.spawn()?));
    }
    // Started, migrated, subscribed, then idle.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let mut resident = Vec::new();
    for (service, child) in &children {
        let pid = child.id().ok_or("process exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kib = status
            .lines()
            .find(|line| line.starts_with("VmRSS:"))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0);
        resident.push((*service, kib));
    }
    Ok(resident)
}
