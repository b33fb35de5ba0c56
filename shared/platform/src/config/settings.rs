//! The settings every service process shares, and their defaults.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::metrics::MetricsEndpoint;

use super::{ConfigError, EnvMap, LogFormat, Sensitive, load};

/// Settings every service process shares.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Directory for SQLite files, the dev JWT secret and the mail folder.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Database URL; default: `sqlite://<data_dir>/<service>.db`.
    #[serde(default)]
    pub database_url: Option<String>,
    /// Largest PostgreSQL pool size (SQLite always uses one connection).
    #[serde(default = "default_database_max_connections")]
    pub database_max_connections: u32,
    /// Address to listen on; default `0.0.0.0:<the service's port>`.
    #[serde(default)]
    pub listen_addr: Option<SocketAddr>,
    /// Longest time a unary call may take.
    #[serde(default = "default_request_timeout", with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Calls served at once; more are refused with RESOURCE_EXHAUSTED.
    #[serde(default = "default_concurrency_limit")]
    pub concurrency_limit: usize,
    /// Calls one tenant may have served at once; default a quarter of
    /// `concurrency_limit` (at least 1), so one tenant cannot take them all.
    #[serde(default)]
    pub tenant_concurrency_limit: Option<usize>,
    /// Longest time from a call's headers to the end of its request message.
    #[serde(default = "default_request_receive_timeout", with = "humantime_serde")]
    pub request_receive_timeout: Duration,
    /// Open connections per server; at the cap an idle one is closed to make
    /// room, or the newcomer is refused when every connection is busy.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Concurrent calls (HTTP/2 streams) one connection may carry.
    #[serde(default = "default_max_concurrent_streams")]
    pub max_concurrent_streams: u32,
    /// How long a connection may stay without any call before it is closed.
    #[serde(default = "default_connection_idle_timeout", with = "humantime_serde")]
    pub connection_idle_timeout: Duration,
    /// How long a new connection may take to send its first call (TLS and
    /// HTTP/2 handshakes included) before it is closed.
    #[serde(default = "default_handshake_timeout", with = "humantime_serde")]
    pub handshake_timeout: Duration,
    /// How often the server pings an HTTP/2 connection to check its peer.
    #[serde(default = "default_http2_keepalive_interval", with = "humantime_serde")]
    pub http2_keepalive_interval: Duration,
    /// How long a ping may go unanswered before the connection is closed.
    #[serde(default = "default_http2_keepalive_timeout", with = "humantime_serde")]
    pub http2_keepalive_timeout: Duration,
    /// Server certificate chain (PEM); with the key, the server speaks TLS.
    #[serde(default, deserialize_with = "non_empty_path")]
    pub tls_cert_file: Option<PathBuf>,
    /// Server private key (PEM).
    #[serde(default, deserialize_with = "non_empty_path")]
    pub tls_key_file: Option<PathBuf>,
    /// CA (PEM) client certificates must chain to; set, clients without a
    /// valid certificate are refused (mutual TLS).
    #[serde(default, deserialize_with = "non_empty_path")]
    pub tls_client_ca_file: Option<PathBuf>,
    /// CA (PEM) this process trusts for `https://` endpoints of other
    /// services.
    #[serde(default, deserialize_with = "non_empty_path")]
    pub tls_ca_file: Option<PathBuf>,
    /// Client certificate (PEM) presented to `https://` endpoints.
    #[serde(default, deserialize_with = "non_empty_path")]
    pub tls_client_cert_file: Option<PathBuf>,
    /// Private key (PEM) of the client certificate.
    #[serde(default, deserialize_with = "non_empty_path")]
    pub tls_client_key_file: Option<PathBuf>,
    /// How long shutdown waits for in-flight calls.
    #[serde(default = "default_shutdown_grace", with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// How long a stopping server reports NOT_SERVING while still serving,
    /// before it refuses new calls (give load balancers time to notice).
    #[serde(default, with = "humantime_serde")]
    pub shutdown_drain_delay: Duration,
    /// Log format: `human` or `json`.
    #[serde(default)]
    pub log_format: LogFormat,
    /// Address of the Prometheus endpoint (`/metrics`), or `off`; default
    /// `0.0.0.0:<the process's metrics port>` (9460 for all services in one
    /// process, 9461-9464 for partnership, customer, subscription and
    /// notification alone).
    #[serde(default)]
    pub metrics_addr: Option<String>,
    /// The platform's own tenant: only its tokens may carry `PlatformOperator`.
    #[serde(default = "default_platform_tenant")]
    pub platform_tenant: String,
    /// Expected `iss` claim of user tokens.
    #[serde(default = "default_jwt_issuer")]
    pub jwt_issuer: String,
    /// Expected `aud` claim of user tokens.
    #[serde(default = "default_jwt_audience")]
    pub jwt_audience: String,
    /// The identity provider's JWKS URL (production): user tokens are
    /// checked with its keys, chosen by `kid`.
    #[serde(default)]
    pub jwt_jwks_url: Option<String>,
    /// How long fetched JWKS keys are used before they are fetched again.
    #[serde(default = "default_jwks_refresh_interval", with = "humantime_serde")]
    pub jwt_jwks_refresh_interval: Duration,
    /// Least time between two fetches caused by unknown key ids.
    #[serde(
        default = "default_jwks_min_refetch_interval",
        with = "humantime_serde"
    )]
    pub jwt_jwks_min_refetch_interval: Duration,
    /// The identity provider's RS256 public key (PEM), instead of a JWKS URL.
    #[serde(default)]
    pub jwt_rs256_public_key_file: Option<PathBuf>,
    /// No longer accepted: identity-provider private keys are never deployed
    /// beside the services (they sign their own calls with the service
    /// secret). Set, it stops the process with an explanation.
    #[serde(default)]
    pub jwt_rs256_private_key_file: Option<PathBuf>,
    /// Shared HS256 secret standing in for an identity provider (development
    /// and tests; at least 32 bytes). Without any key setting, a secret is
    /// generated under the data directory.
    #[serde(default)]
    pub jwt_hs256_secret: Option<Sensitive>,
    /// File holding the HS256 secret (mode 0600 or stricter).
    #[serde(default)]
    pub jwt_hs256_secret_file: Option<PathBuf>,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    #[serde(default = "default_jwt_leeway", with = "humantime_serde")]
    pub jwt_leeway: Duration,
    /// Longest validity a user token may have.
    #[serde(default = "default_jwt_max_lifetime", with = "humantime_serde")]
    pub jwt_max_lifetime: Duration,
    /// The secret services sign their own tokens with (at least 32 bytes),
    /// shared by every twotier service and nothing else. It also keys page
    /// tokens and invitation links.
    #[serde(default)]
    pub service_token_secret: Option<Sensitive>,
    /// File holding the service secret (mode 0600 or stricter).
    #[serde(default)]
    pub service_token_secret_file: Option<PathBuf>,
    /// Where the partnership service listens, for its clients.
    #[serde(default = "default_partnership_endpoint")]
    pub partnership_endpoint: String,
    /// Where the customer service listens, for its clients.
    #[serde(default = "default_customer_endpoint")]
    pub customer_endpoint: String,
    /// Where the subscription service listens, for its clients.
    #[serde(default = "default_subscription_endpoint")]
    pub subscription_endpoint: String,
    /// Where the notification service listens, for its clients.
    #[serde(default = "default_notification_endpoint")]
    pub notification_endpoint: String,
    /// How long delivered outbox events are kept.
    #[serde(default = "default_outbox_retention", with = "humantime_serde")]
    pub outbox_retention: Duration,
    /// How often log readers look for events sequenced by other replicas.
    #[serde(default = "default_outbox_poll_interval", with = "humantime_serde")]
    pub outbox_poll_interval: Duration,
    /// How long audit records are kept (R29).
    #[serde(default = "default_audit_retention", with = "humantime_serde")]
    pub audit_retention: Duration,
    /// Attempts before a consumer parks an event as dead letter.
    #[serde(default = "default_consumer_max_attempts")]
    pub consumer_max_attempts: u32,
}

