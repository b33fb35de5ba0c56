//! Loopback ports for servers a test starts in another process.
//!
//! `bind(127.0.0.1:0)` draws from the kernel's ephemeral range, the range
//! every outgoing connection's local port is drawn from too. A port freed
//! for a child process to bind later can meanwhile become the local port
//! of some connection on the machine (a service calling its upstream, a
//! client of a test running beside it), and the child then fails to start.
//! Ports are therefore drawn below that range, at random, each handed out
//! once per test process, and checked free when handed out.

use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::{Mutex, PoisonError};

use rand::Rng;

/// The lowest port drawn from: above the well-known and common service ports.
const FLOOR: u16 = 20_000;

/// Ports already handed out by this process.
static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A loopback port nothing listens on now, for a server started later.
pub fn free_port() -> u16 {
    let ceiling = ephemeral_range_start();
    if ceiling > FLOOR {
        let mut handed_out = HANDED_OUT.lock().unwrap_or_else(PoisonError::into_inner);
        let handed_out = handed_out.get_or_insert_with(HashSet::new);
        let mut random = rand::rng();
        for _ in 0..1_000 {
            let port = random.random_range(FLOOR..ceiling);
            if !handed_out.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
                handed_out.insert(port);
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
        let distinct: HashSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), ports.len(), "no port handed out twice");
        for port in ports {
            assert!(port < ephemeral_range_start(), "{port} is ephemeral");
            TcpListener::bind(("127.0.0.1", port)).expect("the port is free");
        }
    }
}
