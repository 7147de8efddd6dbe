//! Reading email for real: the .eml files of the `file://` transport, and a small SMTP
//! server on loopback (enough of RFC 5321 for lettre: EHLO, MAIL, RCPT, DATA, RSET, NOOP,
//! QUIT) that can be stopped and started again on the same port.

use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Polls `check` until it returns Some, failing the test after `secs` seconds.
pub async fn eventually<T, F, Fut>(what: &str, secs: u64, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One email, decoded (quoted-printable and base64 undone).
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub text: String,
    pub html: Option<String>,
}

impl Mail {
    /// None while the message is incomplete (a file still being written).
    pub fn parse(raw: &[u8]) -> Option<Self> {
        let parsed = mailparse::parse_mail(raw).ok()?;
        let header = |name: &str| {
            parsed
                .headers
                .iter()
                .find(|h| h.get_key_ref().eq_ignore_ascii_case(name))
                .map(|h| h.get_value())
        };
        let (text, html) = if parsed.subparts.is_empty() {
            (parsed.get_body().ok()?, None)
        } else {
            let part = |mime: &str| {
                parsed
                    .subparts
                    .iter()
                    .find(|p| p.ctype.mimetype == mime)
                    .and_then(|p| p.get_body().ok())
            };
            (part("text/plain")?, Some(part("text/html")?))
        };
        Some(Self {
            to: header("To")?,
            subject: header("Subject")?,
            message_id: header("Message-ID")?,
            text,
            html,
        })
    }

    /// The first link in the text part that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> Option<String> {
        let start = self.text.find(prefix)?;
        let link: String = self.text[start..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        Some(link)
    }
}

/// Every complete .eml file in `dir`, oldest first.
pub fn read_dir(dir: &Path) -> Vec<Mail> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).collect())
        .unwrap_or_default();
    files.retain(|e| e.path().extension().is_some_and(|x| x == "eml"));
    files.sort_by_key(|e| e.metadata().and_then(|m| m.modified()).ok());
    files
        .iter()
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|raw| Mail::parse(&raw))
        .collect()
}

/// Waits until `dir` holds `n` complete emails and returns them.
pub async fn wait_for_files(dir: &Path, n: usize) -> Vec<Mail> {
    eventually(&format!("{n} email file(s)"), 20, || async {
        let mails = read_dir(dir);
        (mails.len() >= n).then_some(mails)
    })
    .await
}

/// A message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The name the client gave in EHLO/HELO.
    pub helo: String,
    pub mail: Mail,
}

pub struct SmtpServer {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Delivery>>>,
    /// Added before each DATA answer, so senders overlap in time.
    delay: Duration,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl SmtpServer {
    pub async fn start() -> Self {
        Self::start_with_delay(Duration::ZERO).await
    }

    pub async fn start_with_delay(delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind SMTP");
        let port = listener.local_addr().expect("addr").port();
        let server = Self {
            port,
            received: Arc::default(),
            delay,
            tasks: Arc::default(),
        };
        server.serve(listener);
        server
    }

    pub fn dsn(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.received.lock().expect("lock").clone()
    }

    /// Closes the listener and every open connection: the port refuses connections.
    pub fn stop(&self) {
        for t in self.tasks.lock().expect("lock").drain(..) {
            t.abort();
        }
    }

    /// Listens again on the same port, keeping what was received.
    pub async fn restart(&self) {
        let listener = eventually("the SMTP port to be free again", 10, || async {
            TcpListener::bind(("127.0.0.1", self.port)).await.ok()
        })
        .await;
        self.serve(listener);
    }

    fn serve(&self, listener: TcpListener) {
        let received = self.received.clone();
        let tasks = self.tasks.clone();
        let delay = self.delay;
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let received = received.clone();
                let conn = tokio::spawn(async move {
                    let _ = session(stream, received, delay).await;
                });
                tasks.lock().expect("lock").push(conn);
            }
        });
        self.tasks.lock().expect("lock").push(accept);
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    received: Arc<Mutex<Vec<Delivery>>>,
    delay: Duration,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 localhost test SMTP\r\n").await?;
    let mut helo = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.trim_end().to_ascii_uppercase();
        let verb = upper.split(' ').next().unwrap_or("");
        match verb {
            "EHLO" | "HELO" => {
                helo = line.trim_end()[4..].trim().to_owned();
                write
                    .write_all(b"250-localhost\r\n250 8BITMIME\r\n")
                    .await?;
            }
            "MAIL" | "RCPT" | "RSET" | "NOOP" => write.write_all(b"250 OK\r\n").await?,
            "DATA" => {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut data = Vec::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    // RFC 5321 section 4.5.2: a leading dot was doubled by the sender.
                    let l = line.strip_prefix('.').unwrap_or(&line);
                    data.extend_from_slice(l.as_bytes());
                }
                tokio::time::sleep(delay).await;
                let mail = Mail::parse(&data).expect("a complete message");
                received.lock().expect("lock").push(Delivery {
                    helo: helo.clone(),
                    mail,
                });
                write.write_all(b"250 queued\r\n").await?;
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => write.write_all(b"502 not implemented\r\n").await?,
        }
    }
}
