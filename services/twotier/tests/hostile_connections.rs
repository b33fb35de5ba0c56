//! Connections are a bounded resource that silent or idle clients cannot
//! hoard: thousands of sockets that never speak do not lock real clients
//! out, silent connections end at the handshake timeout, idle ones at the
//! idle timeout (never while a call runs), and at the cap only a newcomer
//! that finds every connection busy is refused.

mod raw_h2;

use std::io::Read;
use std::time::Duration;

use tokio::net::TcpStream;
use tonic::transport::Channel;
use twotier_partnership::PartnershipService;
use twotier_platform::auth::Role;
use twotier_platform::channel::{ChannelOptions, ClientChannels};
use twotier_proto::partnership::ListProviderListingsRequest;
use twotier_proto::partnership::provider_listing_service_client::ProviderListingServiceClient;
use twotier_testkit::{Bearer, ChaosProxy, RunningServer, TestDatabase, wait_until};

use raw_h2::RawConnection;

fn token(tenant: &str) -> String {
    twotier_testkit::token("admin", tenant, &[Role::GlobalAdmin])
}

async fn list_listings(channel: Channel, tenant: &str) -> Result<(), tonic::Status> {
    ProviderListingServiceClient::with_interceptor(channel, Bearer::new(&token(tenant)))
        .list_provider_listings(ListProviderListingsRequest::default())
        .await
        .map(|_| ())
}

async fn partnership(db: &TestDatabase, env: &[(&str, &str)]) -> RunningServer {
    twotier_testkit::start_service::<PartnershipService>(db, env).await
}

/// A TCP connection that sends nothing, checked without blocking.
struct SilentSocket(std::net::TcpStream);

impl SilentSocket {
    async fn connect(addr: std::net::SocketAddr) -> Self {
        let socket = TcpStream::connect(addr).await.expect("connect");
        // Leaves tokio non-blocking, so reads below never wait.
        Self(socket.into_std().expect("std socket"))
    }

    /// Whether the server has closed it (whatever it sent before, such as
    /// its HTTP/2 settings, is drained).
    fn closed_by_server(&mut self) -> bool {
        let mut buffer = [0u8; 1024];
        loop {
            match self.0.read(&mut buffer) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => return false,
                Err(_) => return true,
            }
        }
    }
}

