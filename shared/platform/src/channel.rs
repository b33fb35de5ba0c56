//! The one place that builds client channels to other twotier services
//! (synchronous calls, event log subscriptions, log heads, test clients):
//! `http://` endpoints are plaintext, `https://` endpoints are verified
//! against the configured CA and present the client certificate, if any.

use std::sync::Arc;
use std::time::Duration;

use tonic::transport::{Channel, Endpoint};

use crate::config::Settings;
use crate::tls::{ClientTls, TlsError};

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
#[derive(Debug, Clone, Default)]
pub struct ClientChannels {
    tls: Arc<ClientTls>,
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
        Self { tls: Arc::new(tls) }
    }

    /// A lazily connected channel to `endpoint` (e.g.
    /// `https://customer:50052`); it connects on its first call and
    /// reconnects after failures.
    pub fn connect_lazy(
        &self,
        endpoint: &str,
        options: ChannelOptions,
    ) -> Result<Channel, ChannelError> {
        Ok(self.endpoint(endpoint, options)?.connect_lazy())
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

    fn endpoint(&self, endpoint: &str, options: ChannelOptions) -> Result<Endpoint, ChannelError> {
        let invalid = |source| ChannelError::Endpoint {
            endpoint: endpoint.to_owned(),
            source,
        };
        let mut built = Endpoint::from_shared(endpoint.to_owned())
            .map_err(invalid)?
            .connect_timeout(options.connect_timeout);
        if let Some(timeout) = options.request_timeout {
            built = built.timeout(timeout);
        }
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
