//! Handing emails to an SMTP server over pooled connections with Nagle's
//! algorithm off.
//!
//! lettre writes a message's body and its final `.` line separately. With
//! Nagle on, the kernel holds that last small write until the server
//! acknowledges the body, and the server delays its acknowledgement (40 ms
//! on Linux) while it waits for the rest: every email waited about 40 ms
//! on an idle loopback, which capped each connection at some 25 emails a
//! second. lettre's own pool opens its sockets where no option can be set,
//! so the connections are opened here (as lettre opens them, plus
//! `TCP_NODELAY`) and pooled by deadpool. A connection is asked whether
//! it is still open (`NOOP`) each time it is reused, and one left idle for
//! [`IDLE_CLOSE`] is closed (with `QUIT` when it is between messages).

use std::time::Duration;

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult, Timeouts};
use lettre::Message;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::net::TcpStream;

use super::mailer::SendError;
use super::settings::TlsMode;

/// The longest a handover may take, connecting included; a dispatcher's
/// lease must exceed it (see `MailSettings::mail_lease`).
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection may stay idle before it is closed. Servers drop
/// idle clients themselves after some minutes (RFC 5321 suggests five);
/// closing first, politely, frees the server's slot, and after a quiet
/// minute one handshake more is cheap.
pub const IDLE_CLOSE: Duration = Duration::from_secs(60);

/// Where and how to reach the SMTP server.
pub struct SmtpServer {
    /// Host name (also the name its TLS certificate must carry).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Plain, STARTTLS (required) or TLS from the first byte.
    pub tls: TlsMode,
    /// Login, when the server asks for one.
    pub credentials: Option<Credentials>,
    /// CA certificates (PEM) the server's certificate may chain to besides
    /// the built-in web roots.
    pub extra_roots_pem: Option<Vec<u8>>,
}

/// Hands emails to one SMTP server over up to `connections` connections.
pub struct SmtpPool {
    pool: managed::Pool<Connector>,
}

impl SmtpPool {
    /// A pool of up to `connections` connections to `server`; none is
    /// opened before the first email, and each is closed after
    /// [`IDLE_CLOSE`] unused. Call within a Tokio runtime.
    pub fn new(server: SmtpServer, connections: usize) -> Result<Self, String> {
        Self::closing_idle_after(server, connections, IDLE_CLOSE)
    }

    /// As [`SmtpPool::new`], closing connections idle for `idle`.
    pub fn closing_idle_after(
        server: SmtpServer,
        connections: usize,
        idle: Duration,
    ) -> Result<Self, String> {
        let tls = match server.tls {
            TlsMode::None => None,
            TlsMode::Starttls | TlsMode::Tls => Some(tls_parameters(&server)?),
        };
        let connector = Connector {
            server,
            tls,
            hello: ClientId::default(),
        };
        let pool = managed::Pool::builder(connector)
            .max_size(connections.max(1))
            .runtime(deadpool::Runtime::Tokio1)
            .timeouts(Timeouts {
                wait: Some(SMTP_TIMEOUT),
                create: Some(SMTP_TIMEOUT),
                recycle: Some(SMTP_TIMEOUT),
            })
            .build()
            .map_err(|e| e.to_string())?;
        tokio::spawn(close_idle(pool.weak(), idle));
        Ok(Self { pool })
    }

    /// Hands `message` over within [`SMTP_TIMEOUT`].
    pub async fn send(&self, message: &Message) -> Result<(), SendError> {
        let handover = async {
            let mut session = self.pool.get().await.map_err(|error| {
                SendError::Transient(format!("connecting to the SMTP server: {error}"))
            })?;
            session.send(message).await
        };
        tokio::time::timeout(SMTP_TIMEOUT, handover)
            .await
            .map_err(|_| SendError::Transient("the SMTP server did not answer in time".into()))?
    }
}

/// Every half `idle`, until the pool is dropped: takes the connections
/// not taken out for `idle` (deadpool counts from the last checkout) out
/// of `pool` and closes them, saying `QUIT` on those between messages.
async fn close_idle(pool: managed::WeakPool<Connector>, idle: Duration) {
    let mut sweeps = tokio::time::interval((idle / 2).max(Duration::from_millis(1)));
    sweeps.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        sweeps.tick().await;
        let Some(pool) = pool.upgrade() else {
            return;
        };
        let idle_ones = pool.retain(|_, metrics| metrics.last_used() < idle).removed;
        drop(pool);
        // Closed either way once dropped; QUIT only tells the server, and
        // only a connection between messages can take it.
        let quits = idle_ones
            .into_iter()
            .filter(|session| session.clean && !session.connection.has_broken())
            .map(|mut session| async move {
                let _ = tokio::time::timeout(SMTP_TIMEOUT, session.connection.quit()).await;
            });
        futures::future::join_all(quits).await;
    }
}

/// How the server's certificate is checked: against its host name and the
/// built-in web roots, plus the configured CA certificates.
fn tls_parameters(server: &SmtpServer) -> Result<TlsParameters, String> {
    let mut builder = TlsParameters::builder(server.host.clone());
    if let Some(pem) = &server.extra_roots_pem {
        let roots = Certificate::from_pem(pem).map_err(|e| format!("TWOTIER_SMTP_CA_FILE: {e}"))?;
        builder = builder.add_root_certificate(roots);
    }
    builder.build_rustls().map_err(|e| e.to_string())
}

