//! A real SMTP server in the test process (EHLO, MAIL FROM, RCPT TO, DATA,
//! RSET, NOOP, QUIT; no TLS, no AUTH) that keeps what it receives, and can
//! be told to fail: the next transactions with a 4xx, or one recipient
//! for good with a 550.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One message as it arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message (headers and body), dot-unstuffed, CRLF line ends.
    pub data: String,
}

#[derive(Default)]
struct Behaviour {
    /// Transactions still to refuse with 451 at MAIL FROM.
    fail_next: u32,
    /// Recipients refused with 550.
    refused: HashSet<String>,
}

#[derive(Clone)]
pub struct SmtpCatcher {
    /// `smtp://127.0.0.1:{port}`, for `STOCKROOM_SMTP_URL`.
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    behaviour: Arc<Mutex<Behaviour>>,
}

impl SmtpCatcher {
    /// Listens on a free port of 127.0.0.1 until the runtime ends.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("smtp://{}", listener.local_addr()?);
        let catcher = SmtpCatcher { url, received: Arc::default(), behaviour: Arc::default() };
        let server = catcher.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let server = server.clone();
                tokio::spawn(async move {
                    // A client that goes away mid-session is its business.
                    let _ = server.session(stream).await;
                });
            }
        });
        Ok(catcher)
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The next `n` transactions get `451` (try again later).
    pub fn fail_next(&self, n: u32) {
        if let Ok(mut b) = self.behaviour.lock() {
            b.fail_next = n;
        }
    }

    /// `address` gets `550` (no such mailbox) from now on.
    pub fn refuse(&self, address: &str) {
        if let Ok(mut b) = self.behaviour.lock() {
            b.refused.insert(address.to_lowercase());
        }
    }

    async fn session(&self, stream: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 catcher ESMTP\r\n").await?;
        let (mut from, mut to) = (String::new(), Vec::new());
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_string();
            let upper = command.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                b"250-catcher\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
            } else if upper.starts_with("MAIL FROM:") {
                let refuse = match self.behaviour.lock() {
                    Ok(mut b) if b.fail_next > 0 => {
                        b.fail_next -= 1;
                        true
                    }
                    _ => false,
                };
                if refuse {
                    b"451 4.3.0 try again later\r\n"
                } else {
                    (from, to) = (address(&command), Vec::new());
                    b"250 2.1.0 ok\r\n"
                }
            } else if upper.starts_with("RCPT TO:") {
                let rcpt = address(&command);
                let refused = self.behaviour.lock().map(|b| b.refused.contains(&rcpt.to_lowercase())).unwrap_or(false);
                if refused {
                    b"550 5.1.1 no such mailbox\r\n"
                } else {
                    to.push(rcpt);
                    b"250 2.1.5 ok\r\n"
                }
            } else if upper == "DATA" {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                let message = Received { from: from.clone(), to: std::mem::take(&mut to), data };
                if let Ok(mut r) = self.received.lock() {
                    r.push(message);
                }
                b"250 2.0.0 queued\r\n"
            } else if upper == "RSET" {
                (from, to) = (String::new(), Vec::new());
                b"250 2.0.0 ok\r\n"
            } else if upper == "NOOP" {
                b"250 2.0.0 ok\r\n"
            } else if upper == "QUIT" {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            } else {
                b"502 5.5.2 not implemented\r\n"
            };
            write.write_all(reply).await?;
        }
    }
}

/// The address in `MAIL FROM:<a> ...` or `RCPT TO:<a>`.
fn address(command: &str) -> String {
    let inner = command.split_once('<').and_then(|(_, rest)| rest.split_once('>')).map(|(a, _)| a);
    inner.unwrap_or_default().to_string()
}
