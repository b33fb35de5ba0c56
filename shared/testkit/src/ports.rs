//! Loopback ports for servers a test starts in another process.
//!
//! `bind(127.0.0.1:0)` draws from the kernel's ephemeral range, the range
//! every outgoing connection's local port is drawn from too. A port freed
//! for a child process to bind later can meanwhile become the local port
//! of some connection on the machine (a service calling its upstream, a
//! client of a test running beside it), and the child then fails to start.
//! Ports are therefore drawn below that range, at random, and checked
//! free when handed out.
//!
//! Tests run in processes of their own (nextest), so a port checked free
//! by one can be drawn and handed out by another before the first's child
//! binds it, and one of the two children fails to start. A port is
//! therefore reserved across processes before it is handed out: its lock
//! file, locked by the process that drew it until that process ends.

use std::collections::HashMap;
use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use rand::Rng;

/// The lowest port drawn from: above the well-known and common service ports.
const FLOOR: u16 = 20_000;

/// Ports handed out by this process, each with its locked lock file.
static HANDED_OUT: Mutex<Option<HashMap<u16, File>>> = Mutex::new(None);

/// A loopback port nothing listens on now, for a server started later.
pub fn free_port() -> u16 {
    let ceiling = ephemeral_range_start();
    if ceiling > FLOOR {
        let mut handed_out = HANDED_OUT.lock().unwrap_or_else(PoisonError::into_inner);
        let handed_out = handed_out.get_or_insert_with(HashMap::new);
        let mut random = rand::rng();
        for _ in 0..1_000 {
            let port = random.random_range(FLOOR..ceiling);
            if handed_out.contains_key(&port) {
                continue;
            }
            let Some(lock) = reserve(port) else {
                continue;
            };
            if TcpListener::bind(("127.0.0.1", port)).is_ok() {
                handed_out.insert(port, lock);
                return port;
            }
        }
    }
    // No room below the ephemeral range: the kernel's choice, racy as above.
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// The lock file of `port`, locked by this process; `None` if another
/// process holds it (or the file cannot be had, which a test with no
/// writable temporary directory cannot help).
fn reserve(port: u16) -> Option<File> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path(port))
        .ok()?;
    file.try_lock().ok()?;
    Some(file)
}

fn lock_path(port: u16) -> PathBuf {
    let dir = std::env::temp_dir().join("twotier-test-ports");
    // Racing another process to create it is fine: either made it.
    let _ = std::fs::create_dir_all(&dir);
    dir.join(format!("{port}.lock"))
}

/// The first port of the kernel's ephemeral range (Linux's default where
/// it cannot be read).
fn ephemeral_range_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_is_below_the_ephemeral_range_free_and_handed_out_once() {
        let ports: Vec<u16> = (0..200).map(|_| free_port()).collect();
        let distinct: std::collections::HashSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), ports.len(), "no port handed out twice");
        for port in ports {
            assert!(port < ephemeral_range_start(), "{port} is ephemeral");
            TcpListener::bind(("127.0.0.1", port)).expect("the port is free");
        }
    }

    #[test]
    fn a_port_reserved_by_another_process_is_not_handed_out() {
        let port = free_port();
        // The lock another process would hold (a lock on a file opened
        // apart conflicts within one process as across two).
        let theirs = File::options()
            .write(true)
            .open(lock_path(port))
            .expect("the port's lock file");
        assert!(theirs.try_lock().is_err(), "this process holds {port}");
        drop(
            HANDED_OUT
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_mut()
                .and_then(|ports| ports.remove(&port)),
        );
        theirs
            .try_lock()
            .expect("released once this process lets go");
        assert!(reserve(port).is_none(), "{port} is reserved elsewhere");
        drop(theirs);
        assert!(reserve(port).is_some(), "{port} is free again");
    }
}
