//! Connections as a resource: a process keeps at most `max_connections`
//! open, closes those that never send a call within the handshake timeout
//! and those without calls for the idle timeout, and, when full, makes room
//! for a newcomer by closing an idle connection rather than refusing it, so
//! thousands of silent sockets cannot lock real clients out.
//!
//! Every accepted socket is wrapped in a [`TrackedStream`] registered here;
//! its [`ConnectionInfo`] travels in each request's extensions, where
//! [`ActiveStreamsLayer`] counts the calls in flight on it.

mod layer;
mod stream;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::task::AtomicWaker;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use layer::{ActiveStreamsLayer, mark_authenticated};
pub use stream::{TrackedStream, incoming};

/// Limits on connections, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Open connections at most.
    pub max_connections: usize,
    /// Calls one connection may carry at once.
    pub max_concurrent_streams: u32,
    /// A connection without calls for this long is closed.
    pub idle_timeout: Duration,
    /// A connection that has not sent a call this long after it was
    /// accepted is closed.
    pub handshake_timeout: Duration,
    /// HTTP/2 ping interval.
    pub http2_keepalive_interval: Duration,
    /// HTTP/2 ping timeout.
    pub http2_keepalive_timeout: Duration,
}

impl From<&crate::config::Settings> for ConnectionLimits {
    fn from(settings: &crate::config::Settings) -> Self {
        Self {
            max_connections: settings.max_connections.max(1),
            max_concurrent_streams: settings.max_concurrent_streams.max(1),
            idle_timeout: settings.connection_idle_timeout,
            handshake_timeout: settings.handshake_timeout,
            http2_keepalive_interval: settings.http2_keepalive_interval,
            http2_keepalive_timeout: settings.http2_keepalive_timeout,
        }
    }
}

/// What a request knows about the connection it arrived on.
#[derive(Clone)]
pub struct ConnectionInfo {
    /// The peer's address.
    pub remote_addr: Option<SocketAddr>,
    pub(crate) connection: Arc<Connection>,
}

impl std::fmt::Debug for ConnectionInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionInfo")
            .field("remote_addr", &self.remote_addr)
            .field("id", &self.connection.id)
            .finish()
    }
}

/// How much a connection has proven, in the order connections are closed
/// to make room: silent ones first, then ones that never presented a valid
/// token, then the longest idle of the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Standing {
    Silent,
    Anonymous,
    Authenticated,
}

/// The shared state of one open connection.
pub(crate) struct Connection {
    id: u64,
    accepted_at: Instant,
    active_streams: AtomicUsize,
    sent_a_call: AtomicBool,
    authenticated: AtomicBool,
    /// Milliseconds after `accepted_at` when the last call ended.
    idle_since_ms: AtomicU64,
    closed: AtomicBool,
    /// Wakes the connection's task so its next read sees `closed`.
    waker: AtomicWaker,
}

impl Connection {
    fn standing(&self) -> Standing {
        if self.authenticated.load(Ordering::Acquire) {
            Standing::Authenticated
        } else if self.sent_a_call.load(Ordering::Acquire) {
            Standing::Anonymous
        } else {
            Standing::Silent
        }
    }

    fn idle_since(&self) -> Instant {
        self.accepted_at + Duration::from_millis(self.idle_since_ms.load(Ordering::Acquire))
    }

    fn is_idle(&self) -> bool {
        self.active_streams.load(Ordering::Acquire) == 0
    }

    pub(crate) fn call_started(&self) {
        self.sent_a_call.store(true, Ordering::Release);
        self.active_streams.fetch_add(1, Ordering::AcqRel);
    }

