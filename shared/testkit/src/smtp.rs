//! A real SMTP server for tests: aiosmtpd (Python), storing every message
//! it accepts in a maildir the test reads.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::free_port;

/// Variable naming a Python interpreter that has `aiosmtpd` installed.
pub const PYTHON_VAR: &str = "TWOTIER_TEST_PYTHON";

/// An SMTP server on a loopback port, stopped on drop.
pub struct SmtpSink {
    /// Where it listens.
    pub addr: SocketAddr,
    maildir: PathBuf,
    child: Child,
}

impl SmtpSink {
    /// Starts a server on a free port, storing mail under `dir`.
    pub async fn start(dir: &Path) -> Self {
        Self::start_on(dir, free_port()).await
    }

    /// Starts a server on `port` (e.g. to bring a stopped one back).
    pub async fn start_on(dir: &Path, port: u16) -> Self {
        Self::spawn(dir, port, &[]).await
    }

    /// Starts a server on a free port that speaks TLS with `cert`: from the
    /// first byte when `implicit`, else after STARTTLS, which it requires.
    pub async fn start_secured(dir: &Path, cert: &crate::pki::CertFiles, implicit: bool) -> Self {
        let (cert_flag, key_flag) = if implicit {
            ("--smtpscert", "--smtpskey")
        } else {
            ("--tlscert", "--tlskey")
        };
        let args = [
            cert_flag.into(),
            cert.cert.clone().into_os_string(),
            key_flag.into(),
            cert.key.clone().into_os_string(),
        ];
        Self::spawn(dir, free_port(), &args).await
    }

    /// Starts a server on a free port that requires STARTTLS with `cert`,
    /// then a login (`AUTH PLAIN` or `LOGIN`) as `user` with `password`,
    /// before it takes any mail.
    pub async fn start_with_login(
        dir: &Path,
        cert: &crate::pki::CertFiles,
        user: &str,
        password: &str,
    ) -> Self {
        let port = free_port();
        let maildir = dir.join(format!("maildir-{port}"));
        // aiosmtpd's command line has no option for logins.
        let mut command = Command::new(python_with_aiosmtpd());
        command
            .args(["-c", LOGIN_SERVER])
            .arg(&maildir)
            .arg(port.to_string())
            .arg(&cert.cert)
            .arg(&cert.key)
            .args([user, password]);
        Self::run(command, maildir, port).await
    }

    async fn spawn(dir: &Path, port: u16, tls_args: &[std::ffi::OsString]) -> Self {
        let maildir = dir.join(format!("maildir-{port}"));
        let mut command = Command::new(python_with_aiosmtpd());
        command
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .args(tls_args)
            .arg(&maildir);
        Self::run(command, maildir, port).await
    }

    async fn run(mut command: Command, maildir: PathBuf, port: u16) -> Self {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let sink = Self {
            addr,
            maildir,
            child,
        };
        crate::wait_until(
            "the SMTP server accepts connections",
            Duration::from_secs(20),
            || async { tokio::net::TcpStream::connect(addr).await.is_ok() },
        )
        .await;
        sink
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every message received so far, raw, in the order they arrived.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut files: Vec<PathBuf> = ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.maildir.join(sub)).ok())
            .flatten()
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect();
        files.sort_by_key(|path| arrival(path));
        files
            .iter()
            .filter_map(|path| std::fs::read(path).ok())
            .collect()
    }

    /// Stops the server.
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An aiosmtpd server taking mail into a maildir only after STARTTLS and a
/// login; arguments: maildir, port, certificate, key, user, password.
const LOGIN_SERVER: &str = r#"
import ssl, sys, threading
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword

maildir, port, cert, key, user, password = sys.argv[1:]
tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(cert, key)

def authenticate(server, session, envelope, mechanism, data):
    known = isinstance(data, LoginPassword) and data.login == user.encode() and data.password == password.encode()
    return AuthResult(success=known, handled=False)

Controller(Mailbox(maildir), hostname="127.0.0.1", port=int(port), tls_context=tls,
           require_starttls=True, authenticator=authenticate, auth_required=True).start()
threading.Event().wait()
"#;

