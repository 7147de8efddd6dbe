//! The mail transport named by `mailer.dsn`, and turning an outbox row into a MIME message.
//!
//! - `file://DIR`: each email written as an `.eml` file in DIR (created, or created again,
//!   when an email is written, so a missing folder is a failed attempt that is retried);
//! - `smtp://[user:pass@]host:port`: plain SMTP; add `?tls=required` for STARTTLS, or
//!   `?tls=opportunistic` to use STARTTLS when the server offers it;
//! - `smtps://[user:pass@]host:port`: SMTP over implicit TLS (rustls with ring, the web PKI
//!   roots, no OpenSSL);
//! - `null://`: every email is accepted and discarded.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::anyhow;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Settings;
use crate::store::outbox::Claimed;

/// How long one SMTP conversation may take. The runner's heartbeat keeps the row claimed
/// meanwhile (`jobs::mail::POLICY`), however long that is.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// SMTP connections kept open per process (lettre's pool; its default is 10), one per
/// conversation `jobs::mail` runs at once. Below Postfix's default limit of 50 connections
/// per client (`smtpd_client_connection_count_limit`).
pub const SMTP_CONNECTIONS: u32 = 32;

pub enum Transport {
    Smtp(Box<AsyncSmtpTransport<Tokio1Executor>>),
    File(PathBuf, AsyncFileTransport<Tokio1Executor>),
    Null,
}

/// Why a send failed, and whether trying again can help.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub message: String,
    /// The message itself is unusable (an address that does not parse): no retry.
    pub permanent: bool,
}

impl SendError {
    fn transient(e: impl std::fmt::Display) -> Self {
        Self {
            message: e.to_string(),
            permanent: false,
        }
    }
}

/// The transport plus what every message carries: the sender and the domain of Message-IDs.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    id_domain: String,
}

impl Transport {
    /// Builds the transport; the error names the key and never repeats the DSN, which may
    /// hold a password.
    pub fn from_dsn(dsn: &str) -> anyhow::Result<Self> {
        if let Some(dir) = dsn.strip_prefix("file://") {
            if dir.is_empty() {
                return Err(anyhow!(
                    "`mailer.dsn`: file:// needs a folder, e.g. file://var/mail"
                ));
            }
            let dir = PathBuf::from(dir);
            Ok(Transport::File(dir.clone(), AsyncFileTransport::new(dir)))
        } else if dsn.starts_with("smtp://") || dsn.starts_with("smtps://") {
            let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(dsn)
                .map_err(|e| anyhow!("`mailer.dsn`: not a usable SMTP URL: {e}"))?
                .timeout(Some(SMTP_TIMEOUT))
                .pool_config(PoolConfig::new().max_size(SMTP_CONNECTIONS))
                .build();
            Ok(Transport::Smtp(Box::new(smtp)))
        } else if dsn.starts_with("null://") {
            Ok(Transport::Null)
        } else {
            Err(anyhow!(
                "`mailer.dsn`: expected file://, smtp://, smtps:// or null://"
            ))
        }
    }

    async fn send(&self, message: Message) -> Result<(), SendError> {
        match self {
            Transport::Smtp(t) => t
                .send(message)
                .await
                .map(|_| ())
                .map_err(SendError::transient),
            Transport::File(dir, t) => {
                tokio::fs::create_dir_all(dir).await.map_err(|e| {
                    SendError::transient(format!("cannot create {}: {e}", dir.display()))
                })?;
                t.send(message)
                    .await
                    .map(|_| ())
                    .map_err(SendError::transient)
            }
            Transport::Null => Ok(()),
        }
    }
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let from: Mailbox = settings
            .mailer
            .from
            .parse()
            .map_err(|e| anyhow!("`mailer.from`: not a valid sender address: {e}"))?;
        Ok(Self {
            transport: Transport::from_dsn(&settings.mailer.dsn)?,
            from,
            id_domain: settings
                .server
                .public_url
                .host_str()
                .unwrap_or("localhost")
                .to_owned(),
        })
    }

    /// Sends one outbox row.
    pub async fn send(&self, row: &Claimed) -> Result<(), SendError> {
        let message = self.message(row)?;
        self.transport.send(message).await
    }

    /// The MIME message for a row. The Message-ID is derived from the row, so a retry of a
    /// delivery that did arrive (the server accepted, then the connection broke) carries the
    /// same id and mail systems can drop the duplicate.
    pub fn message(&self, row: &Claimed) -> Result<Message, SendError> {
        let permanent = |message: String| SendError {
            message,
            permanent: true,
        };
        let to: Mailbox = row
            .recipient
            .parse()
            .map_err(|e| permanent(format!("invalid recipient address: {e}")))?;
        let created = SystemTime::UNIX_EPOCH
            + Duration::from_secs(u64::try_from(row.created_at).unwrap_or_default());
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(row.subject.clone())
            .date(created)
            .message_id(Some(format!(
                "<gatehouse.{}.{}@{}>",
                row.id, row.created_at, self.id_domain
            )));
        let built = match &row.html_body {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                row.text_body.clone(),
                html.clone(),
            )),
            None => builder.singlepart(SinglePart::plain(row.text_body.clone())),
        };
        built.map_err(|e| permanent(format!("cannot build the message: {e}")))
    }
}
