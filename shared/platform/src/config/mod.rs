//! Configuration from environment variables.
//!
//! Everything is read from an explicit map (the process environment in
//! production, a literal map in tests). Variables are named `TWOTIER_<KEY>`;
//! in a process that runs several services, `TWOTIER_<SERVICE>_<KEY>`
//! overrides `TWOTIER_<KEY>` for that service (e.g.
//! `TWOTIER_CUSTOMER_DATABASE_URL`).

use std::collections::HashMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;

mod settings;

pub use settings::Settings;

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

impl ConfigError {
    /// A value that deserialised but means nothing (`why` names the variable).
    pub fn invalid(why: String) -> Self {
        Self(config::ConfigError::Message(why))
    }
}

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
    // Values stay the text they were given: numbers and flags are parsed
    // by the field that wants one, and a secret that happens to look like
    // a number (`0123`, `12e45`) is never turned into one and back.
    let source = config::Environment::with_prefix("TWOTIER")
        .prefix_separator("_")
        .try_parsing(false)
        .source(Some(effective.clone()));
    let loaded = config::Config::builder().add_source(source).build()?;
    let mut ignored = Vec::new();
    let settings = serde_ignored::deserialize(loaded, |path| ignored.push(path.to_string()))?;
    let present = effective
        .keys()
        .filter_map(|key| key.strip_prefix(prefix))
        .map(str::to_lowercase);
    let mut used = USED_KEYS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    used.extend(present.filter(|key| !ignored.contains(key)));
    Ok(settings)
}

/// Every `TWOTIER_*` key some settings struct of this process consumed
/// (lower-case, without the prefix): what is not in it was never read.
static USED_KEYS: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// Service names that may prefix a key for one service only.
const SERVICE_PREFIXES: [&str; 4] = [
    "PARTNERSHIP_",
    "CUSTOMER_",
    "SUBSCRIPTION_",
    "NOTIFICATION_",
];

/// The `TWOTIER_*` variables of `env` that nothing in this process read,
/// after every service loaded its settings: most likely typos.
pub fn unknown_variables(env: &EnvMap) -> Vec<String> {
    let used = USED_KEYS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut unknown: Vec<String> = env
        .keys()
        .filter(|key| !key.starts_with("TWOTIER_TEST_"))
        .filter_map(|key| key.strip_prefix("TWOTIER_").map(|rest| (key, rest)))
        .filter(|(_, rest)| {
            let unprefixed = SERVICE_PREFIXES
                .iter()
                .find_map(|service| rest.strip_prefix(service));
            !used.contains(&rest.to_lowercase())
                && !unprefixed.is_some_and(|rest| used.contains(&rest.to_lowercase()))
        })
        .map(|(key, _)| key.clone())
        .collect();
    unknown.sort();
    unknown
}

/// Warns about every variable [`unknown_variables`] finds.
pub fn report_unknown_variables(env: &EnvMap) {
    for variable in unknown_variables(env) {
        tracing::warn!(%variable, "unknown setting ignored (a typo?); see docs/operations.md");
    }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_secret_that_looks_like_a_number_is_kept_as_typed_and_numbers_still_parse() {
        #[derive(serde::Deserialize)]
        struct Typed {
            secret: String,
            limit: u32,
            flag: bool,
        }
        for secret in ["000123", "12e45", "98765432109876543210987654321", "true"] {
            let env = EnvMap::from([
                ("TWOTIER_SECRET".into(), secret.into()),
                ("TWOTIER_LIMIT".into(), "512".into()),
                ("TWOTIER_FLAG".into(), "true".into()),
            ]);
            let typed: Typed = load(&env, "partnership").unwrap();
            assert_eq!(typed.secret, secret);
            assert_eq!((typed.limit, typed.flag), (512, true));
        }
    }

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
    fn variables_no_settings_struct_reads_are_reported_as_unknown() {
        let env = EnvMap::from([
            ("TWOTIER_REQUEST_TIMEOUT".into(), "1s".into()),
            ("TWOTIER_CUSTOMER_REQUEST_TIMEOUT".into(), "2s".into()),
            ("TWOTIER_PARTNERSHIP_ENDPOINT".into(), "http://x".into()),
            ("TWOTIER_REQEUST_TIMEOUT".into(), "3s".into()),
            ("TWOTIER_TEST_DATABASE_URL".into(), "postgres://x".into()),
            ("OTHER".into(), "x".into()),
        ]);
        Settings::load(&env, "customer").unwrap();
        assert_eq!(unknown_variables(&env), vec!["TWOTIER_REQEUST_TIMEOUT"]);
    }

    #[test]
    fn malformed_values_are_reported() {
        let env = EnvMap::from([("TWOTIER_REQUEST_TIMEOUT".into(), "soon".into())]);
        assert!(Settings::load(&env, "partnership").is_err());
    }
}
