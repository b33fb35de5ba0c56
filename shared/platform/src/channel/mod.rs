//! The one place that builds client channels to other twotier services
//! (synchronous calls, event log subscriptions, log heads, test clients):
//! `http://` endpoints are plaintext, `https://` endpoints are verified
//! against the configured CA and present the client certificate, if any.
//! An endpoint named by host name is balanced across every address the
//! name resolves to (see [`balanced`]).

mod balanced;

use std::sync::Arc;
use std::time::Duration;

use tonic::transport::{Channel, Endpoint};

use crate::config::Settings;
use crate::tls::{ClientTls, TlsError};

pub use balanced::{Resolve, dns};

/// How often a client pings a connection to another service.
const CLIENT_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
/// How long it waits for the answer before it drops the connection.
const CLIENT_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// A client channel that cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// The endpoint is not a valid URI, or tonic refused its TLS settings.
    #[error("endpoint {endpoint}: {source}")]
    Endpoint {
        /// The endpoint as configured.
        endpoint: String,
        /// Why.
        source: tonic::transport::Error,
    },
    /// An `https://` endpoint while no CA is configured to verify it.
    #[error(
        "endpoint {0} uses https but TWOTIER_TLS_CA_FILE is not set (point it at the CA that signed the service certificates, or at the system bundle)"
    )]
    NoCa(String),
    /// Neither `http://` nor `https://`.
    #[error("endpoint {0} must start with http:// or https://")]
    Scheme(String),
}

/// How long a channel waits.
#[derive(Debug, Clone, Copy)]
pub struct ChannelOptions {
    /// Longest wait for a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Longest wait for any one call, on top of per-call deadlines.
    pub request_timeout: Option<Duration>,
}

impl Default for ChannelOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(3),
            request_timeout: None,
        }
    }
}

/// Builds channels to other services with this process's TLS material.
/// Cheap to clone.
#[derive(Clone)]
pub struct ClientChannels {
    tls: Arc<ClientTls>,
    resolve: Resolve,
    resolve_every: Duration,
}

impl Default for ClientChannels {
    fn default() -> Self {
        Self {
            tls: Arc::default(),
            resolve: dns(),
            resolve_every: balanced::RESOLVE_EVERY,
        }
    }
}

impl std::fmt::Debug for ClientChannels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientChannels")
            .field("tls", &self.tls)
            .field("resolve_every", &self.resolve_every)
            .finish_non_exhaustive()
    }
}

impl ClientChannels {
    /// Plaintext channels only (tests, the embedded default).
    pub fn plaintext() -> Self {
        Self::default()
    }

    /// Channels with the TLS material `settings` configure.
    pub fn from_settings(settings: &Settings) -> Result<Self, TlsError> {
        Ok(Self::with_tls(ClientTls::from_settings(settings)?))
    }

    /// Channels with explicit TLS material.
    pub fn with_tls(tls: ClientTls) -> Self {
        Self {
            tls: Arc::new(tls),
            ..Self::default()
        }
    }

    /// The same channels, resolving host names with `resolve` every
    /// `every` (tests: a name behind which replicas come and go).
    pub fn with_resolver(mut self, resolve: Resolve, every: Duration) -> Self {
        self.resolve = resolve;
        self.resolve_every = every;
        self
    }

    /// A lazily connected channel to `endpoint` (e.g.
    /// `https://customer:50052`); it connects on its first call and
    /// reconnects after failures. A host name is resolved again and again
    /// and calls are balanced across all its addresses: behind a headless
    /// Kubernetes Service every replica gets its share, where one HTTP/2
    /// connection to a virtual IP would pin every call to one pod.
    pub fn connect_lazy(
        &self,
        endpoint: &str,
        options: ChannelOptions,
    ) -> Result<Channel, ChannelError> {
        let built = self.endpoint(endpoint, options)?;
        match balanced::Target::of(built.uri()) {
            Some(target) if tokio::runtime::Handle::try_current().is_ok() => {
                Ok(balanced::channel(self.clone(), target, built, options))
            }
            _ => Ok(built.connect_lazy()),
        }
    }

    /// Connects to `endpoint` now, failing if it cannot.
    pub async fn connect(
        &self,
        endpoint: &str,
        options: ChannelOptions,
    ) -> Result<Channel, ChannelError> {
        self.endpoint(endpoint, options)?
            .connect()
            .await
            .map_err(|source| ChannelError::Endpoint {
                endpoint: endpoint.to_owned(),
                source,
            })
    }

    /// `endpoint` with `options` and, for `https://`, this process's TLS
    /// material.
    fn endpoint(&self, endpoint: &str, options: ChannelOptions) -> Result<Endpoint, ChannelError> {
        let invalid = |source| ChannelError::Endpoint {
            endpoint: endpoint.to_owned(),
            source,
        };
        let built = configured(
            Endpoint::from_shared(endpoint.to_owned()).map_err(invalid)?,
            options,
        );
        match built.uri().scheme_str() {
            Some("http") => Ok(built),
            Some("https") => {
                let config = self
                    .tls
                    .config()
                    .ok_or_else(|| ChannelError::NoCa(endpoint.to_owned()))?;
                built.tls_config(config).map_err(invalid)
            }
            _ => Err(ChannelError::Scheme(endpoint.to_owned())),
        }
    }
}

/// `endpoint` with `options`, and pings on every connection, streams or
/// not: a peer gone without a reset (a silent partition) is noticed within
/// the keep-alive, so a consumer's stream ends and it subscribes again
/// instead of waiting on a dead connection for ever.
fn configured(endpoint: Endpoint, options: ChannelOptions) -> Endpoint {
    let endpoint = endpoint
        .connect_timeout(options.connect_timeout)
        .tcp_keepalive(Some(CLIENT_KEEPALIVE_INTERVAL))
        .http2_keep_alive_interval(CLIENT_KEEPALIVE_INTERVAL)
        .keep_alive_timeout(CLIENT_KEEPALIVE_TIMEOUT)
        .keep_alive_while_idle(true);
    match options.request_timeout {
        Some(timeout) => endpoint.timeout(timeout),
        None => endpoint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn https_without_a_ca_is_refused_before_any_connection() {
        let error = ClientChannels::plaintext()
            .connect_lazy("https://127.0.0.1:1", ChannelOptions::default())
            .unwrap_err();
        assert!(matches!(error, ChannelError::NoCa(_)), "{error}");
    }

    #[tokio::test]
    async fn plaintext_and_unknown_schemes() {
        let channels = ClientChannels::plaintext();
        assert!(
            channels
                .connect_lazy("http://127.0.0.1:1", ChannelOptions::default())
                .is_ok()
        );
        assert!(matches!(
            channels.connect_lazy("ftp://127.0.0.1:1", ChannelOptions::default()),
            Err(ChannelError::Scheme(_))
        ));
    }
}