    /// A call that is not counted as in flight (see
    /// [`layer::ActiveStreamsLayer`]) still shows the connection spoke: it
    /// is closed at the idle timeout, not the handshake timeout.
    pub(crate) fn spoke(&self) {
        self.sent_a_call.store(true, Ordering::Release);
        let elapsed = u64::try_from(self.accepted_at.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.idle_since_ms.fetch_max(elapsed, Ordering::AcqRel);
    }

    pub(crate) fn call_ended(&self) {
        // Idle time is stamped before the count drops, so a reaper that sees
        // no active calls never sees a stale stamp.
        let elapsed = u64::try_from(self.accepted_at.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.idle_since_ms.store(elapsed, Ordering::Release);
        self.active_streams.fetch_sub(1, Ordering::AcqRel);
    }

    pub(crate) fn authenticated(&self) {
        self.authenticated.store(true, Ordering::Release);
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.waker.wake();
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

/// The open connections of one server.
pub struct Connections {
    limits: ConnectionLimits,
    live: Mutex<HashMap<u64, Arc<Connection>>>,
    next_id: AtomicU64,
}

impl Connections {
    /// A registry enforcing `limits`; the idle and handshake timeouts are
    /// enforced by [`Connections::reap`], which runs until `stop`.
    pub fn new(limits: ConnectionLimits, stop: CancellationToken) -> Arc<Self> {
        let connections = Arc::new(Self {
            limits,
            live: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
        });
        tokio::spawn(Arc::clone(&connections).reap(stop));
        connections
    }

    /// Open connections.
    pub fn len(&self) -> usize {
        self.live().len()
    }

    /// Whether no connection is open.
    pub fn is_empty(&self) -> bool {
        self.live().is_empty()
    }

    fn live(&self) -> MutexGuard<'_, HashMap<u64, Arc<Connection>>> {
        // The map stays consistent whatever panicked while holding it.
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a new connection, closing an idle one when at the cap;
    /// `None` when every open connection is busy.
    fn admit(&self) -> Option<Arc<Connection>> {
        let mut live = self.live();
        if live.len() >= self.limits.max_connections {
            let victim = live
                .values()
                .filter(|connection| connection.is_idle())
                .min_by_key(|connection| (connection.standing(), connection.idle_since()))
                .map(|connection| connection.id)?;
            if let Some(evicted) = live.remove(&victim) {
                tracing::debug!(
                    standing = ?evicted.standing(),
                    "connection limit reached; closing an idle connection"
                );
                evicted.close();
            }
        }
        let connection = Arc::new(Connection {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            accepted_at: Instant::now(),
            active_streams: AtomicUsize::new(0),
            sent_a_call: AtomicBool::new(false),
            authenticated: AtomicBool::new(false),
            idle_since_ms: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        });
        live.insert(connection.id, Arc::clone(&connection));
        Some(connection)
    }

    fn forget(&self, id: u64) {
        self.live().remove(&id);
    }

    /// Closes connections past their handshake or idle timeout, checking
    /// a few times per the shorter timeout.
    async fn reap(self: Arc<Self>, stop: CancellationToken) {
        let shortest = self.limits.handshake_timeout.min(self.limits.idle_timeout);
        let every = (shortest / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticks.tick() => {},
            }
            let now = Instant::now();
            let mut live = self.live();
            live.retain(|_, connection| {
                let expired = if connection.standing() == Standing::Silent {
                    now.duration_since(connection.accepted_at) >= self.limits.handshake_timeout
                } else {
                    connection.is_idle()
                        && now.duration_since(connection.idle_since()) >= self.limits.idle_timeout
                };
                if expired {
                    connection.close();
                }
                !expired
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_connections: usize) -> ConnectionLimits {
        ConnectionLimits {
            max_connections,
            max_concurrent_streams: 100,
            idle_timeout: Duration::from_secs(60),
            handshake_timeout: Duration::from_secs(10),
            http2_keepalive_interval: Duration::from_secs(60),
            http2_keepalive_timeout: Duration::from_secs(20),
        }
    }

    #[tokio::test]
    async fn at_the_cap_silent_connections_make_room_before_authenticated_ones() {
        let connections = Connections::new(limits(3), CancellationToken::new());
        let trusted = connections.admit().unwrap();
        trusted.call_started();
        trusted.authenticated();
        trusted.call_ended();
        let anonymous = connections.admit().unwrap();
        anonymous.call_started();
        anonymous.call_ended();
        let silent = connections.admit().unwrap();

        let newcomer = connections.admit().unwrap();
        assert!(silent.is_closed());
        newcomer.call_started();
        let _another = connections.admit().unwrap();
        assert!(anonymous.is_closed());
        assert!(!trusted.is_closed());
        assert!(!newcomer.is_closed());
        assert_eq!(connections.len(), 3);
    }

    #[tokio::test]
    async fn busy_connections_are_never_evicted() {
        let connections = Connections::new(limits(1), CancellationToken::new());
        let busy = connections.admit().unwrap();
        busy.call_started();
        assert!(connections.admit().is_none(), "the newcomer is refused");
        assert!(!busy.is_closed());
        busy.call_ended();
        assert!(connections.admit().is_some());
        assert!(busy.is_closed());
    }

    #[tokio::test(start_paused = true)]
    async fn silent_and_idle_connections_expire() {
        let mut limits = limits(10);
        limits.handshake_timeout = Duration::from_secs(1);
        limits.idle_timeout = Duration::from_secs(5);
        let connections = Connections::new(limits, CancellationToken::new());
        let silent = connections.admit().unwrap();
        let used = connections.admit().unwrap();
        used.call_started();
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(silent.is_closed());
        assert!(!used.is_closed(), "a call in flight keeps it open");
        used.call_ended();
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert!(!used.is_closed());
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(used.is_closed());
        assert!(connections.is_empty());
    }
}