impl Settings {
    /// The settings of `service` from `env`.
    pub fn load(env: &EnvMap, service: &str) -> Result<Self, ConfigError> {
        load(env, service)
    }

    /// The database URL of `service`: the configured one or its SQLite file.
    pub fn database_url_for(&self, service: &str) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| crate::db::default_sqlite_url(&self.data_dir, service))
    }

    /// Calls one tenant may have served at once.
    pub fn tenant_concurrency_limit(&self) -> usize {
        self.tenant_concurrency_limit
            .unwrap_or(self.concurrency_limit / 4)
            .clamp(1, self.concurrency_limit.max(1))
    }

    /// The listen address of a service whose standard port is `port`.
    pub fn listen_addr_or(&self, port: u16) -> SocketAddr {
        self.listen_addr
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], port)))
    }

    /// Where to serve `/metrics`: the configured address, else all
    /// interfaces on `port`.
    pub fn metrics_endpoint_or(&self, port: u16) -> Result<MetricsEndpoint, ConfigError> {
        match self.metrics_addr.as_deref().map(str::trim) {
            None | Some("") => Ok(MetricsEndpoint::On(SocketAddr::from(([0, 0, 0, 0], port)))),
            Some("off") => Ok(MetricsEndpoint::Off),
            Some(addr) => addr.parse().map(MetricsEndpoint::On).map_err(|_| {
                ConfigError::invalid(format!(
                    "TWOTIER_METRICS_ADDR: {addr:?} is neither an address (host:port) nor off"
                ))
            }),
        }
    }
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}
fn default_database_max_connections() -> u32 {
    16
}
fn default_request_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_concurrency_limit() -> usize {
    512
}
fn default_request_receive_timeout() -> Duration {
    Duration::from_secs(5)
}
fn default_max_connections() -> usize {
    1024
}
fn default_max_concurrent_streams() -> u32 {
    200
}
fn default_connection_idle_timeout() -> Duration {
    Duration::from_secs(300)
}
fn default_handshake_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_http2_keepalive_interval() -> Duration {
    Duration::from_secs(60)
}
fn default_http2_keepalive_timeout() -> Duration {
    Duration::from_secs(20)
}
/// An empty variable (`TWOTIER_TLS_CERT_FILE=`) means unset, as in shells
/// and compose files that blank a setting rather than remove it.
fn non_empty_path<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<PathBuf>, D::Error> {
    let value = Option::<String>::deserialize(deserializer)?;
    Ok(value.filter(|v| !v.trim().is_empty()).map(PathBuf::from))
}
fn default_shutdown_grace() -> Duration {
    Duration::from_secs(20)
}
fn default_audit_retention() -> Duration {
    Duration::from_secs(400 * 24 * 3600)
}
fn default_platform_tenant() -> String {
    "twotier".to_owned()
}
fn default_jwks_refresh_interval() -> Duration {
    Duration::from_secs(600)
}
fn default_jwks_min_refetch_interval() -> Duration {
    Duration::from_secs(30)
}
fn default_jwt_leeway() -> Duration {
    Duration::from_secs(30)
}
fn default_jwt_max_lifetime() -> Duration {
    Duration::from_secs(24 * 3600)
}
fn default_jwt_issuer() -> String {
    "twotier".to_owned()
}
fn default_jwt_audience() -> String {
    "twotier".to_owned()
}
fn default_partnership_endpoint() -> String {
    "http://127.0.0.1:50051".to_owned()
}
fn default_customer_endpoint() -> String {
    "http://127.0.0.1:50052".to_owned()
}
fn default_subscription_endpoint() -> String {
    "http://127.0.0.1:50053".to_owned()
}
fn default_notification_endpoint() -> String {
    "http://127.0.0.1:50054".to_owned()
}
fn default_outbox_retention() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}
fn default_outbox_poll_interval() -> Duration {
    Duration::from_secs(1)
}
fn default_consumer_max_attempts() -> u32 {
    5
}
