use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

/// Where a process's signing and verification keys come from.
#[derive(Debug, Clone)]
pub enum KeyMaterial {
    /// A shared HS256 secret: every process that knows it can mint and verify
    /// tokens. For development and tests.
    Hs256 { secret: Vec<u8> },
    /// An RS256 key pair: verification needs only the public key; a service
    /// mints its own service tokens only if it holds the private key.
    Rs256 {
        public_pem: Vec<u8>,
        private_pem: Option<Vec<u8>>,
    },
}

/// The file, under the data directory, holding the generated dev secret.
pub const DEV_SECRET_FILE: &str = "dev-jwt-secret";

/// Loads the key material the configuration names: an RS256 public key file
/// (and optionally its private key file), else an HS256 secret, else the dev
/// secret under `data_dir`, created on first use.
pub fn load_key_material(
    hs256_secret: Option<&str>,
    rs256_public_key_file: Option<&Path>,
    rs256_private_key_file: Option<&Path>,
    data_dir: &Path,
) -> std::io::Result<KeyMaterial> {
    if let Some(public) = rs256_public_key_file {
        let private_pem = rs256_private_key_file.map(std::fs::read).transpose()?;
        return Ok(KeyMaterial::Rs256 {
            public_pem: std::fs::read(public)?,
            private_pem,
        });
    }
    if let Some(secret) = hs256_secret.filter(|s| !s.is_empty()) {
        return Ok(KeyMaterial::Hs256 {
            secret: secret.as_bytes().to_vec(),
        });
    }
    let path = dev_secret_path(data_dir);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(KeyMaterial::Hs256 {
            secret: existing.trim().as_bytes().to_vec(),
        });
    }
    std::fs::create_dir_all(data_dir)?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    write_private(&path, &secret)?;
    tracing::warn!(path = %path.display(), "generated a development jwt secret; configure TWOTIER_JWT_HS256_SECRET or RS256 keys for real deployments");
    Ok(KeyMaterial::Hs256 {
        secret: secret.into_bytes(),
    })
}

fn dev_secret_path(data_dir: &Path) -> PathBuf {
    data_dir.join(DEV_SECRET_FILE)
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}
