//! Handing emails over: SMTP (lettre) when a server is configured, else
//! `.eml` files in the mail folder.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use lettre::Message;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;

use super::settings::{MailSettings, TlsMode};
use super::smtp::{SmtpPool, SmtpServer};
use crate::domain::{Outcome, Outgoing};

/// Why an email was not handed over.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Try again later: server down, 4xx reply, disk full.
    #[error("temporary: {0}")]
    Transient(String),
    /// Will not work: 5xx reply, malformed address.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl SendError {
    /// What the attempt's failure means for the delivery.
    pub fn outcome(self) -> Outcome {
        match self {
            Self::Transient(error) => Outcome::Transient(error),
            Self::Permanent(error) => Outcome::Permanent(error),
        }
    }
}

/// Hands emails to the mail system.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Hands `email` to the mail system.
    async fn send(&self, email: &Outgoing) -> Result<(), SendError>;
    /// Where mail goes, for logs and the start-up banner.
    fn describe(&self) -> String;
}

/// The mailer the settings ask for.
pub fn mailer_from(
    settings: &MailSettings,
    data_dir: &std::path::Path,
) -> Result<Box<dyn Mailer>, String> {
    let from: Mailbox = settings
        .mail_from
        .parse()
        .map_err(|e| format!("TWOTIER_MAIL_FROM: {e}"))?;
    let Some(host) = &settings.smtp_host else {
        let dir = settings
            .mail_dir
            .clone()
            .unwrap_or_else(|| data_dir.join("mail"));
        twotier_platform::files::create_private_dir(&dir)
            .map_err(|e| format!("cannot create mail folder {}: {e}", dir.display()))?;
        return Ok(Box::new(FileMailer {
            dir,
            from,
            folder_sync: FolderSync::default(),
        }));
    };
    let server = SmtpServer {
        host: host.clone(),
        port: settings.smtp_port,
        tls: settings.smtp_tls,
        credentials: credentials(
            settings.smtp_tls,
            settings.smtp_username.as_deref(),
            settings.smtp_password.as_ref().map(|p| p.expose()),
        )?,
        extra_roots_pem: extra_roots(settings.smtp_tls, settings.smtp_ca_file.as_deref())?,
    };
    // As many connections as emails go out at once, so each handover
    // reuses one instead of opening a new one.
    Ok(Box::new(SmtpMailer {
        pool: SmtpPool::new(server, settings.mail_concurrency)?,
        address: format!("smtp://{host}:{}", settings.smtp_port),
        from,
    }))
}

/// The login to the SMTP server: a user name and password together, never
/// over a connection that would carry the password unencrypted.
fn credentials(
    tls: TlsMode,
    username: Option<&str>,
    password: Option<&str>,
) -> Result<Option<Credentials>, String> {
    // An empty value is an unset one (an optional secret left empty).
    let username = username.filter(|v| !v.is_empty());
    let password = password.filter(|v| !v.is_empty());
    match (username, password) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) if tls == TlsMode::None => Err(
            "TWOTIER_SMTP_TLS=none would send TWOTIER_SMTP_PASSWORD unencrypted; use starttls or tls"
                .into(),
        ),
        (Some(user), Some(password)) => Ok(Some(Credentials::new(user.into(), password.into()))),
        _ => Err("TWOTIER_SMTP_USERNAME and TWOTIER_SMTP_PASSWORD are set together or not at all".into()),
    }
}

/// The CA certificates, besides the web roots, that the server's
/// certificate may chain to. A CA file without TLS would check nothing,
/// and whoever set it believes the relay is checked: refused.
fn extra_roots(tls: TlsMode, ca_file: Option<&std::path::Path>) -> Result<Option<Vec<u8>>, String> {
    let Some(path) = ca_file else {
        return Ok(None);
    };
    if tls == TlsMode::None {
        return Err(
            "TWOTIER_SMTP_CA_FILE is set, but TWOTIER_SMTP_TLS=none makes no TLS connection to check the server with; use starttls or tls, or unset it"
                .into(),
        );
    }
    twotier_platform::tls::read_pem(path, "CERTIFICATE")
        .map(Some)
        .map_err(|e| format!("TWOTIER_SMTP_CA_FILE: {e}"))
}

fn message(from: &Mailbox, email: &Outgoing) -> Result<Message, SendError> {
    let to: Mailbox = email
        .recipient
        .parse()
        .map_err(|e| SendError::Permanent(format!("recipient {}: {e}", email.recipient)))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.clone())
        // The notification id doubles as Message-ID, so a resend after a
        // crash between sending and recording can be recognised downstream.
        .message_id(Some(format!("<{}@twotier>", email.id)))
        .header(ContentType::TEXT_PLAIN)
        .body(email.body.clone())
        .map_err(|e| SendError::Permanent(format!("building the message: {e}")))
}

struct SmtpMailer {
    pool: SmtpPool,
    address: String,
    from: Mailbox,
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: &Outgoing) -> Result<(), SendError> {
        self.pool.send(&message(&self.from, email)?).await
    }

    fn describe(&self) -> String {
        self.address.clone()
    }
}

/// The mail spool: one `<notification id>.eml` per email, readable by the
/// service's user only (emails carry personal links).
struct FileMailer {
    dir: PathBuf,
    from: Mailbox,
    folder_sync: FolderSync,
}