/// One pooled SMTP connection.
pub struct Session {
    connection: AsyncSmtpConnection,
    /// False while a message is being handed over: a handover cut off
    /// (timed out) leaves the connection mid-transaction, unfit for reuse.
    clean: bool,
}

impl Session {
    async fn send(&mut self, message: &Message) -> Result<(), SendError> {
        self.clean = false;
        let sent = self
            .connection
            .send(message.envelope(), &message.formatted())
            .await;
        // lettre closes the connection itself after a failed command.
        self.clean = !self.connection.has_broken();
        match sent {
            Ok(_) => Ok(()),
            Err(error) if error.is_permanent() => Err(SendError::Permanent(error.to_string())),
            Err(error) => Err(SendError::Transient(error.to_string())),
        }
    }
}

/// Opens connections as lettre does (greeting, EHLO, STARTTLS, login),
/// with `TCP_NODELAY`.
struct Connector {
    server: SmtpServer,
    tls: Option<TlsParameters>,
    hello: ClientId,
}

impl Connector {
    async fn open(&self) -> Result<AsyncSmtpConnection, String> {
        let address = (self.server.host.as_str(), self.server.port);
        let mut connection = match (&self.server.tls, &self.tls) {
            // lettre wraps the socket in TLS before the greeting and keeps
            // it: this mode alone keeps Nagle on.
            (TlsMode::Tls, Some(tls)) => AsyncSmtpConnection::connect_tokio1(
                address,
                Some(SMTP_TIMEOUT),
                &self.hello,
                Some(tls.clone()),
                None,
            )
            .await
            .map_err(|e| e.to_string())?,
            _ => {
                let stream = connect(address).await.map_err(|e| e.to_string())?;
                AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello)
                    .await
                    .map_err(|e| e.to_string())?
            }
        };
        if let (TlsMode::Starttls, Some(tls)) = (&self.server.tls, &self.tls) {
            connection
                .starttls(tls.clone(), &self.hello)
                .await
                .map_err(|e| e.to_string())?;
        }
        if let Some(credentials) = &self.server.credentials {
            connection
                .auth(DEFAULT_MECHANISMS, credentials)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(connection)
    }
}

/// A socket to `address` that sends each write at once.
async fn connect(address: (&str, u16)) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

impl managed::Manager for Connector {
    type Type = Session;
    type Error = String;

    async fn create(&self) -> Result<Session, String> {
        Ok(Session {
            connection: self.open().await?,
            clean: true,
        })
    }

    async fn recycle(&self, session: &mut Session, _: &Metrics) -> RecycleResult<String> {
        if !session.clean || session.connection.has_broken() {
            return Err(RecycleError::message("connection left mid-handover"));
        }
        // As lettre's pool does: a server may close a connection at any
        // time (after so many messages, or idle), and one round trip with
        // Nagle off is cheaper than an attempt failed and retried later.
        if !session.connection.test_connected().await {
            return Err(RecycleError::message("connection closed by the server"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::sync::mpsc;

    /// An SMTP server on loopback that accepts every email and, when a
    /// connection ends, reports the commands it received.
    async fn recording_server() -> (u16, mpsc::UnboundedReceiver<Vec<String>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (ended, reports) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let ended = ended.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let mut commands = Vec::new();
                    write.write_all(b"220 test\r\n").await.unwrap();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let command = line.split(' ').next().unwrap_or("").to_uppercase();
                        let answer: &[u8] = match command.as_str() {
                            "DATA" => {
                                write.write_all(b"354 go on\r\n").await.unwrap();
                                while let Ok(Some(body)) = lines.next_line().await {
                                    if body == "." {
                                        break;
                                    }
                                }
                                b"250 queued\r\n"
                            }
                            "QUIT" => b"221 bye\r\n",
                            _ => b"250 ok\r\n",
                        };
                        commands.push(command.clone());
                        write.write_all(answer).await.unwrap();
                        if command == "QUIT" {
                            break;
                        }
                    }
                    let _ = ended.send(commands);
                });
            }
        });
        (port, reports)
    }

    fn email() -> Message {
        Message::builder()
            .from("twotier@example.com".parse().unwrap())
            .to("reseller@example.com".parse().unwrap())
            .subject("test")
            .body(String::from("hello"))
            .unwrap()
    }

    #[tokio::test]
    async fn a_connection_left_idle_is_closed_with_quit_and_the_next_email_opens_another() {
        let (port, mut ended) = recording_server().await;
        let server = SmtpServer {
            host: "127.0.0.1".into(),
            port,
            tls: TlsMode::None,
            credentials: None,
            extra_roots_pem: None,
        };
        let pool = SmtpPool::closing_idle_after(server, 2, Duration::from_millis(200)).unwrap();
        let deadline = Duration::from_secs(10);

        for _ in 0..2 {
            pool.send(&email()).await.unwrap();
            let commands = tokio::time::timeout(deadline, ended.recv())
                .await
                .expect("the idle connection is closed within the deadline")
                .unwrap();
            assert!(commands.contains(&"DATA".to_owned()), "{commands:?}");
            assert_eq!(
                commands.last().map(String::as_str),
                Some("QUIT"),
                "closed politely: {commands:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_connection_to_the_smtp_server_sends_each_write_at_once() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let stream = connect(("127.0.0.1", port)).await.unwrap();
        assert!(stream.nodelay().unwrap(), "Nagle's algorithm is off");
    }
}
