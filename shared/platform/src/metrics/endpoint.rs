//! The Prometheus scrape endpoint: `GET /metrics` in the text exposition
//! format, on its own port so that it needs neither gRPC nor a token.

use std::net::SocketAddr;

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use prometheus::{Encoder, TextEncoder};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Where a process serves `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsEndpoint {
    /// Not served (`TWOTIER_METRICS_ADDR=off`).
    Off,
    /// Served on this address.
    On(SocketAddr),
}

/// Binds `addr` and serves the metrics of `registry` until `shutdown` is
/// cancelled. Returns the address really bound (port 0 becomes the port the
/// kernel chose).
pub async fn serve_prometheus(
    addr: SocketAddr,
    registry: prometheus::Registry,
    shutdown: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let registry = registry.clone();
            async move { scrape(&registry) }
        }),
    );
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "metrics endpoint failed");
        }
    });
    Ok(bound)
}

fn scrape(registry: &prometheus::Registry) -> axum::response::Response {
    let encoder = TextEncoder::new();
    let mut body = Vec::new();
    match encoder.encode(&registry.gather(), &mut body) {
        Ok(()) => (
            [(header::CONTENT_TYPE, encoder.format_type().to_owned())],
            body,
        )
            .into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}