#[async_trait::async_trait]
impl Mailer for FileMailer {
    async fn send(&self, email: &Outgoing) -> Result<(), SendError> {
        let message = message(&self.from, email)?.formatted();
        let path = self.dir.join(format!("{}.eml", email.id));
        // Written whole or not at all, and named by the notification: a
        // resend after a crash rewrites the same file instead of adding one.
        tokio::task::spawn_blocking(move || spool(&path, &message))
            .await
            .map_err(|e| SendError::Transient(e.to_string()))?
            .map_err(|e| SendError::Transient(e.to_string()))?;
        self.folder_sync
            .covering_the_last_rename(&self.dir)
            .await
            .map_err(|e| SendError::Transient(e.to_string()))
    }

    fn describe(&self) -> String {
        format!("{} (.eml files)", self.dir.display())
    }
}

fn spool(path: &std::path::Path, message: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let staging = path.with_extension("eml.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&staging)?;
    file.write_all(message)?;
    file.sync_all()?;
    std::fs::rename(&staging, path)
}

/// Syncs the mail folder after renames, one sync for all the renames that
/// finished before it began. An email counts as handed over once its
/// `send` returns, and is then recorded as delivered; until the folder
/// itself is synced, a power loss may undo its rename and leave only the
/// staging file, which no pickup reads. The emails of a round are handed
/// over concurrently: each waits for the one sync under way or the next,
/// instead of queueing a sync of its own (in the bench the folder lost
/// about a sixth of its rate either way, docs/benchmarks.md).
#[derive(Default)]
struct FolderSync {
    /// Renames finished so far.
    renamed: AtomicU64,
    /// How many of them the last completed sync covers.
    synced: tokio::sync::Mutex<u64>,
}

impl FolderSync {
    /// Returns once a sync of `folder` that began after the caller's
    /// rename (finished before this call) has completed.
    async fn covering_the_last_rename(&self, folder: &std::path::Path) -> std::io::Result<()> {
        let mine = self.renamed.fetch_add(1, Ordering::AcqRel) + 1;
        let mut synced = self.synced.lock().await;
        if *synced >= mine {
            return Ok(());
        }
        // Every rename counted so far finished before this sync begins.
        let covered = self.renamed.load(Ordering::Acquire);
        let folder = folder.to_path_buf();
        tokio::task::spawn_blocking(move || sync_folder(&folder))
            .await
            .map_err(std::io::Error::other)??;
        *synced = covered;
        Ok(())
    }
}

fn sync_folder(folder: &std::path::Path) -> std::io::Result<()> {
    // A directory is opened and synced like a file on Unix; elsewhere the
    // rename is as durable as the platform makes it.
    #[cfg(unix)]
    std::fs::File::open(folder)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = folder;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spooled_email_is_left_whole_under_its_own_name_only() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("n-1.eml");
        spool(&path, b"first").unwrap();
        // A resend after a crash rewrites the same file.
        spool(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(folder.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["n-1.eml"], "no staging file is left");
    }

    #[tokio::test]
    async fn a_folder_sync_covers_every_rename_finished_before_it_began() {
        let folder = tempfile::tempdir().unwrap();
        let sync = FolderSync::default();
        sync.covering_the_last_rename(folder.path()).await.unwrap();
        assert_eq!(*sync.synced.lock().await, 1);
        // Two renames finished while a sync was under way: the next sync
        // covers both, and a caller it already covered does not sync again.
        sync.renamed.fetch_add(2, Ordering::AcqRel);
        sync.covering_the_last_rename(folder.path()).await.unwrap();
        assert_eq!(*sync.synced.lock().await, 4);
        // A sync that fails fails the send and covers nothing.
        let missing = folder.path().join("gone");
        assert!(sync.covering_the_last_rename(&missing).await.is_err());
        assert_eq!(*sync.synced.lock().await, 4);
    }

    #[test]
    fn a_login_goes_only_over_an_encrypted_connection() {
        let login = (Some("mailer"), Some("secret"));
        for tls in [TlsMode::Starttls, TlsMode::Tls] {
            assert!(credentials(tls, login.0, login.1).unwrap().is_some());
        }
        let refused = credentials(TlsMode::None, login.0, login.1).unwrap_err();
        assert!(refused.contains("unencrypted"), "{refused}");
        assert!(!refused.contains("secret"), "the password is not echoed");
    }

    #[test]
    fn a_ca_file_without_tls_is_refused() {
        let ca = std::path::Path::new("/nonexistent/relay-ca.pem");
        let refused = extra_roots(TlsMode::None, Some(ca)).unwrap_err();
        assert!(refused.contains("TWOTIER_SMTP_TLS=none"), "{refused}");
        assert_eq!(extra_roots(TlsMode::None, None).unwrap(), None);
        let unreadable = extra_roots(TlsMode::Starttls, Some(ca)).unwrap_err();
        assert!(
            unreadable.starts_with("TWOTIER_SMTP_CA_FILE:"),
            "{unreadable}"
        );
    }

    #[test]
    fn a_user_name_without_a_password_or_the_reverse_is_refused() {
        for (user, password) in [(Some("mailer"), None), (None, Some("secret"))] {
            let refused = credentials(TlsMode::Starttls, user, password).unwrap_err();
            assert!(refused.contains("together"), "{refused}");
        }
        assert!(
            credentials(TlsMode::None, None, None).unwrap().is_none(),
            "no login at all is fine in any mode"
        );
        assert!(
            credentials(TlsMode::None, Some(""), Some(""))
                .unwrap()
                .is_none(),
            "empty values are unset ones"
        );
    }
}