fn count_closed(sockets: &mut [SilentSocket]) -> usize {
    let mut closed = 0;
    for socket in sockets {
        if socket.closed_by_server() {
            closed += 1;
        }
    }
    closed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_idle_sockets_do_not_lock_out_another_tenant() {
    const SOCKETS: usize = 2000;
    const MAX_CONNECTIONS: usize = 32;
    let db = TestDatabase::new("partnership").await;
    let server = partnership(
        &db,
        &[
            ("TWOTIER_MAX_CONNECTIONS", "32"),
            // Long enough that only the cap, not the timeout, can close them.
            ("TWOTIER_HANDSHAKE_TIMEOUT", "5m"),
        ],
    )
    .await;
    let mut sockets = Vec::with_capacity(SOCKETS);
    for _ in 0..SOCKETS {
        sockets.push(SilentSocket::connect(server.addr).await);
    }

    // Tenant B connects through a proxy that counts its connections.
    let counted = ChaosProxy::start(server.addr).await;
    let channel = ClientChannels::plaintext()
        .connect_lazy(
            &format!("http://{}", counted.addr),
            ChannelOptions::default(),
        )
        .expect("channel");
    for _ in 0..10 {
        tokio::time::timeout(
            Duration::from_secs(5),
            list_listings(channel.clone(), "tenant-b"),
        )
        .await
        .expect("tenant B is answered promptly")
        .expect("tenant B is served");
    }
    wait_until(
        "all but the capped number of idle sockets are closed",
        Duration::from_secs(20),
        || {
            let closed = count_closed(&mut sockets);
            async move { closed >= SOCKETS - MAX_CONNECTIONS }
        },
    )
    .await;

    // More silent sockets make room among themselves, not by closing the
    // connection tenant B has used.
    let mut more = Vec::new();
    for _ in 0..200 {
        more.push(SilentSocket::connect(server.addr).await);
    }
    wait_until(
        "the newer idle sockets are closed too",
        Duration::from_secs(20),
        || {
            let closed = count_closed(&mut more);
            async move { closed >= 200 - MAX_CONNECTIONS }
        },
    )
    .await;
    list_listings(channel, "tenant-b")
        .await
        .expect("tenant B is still served");
    assert_eq!(
        counted.accepted(),
        1,
        "tenant B kept its one connection throughout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_call_are_closed_after_the_handshake_timeout() {
    let db = TestDatabase::new("partnership").await;
    let server = partnership(&db, &[("TWOTIER_HANDSHAKE_TIMEOUT", "300ms")]).await;
    let mut sockets = Vec::new();
    for _ in 0..100 {
        sockets.push(SilentSocket::connect(server.addr).await);
    }
    // An HTTP/2 handshake alone does not count as using the connection.
    let handshaken = RawConnection::open(server.addr).await;

    wait_until(
        "silent connections are closed",
        Duration::from_secs(10),
        || {
            let closed = count_closed(&mut sockets);
            let handshaken_closed = handshaken.is_closed();
            async move { closed == 100 && handshaken_closed }
        },
    )
    .await;
    list_listings(server.channel(), "tenant-b")
        .await
        .expect("real clients are still served");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connection_is_closed_after_the_idle_timeout_but_never_during_a_call() {
    let db = TestDatabase::new("partnership").await;
    let server = partnership(
        &db,
        &[
            ("TWOTIER_CONNECTION_IDLE_TIMEOUT", "1s"),
            ("TWOTIER_REQUEST_RECEIVE_TIMEOUT", "3s"),
        ],
    )
    .await;
    let mut connection = RawConnection::open(server.addr).await;
    let served = connection.complete_call(&token("tenant-a")).await;
    assert_eq!(raw_h2::grpc_status(&served), None, "{:?}", served.headers());

    // A call in flight for several idle timeouts keeps the connection: its
    // answer (the receive deadline) comes back on it.
    let silent = connection.silent_call(&token("tenant-a")).await;
    let answer = tokio::time::timeout(Duration::from_secs(10), silent.response)
        .await
        .expect("the call is answered")
        .expect("on the same connection");
    assert_eq!(raw_h2::grpc_status(&answer), Some("4"));
    drop(answer);

    wait_until(
        "the idle connection is closed",
        Duration::from_secs(10),
        || {
            let closed = connection.is_closed();
            async move { closed }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_a_newcomer_is_refused_only_when_every_connection_is_busy() {
    let db = TestDatabase::new("partnership").await;
    let server = partnership(
        &db,
        &[
            ("TWOTIER_MAX_CONNECTIONS", "2"),
            ("TWOTIER_REQUEST_RECEIVE_TIMEOUT", "3s"),
        ],
    )
    .await;
    let mut busy = Vec::new();
    let mut calls = Vec::new();
    for _ in 0..2 {
        let mut connection = RawConnection::open(server.addr).await;
        calls.push(connection.silent_call(&token("tenant-a")).await);
        // Answered, so the server holds the silent call before it.
        connection.complete_call(&token("tenant-a")).await;
        busy.push(connection);
    }

    let mut newcomer = SilentSocket::connect(server.addr).await;
    wait_until("the newcomer is refused", Duration::from_secs(5), || {
        let closed = newcomer.closed_by_server();
        async move { closed }
    })
    .await;
    for call in calls {
        let answer = tokio::time::timeout(Duration::from_secs(10), call.response)
            .await
            .expect("the busy connection's call is answered")
            .expect("on its connection, which was kept");
        assert_eq!(raw_h2::grpc_status(&answer), Some("4"));
    }
}

/// Health and reflection need no token, so a stream of theirs must not
/// keep a connection busy: an anonymous `Health/Watch`, which never ends by
/// itself, loses its connection at the idle timeout like a silent one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anonymous_health_watch_does_not_hold_its_connection_past_the_idle_timeout() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;
    let db = TestDatabase::new("partnership").await;
    // The handshake timeout far beyond the wait: the watch ends at the
    // idle timeout, as a connection that spoke and went idle.
    let server = partnership(
        &db,
        &[
            ("TWOTIER_CONNECTION_IDLE_TIMEOUT", "1s"),
            ("TWOTIER_HANDSHAKE_TIMEOUT", "60s"),
        ],
    )
    .await;
    let channel = Channel::from_shared(format!("http://{}", server.addr))
        .expect("address")
        .connect()
        .await
        .expect("connect");
    let mut watch = HealthClient::new(channel)
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("watch")
        .into_inner();
    watch
        .message()
        .await
        .expect("the first status")
        .expect("sent");
    let ended = tokio::time::timeout(Duration::from_secs(8), async {
        while let Ok(Some(_)) = watch.message().await {}
    })
    .await;
    assert!(ended.is_ok(), "the watch still holds its connection");
}