/// When a maildir file arrived, from its name `<secs>.M<micros>P<pid>Q<n>.host`:
/// seconds, microseconds, then the server's message counter for files of
/// the same microsecond. None of the numbers is zero-padded, so the name
/// itself does not sort by time (`.M99999` after `.M100000`).
fn arrival(path: &Path) -> (u64, u64, u64, String) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let number = |text: Option<&str>| text.and_then(|t| t.parse().ok()).unwrap_or(u64::MAX);
    let (secs, rest) = name.split_once('.').unwrap_or((&name, ""));
    let micros = rest.strip_prefix('M').and_then(|r| r.split('P').next());
    let counter = rest.split_once('Q').and_then(|(_, q)| q.split('.').next());
    (
        number(Some(secs)),
        number(micros),
        number(counter),
        name.clone(),
    )
}

/// The settings of a notification service in a [`crate::System`] that
/// sends to SMTP on loopback `port`, retrying every 300 ms at most.
pub fn notification_env(port: &str) -> [(&'static str, &'static str, &str); 5] {
    [
        ("notification", "TWOTIER_SMTP_HOST", "127.0.0.1"),
        ("notification", "TWOTIER_SMTP_PORT", port),
        ("notification", "TWOTIER_SMTP_TLS", "none"),
        ("notification", "TWOTIER_MAIL_RETRY_MAX_BACKOFF", "300ms"),
        ("notification", "TWOTIER_MAIL_POLL_INTERVAL", "100ms"),
    ]
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A Python with aiosmtpd: `TWOTIER_TEST_PYTHON`, or a virtual environment
/// under `target/test-venv` that is created (with `pip install aiosmtpd`)
/// on first use.
fn python_with_aiosmtpd() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            if let Ok(python) = std::env::var(PYTHON_VAR)
                && !python.is_empty()
            {
                return PathBuf::from(python);
            }
            let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-venv");
            let python = venv.join("bin/python");
            if has_aiosmtpd(&python) {
                return python;
            }
            let created = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status();
            assert!(
                created.is_ok_and(|s| s.success()),
                "python3 -m venv {}",
                venv.display()
            );
            let installed = Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "aiosmtpd"])
                .status();
            assert!(installed.is_ok_and(|s| s.success()), "pip install aiosmtpd");
            python
        })
        .clone()
}

fn has_aiosmtpd(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// One received email, parsed.
#[derive(Debug, Clone)]
pub struct Email {
    /// The first recipient's address.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// Message-ID.
    pub message_id: String,
}

/// Parses raw messages (as [`SmtpSink::messages`] returns them).
pub fn parse(raw: &[Vec<u8>]) -> Vec<Email> {
    raw.iter()
        .map(|bytes| {
            let message = mail_parser::MessageParser::default()
                .parse(bytes)
                .expect("a parsable message");
            let to = message
                .to()
                .and_then(|to| to.first())
                .and_then(|address| address.address())
                .unwrap_or_default()
                .to_owned();
            Email {
                to,
                subject: message.subject().unwrap_or_default().to_owned(),
                body: message
                    .body_text(0)
                    .map(|body| body.into_owned())
                    .unwrap_or_default(),
                message_id: message.message_id().unwrap_or_default().to_owned(),
            }
        })
        .collect()
}

/// Waits (at most `deadline`) until `sink` has received `count` emails and
/// returns them, parsed.
pub async fn wait_for_emails(sink: &SmtpSink, count: usize, deadline: Duration) -> Vec<Email> {
    crate::wait_until(&format!("{count} emails"), deadline, || async {
        sink.messages().len() >= count
    })
    .await;
    parse(&sink.messages())
}

#[cfg(test)]
mod tests {
    use super::arrival;
    use std::path::Path;

    #[test]
    fn maildir_files_sort_by_arrival_not_by_name() {
        let mut names = [
            "1764110000.M100000P7Q10.host",
            "1764110000.M100000P7Q9.host",
            "1764110000.M99999P7Q1.host",
            "1764109999.M999999P7Q0.host",
        ];
        names.sort_by_key(|n| arrival(Path::new(n)));
        assert_eq!(
            names,
            [
                "1764109999.M999999P7Q0.host",
                "1764110000.M99999P7Q1.host",
                "1764110000.M100000P7Q9.host",
                "1764110000.M100000P7Q10.host",
            ]
        );
    }
}
