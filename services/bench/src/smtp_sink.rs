//! An SMTP server that accepts every message and remembers when each
//! arrived, by its Message-ID (the notification id): the mail server of the
//! email throughput scenario, fast enough never to be the bottleneck.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// Notification id -> when its message was first accepted, and how many
/// times it came.
type Arrivals = Arc<Mutex<HashMap<String, (SystemTime, usize)>>>;

/// A running sink on a loopback port; stops when dropped.
pub struct SmtpSink {
    pub port: u16,
    arrivals: Arrivals,
    stop: CancellationToken,
}

impl SmtpSink {
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let arrivals = Arrivals::default();
        let stop = CancellationToken::new();
        let (accepted, stopped) = (arrivals.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let stream = tokio::select! {
                    () = stopped.cancelled() => return,
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => stream,
                        Err(_) => continue,
                    },
                };
                tokio::spawn(session(stream, accepted.clone()));
            }
        });
        Ok(Self {
            port,
            arrivals,
            stop,
        })
    }

    /// Every message accepted so far: notification id -> first arrival.
    pub fn arrivals(&self) -> HashMap<String, SystemTime> {
        self.arrivals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(id, (at, _))| (id.clone(), *at))
            .collect()
    }

    /// Messages that came more than once (a resend after a lost outcome).
    pub fn duplicates(&self) -> usize {
        self.arrivals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .map(|(_, copies)| copies - 1)
            .sum()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// One client connection: every command is accepted; a message's end
/// records its Message-ID.
async fn session(stream: TcpStream, arrivals: Arrivals) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 bench-sink ESMTP\r\n").await?;
    while let Some(line) = lines.next_line().await? {
        let command = line.get(..4).unwrap_or(&line).to_ascii_uppercase();
        let reply: &[u8] = match command.as_str() {
            "EHLO" | "HELO" => b"250 bench-sink\r\n",
            "DATA" => {
                write.write_all(b"354 end with .\r\n").await?;
                let mut message_id = None;
                while let Some(line) = lines.next_line().await? {
                    if line == "." {
                        break;
                    }
                    if message_id.is_none()
                        && let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("message-id")
                    {
                        message_id = value
                            .trim()
                            .trim_start_matches('<')
                            .split('@')
                            .next()
                            .map(str::to_owned);
                    }
                }
                if let Some(id) = message_id {
                    arrivals
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .entry(id)
                        .or_insert((SystemTime::now(), 0))
                        .1 += 1;
                }
                b"250 accepted\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"250 ok\r\n",
        };
        write.write_all(reply).await?;
    }
    Ok(())
}
