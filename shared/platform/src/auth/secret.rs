//! Shared secrets (HS256 keys): loaded from a variable, a file, or, for the
//! embedded default, generated under the data directory. A secret that is
//! empty, short or stored where other users can read it refuses to start the
//! process, because it would let anyone who guesses or reads it act as any
//! caller.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;

/// The shortest secret accepted: 256 bits, the size of the HS256 output
/// (RFC 7518 section 3.2 requires at least that much key).
pub const MIN_SECRET_BYTES: usize = 32;

/// Key bytes that never appear in `Debug` output or logs.
#[derive(Clone)]
pub struct Secret(Arc<[u8]>);

impl Secret {
    /// Wraps `bytes`, refusing secrets shorter than [`MIN_SECRET_BYTES`].
    pub fn new(name: &str, bytes: Vec<u8>) -> Result<Self, SecretError> {
        if bytes.is_empty() {
            return Err(SecretError::Empty {
                name: name.to_owned(),
            });
        }
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(SecretError::TooShort {
                name: name.to_owned(),
                len: bytes.len(),
            });
        }
        Ok(Self(bytes.into()))
    }

    /// The key bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// A 256-bit key for one `purpose`, derived from this secret
    /// (HMAC-SHA256 with the purpose as message, as HKDF-Expand does), so
    /// that one configured secret yields independent keys for independent
    /// uses and a key leaked from one use reveals nothing about the others.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&self.0) else {
            unreachable!("HMAC accepts keys of any length");
        };
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Why a secret cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Configured but empty.
    #[error("{name} is empty; configure a random secret of at least {MIN_SECRET_BYTES} bytes")]
    Empty { name: String },
    /// Too short to resist guessing.
    #[error("{name} is {len} bytes long; use a random secret of at least {MIN_SECRET_BYTES} bytes")]
    TooShort { name: String, len: usize },
    /// The file can be read by other users of the machine.
    #[error(
        "{} is readable by group or others (mode {mode:o}); restrict it to its owner (chmod 600)",
        path.display()
    )]
    Exposed { path: PathBuf, mode: u32 },
    /// The file cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where a secret is configured: a value, a file, or neither (then the
/// development secret `dev_file` is read, or generated on first use).
#[derive(Debug, Clone, Copy)]
pub struct SecretSource<'a> {
    /// The variable naming the value, for messages (e.g. `TWOTIER_JWT_HS256_SECRET`).
    pub name: &'a str,
    /// The configured value.
    pub value: Option<&'a str>,
    /// The configured file.
    pub file: Option<&'a Path>,
}

impl SecretSource<'_> {
    /// Whether a value or a file is configured.
    pub fn is_configured(&self) -> bool {
        self.value.is_some() || self.file.is_some()
    }

    /// The configured secret, or the development secret in `dev_file`.
    pub fn load(&self, dev_file: &Path) -> Result<Secret, SecretError> {
        if let Some(value) = self.value {
            return Secret::new(self.name, value.as_bytes().to_vec());
        }
        if let Some(file) = self.file {
            return read_secret_file(self.name, file);
        }
        if dev_file.exists() {
            return read_secret_file(self.name, dev_file);
        }
        generate(self.name, dev_file)
    }
}

/// Reads a secret file that only its owner can read. A trailing newline (as
/// editors and `echo` leave) is not part of the secret.
fn read_secret_file(name: &str, path: &Path) -> Result<Secret, SecretError> {
    refuse_exposed(path)?;
    let io = |source| SecretError::Io {
        path: path.to_owned(),
        source,
    };
    let contents = std::fs::read(path).map_err(io)?;
    let trimmed = contents
        .strip_suffix(b"\n")
        .map(|rest| rest.strip_suffix(b"\r").unwrap_or(rest))
        .unwrap_or(&contents);
    Secret::new(&format!("{name} ({})", path.display()), trimmed.to_vec())
}

#[cfg(unix)]
fn refuse_exposed(path: &Path) -> Result<(), SecretError> {
    use std::os::unix::fs::PermissionsExt;
    // Follows symlinks: Kubernetes mounts secrets as links into `..data/`.
    let metadata = std::fs::metadata(path).map_err(|source| SecretError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(SecretError::Exposed {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_exposed(_path: &Path) -> Result<(), SecretError> {
    Ok(())
}

fn generate(name: &str, path: &Path) -> Result<Secret, SecretError> {
    let io = |source| SecretError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent() {
        crate::files::create_private_dir(parent).map_err(io)?;
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    match crate::files::write_private_new(path, secret.as_bytes()) {
        Ok(()) => {
            tracing::warn!(path = %path.display(), "generated a development secret; configure {name} for real deployments");
            Secret::new(name, secret.into_bytes())
        }
        // Another service of this process generated it first.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            read_secret_file(name, path)
        }
        Err(error) => Err(io(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source<'a>(value: Option<&'a str>, file: Option<&'a Path>) -> SecretSource<'a> {
        SecretSource {
            name: "TWOTIER_TEST_SECRET",
            value,
            file,
        }
    }

    #[test]
    fn empty_and_short_secrets_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let dev = dir.path().join("dev");
        assert!(matches!(
            source(Some(""), None).load(&dev),
            Err(SecretError::Empty { .. })
        ));
        assert!(matches!(
            source(Some("short"), None).load(&dev),
            Err(SecretError::TooShort { len: 5, .. })
        ));
        assert!(source(Some(&"x".repeat(32)), None).load(&dev).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn secret_files_readable_by_others_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, format!("{}\n", "k".repeat(40))).unwrap();
        for mode in [0o644, 0o640, 0o604] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            let refused = source(None, Some(&file)).load(&dir.path().join("dev"));
            assert!(
                matches!(refused, Err(SecretError::Exposed { .. })),
                "{mode:o}"
            );
        }
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let secret = source(None, Some(&file))
            .load(&dir.path().join("dev"))
            .unwrap();
        assert_eq!(
            secret.expose(),
            "k".repeat(40).as_bytes(),
            "newline trimmed"
        );
    }

    #[cfg(unix)]
    #[test]
    fn development_secrets_are_generated_owner_only_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let dev = dir.path().join("data").join("dev-secret");
        let first = source(None, None).load(&dev).unwrap();
        let mode = std::fs::metadata(&dev).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(dev.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
        let again = source(None, None).load(&dev).unwrap();
        assert_eq!(first.expose(), again.expose());
    }

    #[test]
    fn derived_keys_differ_by_purpose_and_never_show_in_debug() {
        let secret = Secret::new("s", vec![7; 32]).unwrap();
        assert_ne!(
            secret.derive("page-token"),
            secret.derive("invitation-link")
        );
        assert_eq!(secret.derive("a"), secret.derive("a"));
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
    }
}
