//! Idle memory: each service started as its own process (`twotier run
//! --only <service>`, the `twotier` binary built beside this one), left
//! idle, then its resident set read from /proc.

use std::time::Duration;

use twotier_testkit::free_port;

use crate::Error;
use crate::process::{SERVICES, service_command, twotier_binary};

/// Resident KiB of each idle service process.
pub async fn idle_rss() -> Result<Vec<(&'static str, u64)>, Error> {
    let dir = tempfile::tempdir()?;
    let binary = twotier_binary()?;
    let ports: Vec<u16> = SERVICES.iter().map(|_| free_port()).collect();
    let port_of = |service: &str| {
        SERVICES
            .iter()
            .position(|s| *s == service)
            .map_or(0, |i| ports[i])
    };
    let mut children = Vec::new();
    for service in SERVICES {
        let mut command =
            service_command(&binary, service, dir.path(), port_of(service), |upstream| {
                format!("http://127.0.0.1:{}", port_of(upstream))
            });
        children.push((service, command.spawn()?));
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
