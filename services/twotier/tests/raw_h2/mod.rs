//! Calls over a raw HTTP/2 connection (the `h2` crate), for clients no
//! gRPC library would be: ones that send headers and never a body, or that
//! connect and never call.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// The method the raw calls go to: any authenticated caller may list.
pub const LIST_LISTINGS: &str =
    "/twotier.partnership.v1.ProviderListingService/ListProviderListings";
/// An empty `ListProviderListingsRequest` as a gRPC message: no
/// compression, zero length.
const EMPTY_MESSAGE: &[u8] = &[0, 0, 0, 0, 0];

/// One client HTTP/2 connection.
pub struct RawConnection {
    addr: SocketAddr,
    client: h2::client::SendRequest<Bytes>,
    /// Ends when the connection does (e.g. the server closed it).
    driver: JoinHandle<()>,
}

/// A call whose body is never sent; dropping it resets the stream.
pub struct SilentCall {
    pub response: h2::client::ResponseFuture,
    _body: h2::SendStream<Bytes>,
}

impl RawConnection {
    /// Connects and completes the HTTP/2 handshake, sending no call.
    pub async fn open(addr: SocketAddr) -> Self {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let (client, connection) = h2::client::handshake(tcp).await.expect("h2 handshake");
        let driver = tokio::spawn(async move {
            let _ = connection.await;
        });
        Self {
            addr,
            client,
            driver,
        }
    }

    /// Whether the connection has ended.
    pub fn is_closed(&self) -> bool {
        self.driver.is_finished()
    }

    fn request(&self, token: &str) -> http::Request<()> {
        http::Request::builder()
            .method(http::Method::POST)
            .uri(format!("http://{}{LIST_LISTINGS}", self.addr))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .header("authorization", format!("Bearer {token}"))
            .body(())
            .expect("request")
    }

    async fn ready(&mut self) {
        self.client = self.client.clone().ready().await.expect("stream capacity");
    }

    /// Sends a call's headers with `token` and nothing else.
    pub async fn silent_call(&mut self, token: &str) -> SilentCall {
        self.ready().await;
        let (response, body) = self
            .client
            .send_request(self.request(token), false)
            .expect("send headers");
        SilentCall {
            response,
            _body: body,
        }
    }

    /// Sends a whole call with `token` and returns its response headers.
    pub async fn complete_call(&mut self, token: &str) -> http::Response<h2::RecvStream> {
        self.ready().await;
        let (response, mut body) = self
            .client
            .send_request(self.request(token), false)
            .expect("send headers");
        body.send_data(Bytes::from_static(EMPTY_MESSAGE), true)
            .expect("send body");
        tokio::time::timeout(Duration::from_secs(10), response)
            .await
            .expect("the complete call is answered")
            .expect("response")
    }
}

/// The `grpc-status` of a trailers-only response (an error); `None` for a
/// response on its way to OK.
pub fn grpc_status<B>(response: &http::Response<B>) -> Option<&str> {
    response
        .headers()
        .get("grpc-status")
        .and_then(|value| value.to_str().ok())
}
