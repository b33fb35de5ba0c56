//! Configuration from environment variables.
//!
//! Everything is read from an explicit map (the process environment in
//! production, a literal map in tests). Variables are named `TWOTIER_<KEY>`;
//! in a process that runs several services, `TWOTIER_<SERVICE>_<KEY>`
//! overrides `TWOTIER_<KEY>` for that service (e.g.
//! `TWOTIER_CUSTOMER_DATABASE_URL`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Environment variables, by name.
pub type EnvMap = HashMap<String, String>;

/// The process environment as an [`EnvMap`].
pub fn process_env() -> EnvMap {
    std::env::vars().collect()
}

/// A configuration value that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(#[from] config::ConfigError);

/// Deserialises `T` from the `TWOTIER_*` variables of `env` as seen by
/// `service` (its `TWOTIER_<SERVICE>_*` overrides applied).
pub fn load<T: DeserializeOwned>(env: &EnvMap, service: &str) -> Result<T, ConfigError> {
    let prefix = "TWOTIER_";
    let service_prefix = format!("TWOTIER_{}_", service.to_uppercase());
    let mut effective: HashMap<String, String> = env
        .iter()
        .filter(|(key, _)| key.starts_with(prefix))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    for (key, value) in env {
        if let Some(rest) = key.strip_prefix(&service_prefix) {
            effective.insert(format!("{prefix}{rest}"), value.clone());
        }
    }
    let source = config::Environment::with_prefix("TWOTIER")
        .prefix_separator("_")
        .try_parsing(true)
        .source(Some(effective));
    let loaded = config::Config::builder().add_source(source).build()?;
    Ok(loaded.try_deserialize()?)
}

/// A configured secret (a password, a key): `Debug` never shows it, so a
/// logged settings struct cannot leak it.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Sensitive(String);

impl Sensitive {
    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines for a terminal.
    #[default]
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

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
}

/// Logging and tracing settings, from `RUST_LOG`, `TWOTIER_LOG_FORMAT` and
/// the standard `OTEL_*` variables.
#[derive(Debug, Clone)]
pub struct TelemetrySettings {
    /// `service.name` of exported spans and metrics.
    pub service_name: String,
    /// `tracing` filter directives.
    pub log_filter: String,
    /// Log line format.
    pub log_format: LogFormat,
    /// OTLP/gRPC endpoint; nothing is exported when unset.
    pub otlp_endpoint: Option<String>,
}

impl TelemetrySettings {
    /// Reads the telemetry settings of a process named `default_name`.
    pub fn from_env(env: &EnvMap, default_name: &str, log_format: LogFormat) -> Self {
        let non_empty = |key: &str| env.get(key).filter(|v| !v.is_empty()).cloned();
        Self {
            service_name: non_empty("OTEL_SERVICE_NAME").unwrap_or_else(|| default_name.to_owned()),
            log_filter: non_empty("RUST_LOG").unwrap_or_else(|| "info".to_owned()),
            log_format,
            otlp_endpoint: non_empty("OTEL_EXPORTER_OTLP_ENDPOINT"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_without_variables() {
        let settings = Settings::load(&EnvMap::new(), "partnership").unwrap();
        assert_eq!(settings.request_timeout, Duration::from_secs(10));
        assert_eq!(settings.listen_addr_or(50051).port(), 50051);
        assert!(
            settings
                .database_url_for("partnership")
                .ends_with("partnership.db?mode=rwc")
        );
    }

    #[test]
    fn service_specific_variables_override_shared_ones() {
        let env = EnvMap::from([
            ("TWOTIER_DATABASE_URL".into(), "postgres://shared".into()),
            (
                "TWOTIER_CUSTOMER_DATABASE_URL".into(),
                "postgres://customer".into(),
            ),
            ("TWOTIER_REQUEST_TIMEOUT".into(), "250ms".into()),
            ("TWOTIER_CONCURRENCY_LIMIT".into(), "7".into()),
        ]);
        let customer = Settings::load(&env, "customer").unwrap();
        assert_eq!(
            customer.database_url.as_deref(),
            Some("postgres://customer")
        );
        assert_eq!(customer.request_timeout, Duration::from_millis(250));
        assert_eq!(customer.concurrency_limit, 7);
        let partnership = Settings::load(&env, "partnership").unwrap();
        assert_eq!(
            partnership.database_url.as_deref(),
            Some("postgres://shared")
        );
    }

    #[test]
    fn tenant_share_defaults_to_a_quarter_of_the_limit() {
        let settings = Settings::load(&EnvMap::new(), "partnership").unwrap();
        assert_eq!(settings.tenant_concurrency_limit(), 128);
        let small = EnvMap::from([("TWOTIER_CONCURRENCY_LIMIT".into(), "2".into())]);
        let settings = Settings::load(&small, "partnership").unwrap();
        assert_eq!(settings.tenant_concurrency_limit(), 1);
        let explicit = EnvMap::from([
            ("TWOTIER_CONCURRENCY_LIMIT".into(), "8".into()),
            ("TWOTIER_TENANT_CONCURRENCY_LIMIT".into(), "100".into()),
        ]);
        let settings = Settings::load(&explicit, "partnership").unwrap();
        assert_eq!(
            settings.tenant_concurrency_limit(),
            8,
            "never above the limit"
        );
    }

    #[test]
    fn blank_tls_paths_mean_unset() {
        let env = EnvMap::from([
            ("TWOTIER_TLS_CERT_FILE".into(), String::new()),
            ("TWOTIER_TLS_CA_FILE".into(), "/etc/twotier/ca.pem".into()),
        ]);
        let settings = Settings::load(&env, "partnership").unwrap();
        assert_eq!(settings.tls_cert_file, None);
        assert_eq!(
            settings.tls_ca_file.as_deref(),
            Some(std::path::Path::new("/etc/twotier/ca.pem"))
        );
    }

    #[test]
    fn malformed_values_are_reported() {
        let env = EnvMap::from([("TWOTIER_REQUEST_TIMEOUT".into(), "soon".into())]);
        assert!(Settings::load(&env, "partnership").is_err());
    }
}
