//! A TCP proxy that injects network faults between a service and what it
//! talks to (its database, another service): added latency, and cut
//! connections that are refused until restored.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Copy)]
enum Mode {
    Pass,
    /// What goes towards the target waits this long.
    Delay(Duration),
    /// What goes either way waits this long.
    Lag(Duration),
    Refuse,
}

struct State {
    mode: Mode,
    /// Bytes sent towards the target so far.
    forwarded: u64,
    /// Connections accepted so far.
    accepted: u64,
    /// Cancelled to drop every open connection.
    generation: CancellationToken,
}

/// A fault-injecting TCP proxy on a loopback port.
pub struct ChaosProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: CancellationToken,
}

impl ChaosProxy {
    /// Proxies `127.0.0.1:<ephemeral>` to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let state = Arc::new(Mutex::new(State {
            mode: Mode::Pass,
            forwarded: 0,
            accepted: 0,
            generation: CancellationToken::new(),
        }));
        let stop = CancellationToken::new();
        tokio::spawn(accept_loop(listener, target, state.clone(), stop.clone()));
        Self { addr, state, stop }
    }

    /// Delays everything sent towards the target by `delay`.
    pub fn delay(&self, delay: Duration) {
        self.lock().mode = Mode::Delay(delay);
    }

    /// Delays everything in both directions by `delay`: a slow link, over
    /// which what the target pushes (a followed event log) arrives late too.
    pub fn lag(&self, delay: Duration) {
        self.lock().mode = Mode::Lag(delay);
    }

    /// Drops every open connection and refuses new ones until [`restore`].
    ///
    /// [`restore`]: ChaosProxy::restore
    pub fn cut(&self) {
        let mut state = self.lock();
        state.mode = Mode::Refuse;
        state.generation.cancel();
        state.generation = CancellationToken::new();
    }

    /// Bytes sent towards the target so far: a call is in flight once this
    /// grows.
    pub fn forwarded(&self) -> u64 {
        self.lock().forwarded
    }

    /// Connections accepted so far: a client that reconnected shows here.
    pub fn accepted(&self) -> u64 {
        self.lock().accepted
    }

    /// Forwards normally again.
    pub fn restore(&self) {
        self.lock().mode = Mode::Pass;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        self.stop.cancel();
        self.lock().generation.cancel();
    }
}

async fn accept_loop(
    listener: TcpListener,
    target: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((client, _)) = accepted else { continue };
        let (mode, generation) = {
            let mut state = state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            state.accepted += 1;
            (state.mode, state.generation.clone())
        };
        if matches!(mode, Mode::Refuse) {
            drop(client);
            continue;
        }
        let state = state.clone();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(target).await else {
                return;
            };
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            tokio::select! {
                () = generation.cancelled() => {},
                () = pump(client_read, server_write, state.clone(), true) => {},
                () = pump(server_read, client_write, state, false) => {},
            }
        });
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    state: Arc<Mutex<State>>,
    towards_target: bool,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        let mode = {
            let mut state = state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if towards_target {
                state.forwarded += read as u64;
            }
            state.mode
        };
        match mode {
            Mode::Delay(delay) if towards_target => tokio::time::sleep(delay).await,
            Mode::Lag(delay) => tokio::time::sleep(delay).await,
            _ => {}
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}
