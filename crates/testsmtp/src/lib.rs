//! A real SMTP server for tests, on `127.0.0.1` and a free port: it speaks enough SMTP for any
//! client (EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT), accepts every
//! message and keeps it, decoded, for the test to read. Written for the tests because the job is
//! small and a dependency-free sink starts in microseconds; the client side is the real one
//! (lettre) and the messages are parsed by a real MIME parser (`mailparse`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message exactly as sent (after dot-unstuffing).
    pub raw: String,
}

impl Received {
    /// A header's decoded value.
    pub fn header(&self, name: &str) -> Option<String> {
        let parsed = mailparse::parse_mail(self.raw.as_bytes()).ok()?;
        use mailparse::MailHeaderMap;
        parsed.headers.get_first_value(name)
    }

    /// The decoded bodies of every text part (plain and HTML), in order.
    pub fn bodies(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Ok(parsed) = mailparse::parse_mail(self.raw.as_bytes()) {
            collect(&parsed, &mut out);
        }
        out
    }

    /// The decoded `text/plain` part.
    pub fn text(&self) -> String {
        self.bodies()
            .into_iter()
            .find(|(t, _)| t == "text/plain")
            .map(|(_, b)| b)
            .unwrap_or_default()
    }

    /// The decoded `text/html` part.
    pub fn html(&self) -> String {
        self.bodies()
            .into_iter()
            .find(|(t, _)| t == "text/html")
            .map(|(_, b)| b)
            .unwrap_or_default()
    }

    /// Everything a reader could see: headers and every decoded part.
    pub fn everything(&self) -> String {
        let mut s = self.raw.clone();
        for (_, b) in self.bodies() {
            s.push('\n');
            s.push_str(&b);
        }
        s
    }
}

fn collect(part: &mailparse::ParsedMail, out: &mut Vec<(String, String)>) {
    if part.subparts.is_empty() {
        if part.ctype.mimetype.starts_with("text/") {
            out.push((
                part.ctype.mimetype.clone(),
                part.get_body().unwrap_or_default(),
            ));
        }
    } else {
        for p in &part.subparts {
            collect(p, out);
        }
    }
}

/// A running server. It stops when the test's runtime ends.
#[derive(Clone)]
pub struct TestSmtp {
    pub addr: SocketAddr,
    inbox: Arc<Mutex<Vec<Received>>>,
}

impl TestSmtp {
    pub async fn start() -> TestSmtp {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind SMTP");
        let addr = listener.local_addr().expect("address");
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let kept = inbox.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let _ = session(stream, kept).await;
                });
            }
        });
        TestSmtp { addr, inbox }
    }

    /// `smtp://127.0.0.1:PORT` (plain SMTP, no TLS: a local test server).
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.inbox.lock().expect("inbox").clone()
    }

    /// Waits (up to 10 s) until a message to `to` arrived whose subject contains `subject`.
    pub async fn wait_for(&self, to: &str, subject: &str) -> Received {
        let start = Instant::now();
        loop {
            let found = self.messages().into_iter().rev().find(|m| {
                m.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(to))
                    && m.header("Subject").is_some_and(|s| s.contains(subject))
            });
            if let Some(m) = found {
                return m;
            }
            if start.elapsed() > Duration::from_secs(10) {
                let seen: Vec<_> = self
                    .messages()
                    .iter()
                    .map(|m| (m.rcpt_to.clone(), m.header("Subject")))
                    .collect();
                panic!("no mail to {to} about '{subject}' arrived; seen: {seen:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    inbox: Arc<Mutex<Vec<Received>>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 testsmtp ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            write
                .write_all(b"250-testsmtp\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                .await?;
        } else if upper.starts_with("HELO") {
            write.write_all(b"250 testsmtp\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&command["MAIL FROM:".len()..]);
            to.clear();
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&command["RCPT TO:".len()..]));
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "DATA" {
            write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut raw = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                raw.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            inbox.lock().expect("inbox").push(Received {
                mail_from: std::mem::take(&mut from),
                rcpt_to: std::mem::take(&mut to),
                raw,
            });
            write.write_all(b"250 OK: queued\r\n").await?;
        } else if upper == "RSET" {
            (from, to) = (String::new(), Vec::new());
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "NOOP" {
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "QUIT" {
            write.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"502 Command not implemented\r\n").await?;
        }
    }
}

/// `<a@b.nl> SIZE=…` → `a@b.nl`.
fn address(arg: &str) -> String {
    let arg = arg.trim();
    match (arg.find('<'), arg.find('>')) {
        (Some(a), Some(b)) if b > a => arg[a + 1..b].to_string(),
        _ => arg.split_whitespace().next().unwrap_or("").to_string(),
    }
}
