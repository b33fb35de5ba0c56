//! Files that only the service's own user may read: the data directory,
//! SQLite databases, generated secrets and the mail spool hold tenants'
//! data and keys, so they are created owner-only whatever the umask says.

use std::io::Write;
use std::path::Path;

/// Creates `dir` and any missing parents with mode 0700. Directories that
/// exist already are left as they are: an operator may have chosen their
/// permissions deliberately.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Creates `path` (mode 0600) if it does not exist, without touching an
/// existing file's contents, e.g. a SQLite database before SQLite opens it
/// (SQLite gives its WAL and shared-memory files the database file's mode).
pub fn ensure_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(drop)
}

/// Writes a new file with mode 0600; fails with `AlreadyExists` if `path`
/// exists. The file appears complete or not at all, so processes racing to
/// create it (services starting together on one data directory) never read
/// a half-written one.
pub fn write_private_new(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut staging = path.as_os_str().to_owned();
    staging.push(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    let staging = std::path::PathBuf::from(staging);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&staging).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    // A hard link, unlike a rename, refuses to replace an existing file.
    let published = written.and_then(|()| std::fs::hard_link(&staging, path));
    let _ = std::fs::remove_file(&staging);
    published
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn created_directories_and_files_are_owner_only() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a").join("b");
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.path().join("a")), 0o700);
        let db = dir.join("service.db");
        ensure_private_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        std::fs::write(&db, b"kept").unwrap();
        ensure_private_file(&db).unwrap();
        assert_eq!(std::fs::read(&db).unwrap(), b"kept");
        let secret = dir.join("secret");
        write_private_new(&secret, b"s").unwrap();
        assert_eq!(mode(&secret), 0o600);
        assert_eq!(
            write_private_new(&secret, b"t").unwrap_err().kind(),
            std::io::ErrorKind::AlreadyExists
        );
    }
}
