//! Accepted sockets as the server sees them: registered with
//! [`Connections`] and ended from the inside when it closes them.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tonic::transport::server::Connected;

use super::{Connection, ConnectionInfo, Connections};

/// How long accepting pauses when the process is out of file descriptors,
/// so the accept loop does not spin while nothing can be accepted.
const OUT_OF_DESCRIPTORS_PAUSE: Duration = Duration::from_millis(100);

/// An accepted TCP connection that ends (reads and writes fail) once its
/// registry closes it; dropping it unregisters it.
pub struct TrackedStream {
    inner: TcpStream,
    connection: Arc<Connection>,
    connections: Arc<Connections>,
    remote_addr: Option<std::net::SocketAddr>,
}

impl TrackedStream {
    fn check_open(&self, cx: &Context<'_>) -> io::Result<()> {
        // Registered before the check, so a close between the two still
        // wakes this task.
        self.connection.waker.register(cx.waker());
        if self.connection.is_closed() {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "connection closed by the server (idle, silent or evicted)",
            ));
        }
        Ok(())
    }
}

impl Drop for TrackedStream {
    fn drop(&mut self) {
        self.connections.forget(self.connection.id);
    }
}

impl Connected for TrackedStream {
    type ConnectInfo = ConnectionInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        ConnectionInfo {
            remote_addr: self.remote_addr,
            connection: Arc::clone(&self.connection),
        }
    }
}

impl AsyncRead for TrackedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check_open(cx)?;
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for TrackedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check_open(cx)?;
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.check_open(cx)?;
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The connections `listener` accepts, registered with `connections`.
/// Newcomers that find every connection busy are closed at once. Accept
/// errors never end the stream: a peer that reset before being accepted is
/// skipped, and running out of file descriptors pauses accepting briefly.
pub fn incoming(
    listener: TcpListener,
    connections: Arc<Connections>,
) -> impl Stream<Item = Result<TrackedStream, io::Error>> + Send + 'static {
    futures::stream::unfold(
        (listener, connections),
        |(listener, connections)| async move {
            loop {
                let (socket, remote_addr) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) if is_peer_error(&error) => continue,
                    Err(error) => {
                        tracing::warn!(%error, "cannot accept connections; pausing");
                        tokio::time::sleep(OUT_OF_DESCRIPTORS_PAUSE).await;
                        continue;
                    }
                };
                let Some(connection) = connections.admit() else {
                    tracing::warn!(
                        %remote_addr,
                        "connection refused: every connection is busy at the connection limit"
                    );
                    continue;
                };
                // gRPC messages are small and latency-bound.
                let _ = socket.set_nodelay(true);
                let stream = TrackedStream {
                    inner: socket,
                    connection,
                    connections: Arc::clone(&connections),
                    remote_addr: Some(remote_addr),
                };
                return Some((Ok(stream), (listener, connections)));
            }
        },
    )
}

fn is_peer_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}
