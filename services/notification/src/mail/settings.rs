//! Mail delivery settings.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// How to talk TLS to the SMTP server.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain SMTP (local mail catchers).
    None,
    /// Upgrade with STARTTLS (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// Where and how emails go, from `TWOTIER_SMTP_*` and `TWOTIER_MAIL_*`.
#[derive(Debug, Clone, Deserialize)]
pub struct MailSettings {
    /// SMTP server; without it emails are written as `.eml` files.
    #[serde(default)]
    pub smtp_host: Option<String>,
    /// SMTP port.
    #[serde(default = "default_smtp_port")]
    pub smtp_port: u16,
    /// SMTP user name, if the server needs one.
    #[serde(default)]
    pub smtp_username: Option<String>,
    /// SMTP password.
    #[serde(default)]
    pub smtp_password: Option<twotier_platform::config::Sensitive>,
    /// TLS mode: `none`, `starttls` or `tls`.
    #[serde(default)]
    pub smtp_tls: TlsMode,
    /// PEM file of CA certificates the SMTP server's certificate may chain
    /// to besides the built-in web roots (a relay with a private CA).
    #[serde(default)]
    pub smtp_ca_file: Option<PathBuf>,
    /// Sender address.
    #[serde(default = "default_from")]
    pub mail_from: String,
    /// Folder for `.eml` files; default `<data_dir>/mail`.
    #[serde(default)]
    pub mail_dir: Option<PathBuf>,
    /// Longest wait between retries of a temporarily failing email.
    #[serde(default = "default_max_backoff", with = "humantime_serde")]
    pub mail_retry_max_backoff: Duration,
    /// How long a dispatcher owns an email it is sending; after a crash the
    /// email is sent by another dispatcher once this has passed. Must exceed
    /// the SMTP timeout (10 s, connecting and handing over); an email whose
    /// lease runs out while it waits for its place is not handed over.
    #[serde(default = "default_lease", with = "humantime_serde")]
    pub mail_lease: Duration,
    /// How often the dispatcher looks for due emails when not woken.
    #[serde(default = "default_poll", with = "humantime_serde")]
    pub mail_poll_interval: Duration,
    /// How long the dispatcher waits, once woken by a newly recorded email,
    /// before it lists the due ones: emails recorded close together are
    /// then claimed, handed over and settled together, a few transactions
    /// for several instead of for each. Adds at most this to an email's
    /// way out; `0s` lists at once.
    #[serde(default = "default_gather", with = "humantime_serde")]
    pub mail_gather: Duration,
    /// Emails handed over at once (and SMTP connections kept open): a
    /// handover mostly waits on the server's replies, so concurrency, not
    /// speed per email, is what scales. With TLS from the first byte
    /// (`tls`) a handover also waits about 40 ms for the server's delayed
    /// acknowledgement (see `mail::smtp`).
    #[serde(default = "default_concurrency")]
    pub mail_concurrency: usize,
}

fn default_smtp_port() -> u16 {
    587
}

fn default_from() -> String {
    "twotier <no-reply@twotier.example>".to_owned()
}

fn default_max_backoff() -> Duration {
    Duration::from_secs(60)
}

fn default_lease() -> Duration {
    Duration::from_secs(30)
}

fn default_concurrency() -> usize {
    32
}

fn default_gather() -> Duration {
    Duration::from_millis(20)
}

fn default_poll() -> Duration {
    Duration::from_millis(250)
}
