//! Email. The rules never talk to a mail server: they render an `Email` from a template and
//! `enqueue` it inside their own transaction, so the email exists if and only if the change
//! that causes it was committed. `jobs::mail` delivers the rows through the transport that
//! `mailer.dsn` names.

pub mod templates;
pub mod transport;

use crate::error::AppResult;
use crate::store::{Tx, outbox};

/// A rendered email, ready to be queued.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// The same content as HTML, sent as an alternative to the text.
    pub html: Option<String>,
    /// Which template made it, kept with the row for inspection.
    pub template: &'static str,
}

/// Queues `email` in the caller's transaction; when a transaction opened with
/// `AppState::begin` commits, it wakes this process's runners, so the email goes at once
/// rather than at the next poll.
pub async fn enqueue(tx: &mut Tx, email: &Email, now: i64) -> AppResult<i64> {
    Ok(outbox::insert(tx, &row(email, now)).await?)
}

/// `enqueue` for many emails at once (a mass action's): a few multi-row statements instead
/// of one round trip per email.
pub async fn enqueue_many(tx: &mut Tx, emails: &[Email], now: i64) -> AppResult<()> {
    let rows: Vec<outbox::NewMail<'_>> = emails.iter().map(|e| row(e, now)).collect();
    Ok(outbox::insert_many(tx, &rows).await?)
}

fn row(email: &Email, now: i64) -> outbox::NewMail<'_> {
    outbox::NewMail {
        recipient: &email.to,
        subject: &email.subject,
        text_body: &email.text,
        html_body: email.html.as_deref(),
        template: email.template,
        now,
    }
}
