//! TLS material from PEM files (rustls through tonic): the server's
//! certificate and key, the CA its clients must chain to (mutual TLS), and
//! the CA and client certificate this process uses towards other services.
//! Files are read once, at start-up, so a wrong path stops the process
//! instead of failing its first call.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

use crate::config::Settings;

/// TLS material that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A configured file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A certificate without its key, or the other way round.
    #[error("{0} is set without {1}")]
    Incomplete(&'static str, &'static str),
    /// A file is not PEM of the expected kind.
    #[error("{} holds no PEM {kind}", path.display())]
    NotPem {
        /// The file.
        path: PathBuf,
        /// What it should hold.
        kind: &'static str,
    },
}

/// Where the server's TLS material lives (paths only; read by
/// [`ServerTlsFiles::load`]).
#[derive(Debug, Clone, Default)]
pub struct ServerTlsFiles {
    /// Certificate chain (`TWOTIER_TLS_CERT_FILE`).
    pub cert: Option<PathBuf>,
    /// Private key (`TWOTIER_TLS_KEY_FILE`).
    pub key: Option<PathBuf>,
    /// CA of required client certificates (`TWOTIER_TLS_CLIENT_CA_FILE`).
    pub client_ca: Option<PathBuf>,
}

impl From<&Settings> for ServerTlsFiles {
    fn from(settings: &Settings) -> Self {
        Self {
            cert: settings.tls_cert_file.clone(),
            key: settings.tls_key_file.clone(),
            client_ca: settings.tls_client_ca_file.clone(),
        }
    }
}

impl ServerTlsFiles {
    /// The server's TLS configuration; `None` serves plaintext (the embedded
    /// default). `handshake_timeout` bounds each TLS handshake.
    pub fn load(&self, handshake_timeout: Duration) -> Result<Option<ServerTlsConfig>, TlsError> {
        let (cert, key) = match (&self.cert, &self.key) {
            (None, None) if self.client_ca.is_some() => {
                return Err(TlsError::Incomplete(
                    "TWOTIER_TLS_CLIENT_CA_FILE",
                    "TWOTIER_TLS_CERT_FILE and TWOTIER_TLS_KEY_FILE",
                ));
            }
            (None, None) => return Ok(None),
            (Some(_), None) => {
                return Err(TlsError::Incomplete(
                    "TWOTIER_TLS_CERT_FILE",
                    "TWOTIER_TLS_KEY_FILE",
                ));
            }
            (None, Some(_)) => {
                return Err(TlsError::Incomplete(
                    "TWOTIER_TLS_KEY_FILE",
                    "TWOTIER_TLS_CERT_FILE",
                ));
            }
            (Some(cert), Some(key)) => (cert, key),
        };
        let identity = Identity::from_pem(
            read_pem(cert, "CERTIFICATE")?,
            read_pem(key, "PRIVATE KEY")?,
        );
        let mut config = ServerTlsConfig::new()
            .identity(identity)
            .timeout(handshake_timeout);
        if let Some(ca) = &self.client_ca {
            config = config.client_ca_root(Certificate::from_pem(read_pem(ca, "CERTIFICATE")?));
        }
        Ok(Some(config))
    }
}

/// What this process trusts and presents when it calls `https://`
/// endpoints of other services.
#[derive(Debug, Clone, Default)]
pub struct ClientTls {
    ca: Option<Certificate>,
    identity: Option<Identity>,
}

impl ClientTls {
    /// Plaintext only: `https://` endpoints are refused.
    pub fn none() -> Self {
        Self::default()
    }

    /// Reads `TWOTIER_TLS_CA_FILE` and, when set, the client certificate
    /// and key.
    pub fn from_settings(settings: &Settings) -> Result<Self, TlsError> {
        let ca = settings
            .tls_ca_file
            .as_deref()
            .map(|path| read_pem(path, "CERTIFICATE").map(Certificate::from_pem))
            .transpose()?;
        let identity = match (
            &settings.tls_client_cert_file,
            &settings.tls_client_key_file,
        ) {
            (None, None) => None,
            (Some(cert), Some(key)) => Some(Identity::from_pem(
                read_pem(cert, "CERTIFICATE")?,
                read_pem(key, "PRIVATE KEY")?,
            )),
            (Some(_), None) => {
                return Err(TlsError::Incomplete(
                    "TWOTIER_TLS_CLIENT_CERT_FILE",
                    "TWOTIER_TLS_CLIENT_KEY_FILE",
                ));
            }
            (None, Some(_)) => {
                return Err(TlsError::Incomplete(
                    "TWOTIER_TLS_CLIENT_KEY_FILE",
                    "TWOTIER_TLS_CLIENT_CERT_FILE",
                ));
            }
        };
        Ok(Self { ca, identity })
    }

    /// Trusts `ca_pem` (and nothing else).
    pub fn with_ca(mut self, ca_pem: impl AsRef<[u8]>) -> Self {
        self.ca = Some(Certificate::from_pem(ca_pem));
        self
    }

    /// Presents `cert_pem` with `key_pem` to servers that ask for it.
    pub fn with_identity(mut self, cert_pem: impl AsRef<[u8]>, key_pem: impl AsRef<[u8]>) -> Self {
        self.identity = Some(Identity::from_pem(cert_pem, key_pem));
        self
    }

    /// The rustls client configuration, when a CA is configured. Only the
    /// configured CA is trusted: service-to-service traffic never falls back
    /// to public roots, which would let any publicly certified name pose as
    /// a twotier service.
    pub(crate) fn config(&self) -> Option<ClientTlsConfig> {
        let ca = self.ca.clone()?;
        let mut config = ClientTlsConfig::new().ca_certificate(ca);
        if let Some(identity) = &self.identity {
            config = config.identity(identity.clone());
        }
        Some(config)
    }
}

/// Reads a PEM file and checks it holds a block whose label ends with
/// `kind` (`CERTIFICATE`, `PRIVATE KEY` for PKCS#8, RSA and EC keys), so a
/// swapped or truncated file is reported by name rather than as a TLS
/// failure on the first connection.
pub fn read_pem(path: &Path, kind: &'static str) -> Result<Vec<u8>, TlsError> {
    let bytes = std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let labelled = text.lines().any(|line| {
        line.strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
            .is_some_and(|label| label.ends_with(kind))
    });
    if !labelled {
        return Err(TlsError::NotPem {
            path: path.to_path_buf(),
            kind,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_configured_server_tls_is_refused() {
        let files = ServerTlsFiles {
            cert: Some("cert.pem".into()),
            ..Default::default()
        };
        assert!(matches!(
            files.load(Duration::from_secs(1)),
            Err(TlsError::Incomplete(..))
        ));
        let files = ServerTlsFiles {
            client_ca: Some("ca.pem".into()),
            ..Default::default()
        };
        assert!(matches!(
            files.load(Duration::from_secs(1)),
            Err(TlsError::Incomplete(..))
        ));
    }

    #[test]
    fn no_files_serve_plaintext() {
        assert!(
            ServerTlsFiles::default()
                .load(Duration::from_secs(1))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_key_where_a_certificate_belongs_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("swapped.pem");
        std::fs::write(
            &path,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let error = read_pem(&path, "CERTIFICATE").unwrap_err();
        assert!(error.to_string().contains("swapped.pem"), "{error}");
    }
}
