//! Scenario `reset`: one "all matching" mass Reset Password through the web form (as the
//! grid posts it, like `mass`), then the mail worker delivering every queued email to the
//! tests' SMTP server on loopback (`mailer.dsn` points at it). Reports the POST's wall
//! time (queueing: the emails are rows in the outbox when it answers) and the delivery
//! rate from then until the outbox is drained, counted both at the SMTP server and in the
//! outbox table.

use std::time::{Duration, Instant};

use anyhow::bail;
use gatehouse::store::Db;

use crate::db::{self, BenchDb};
use crate::mailbox::SmtpServer;
use crate::mass::{grid_form, post_mass};
use crate::report::Section;
use crate::seed::{self, ADMIN_PASSWORD, ADMIN_USERNAME, USERNAME_PREFIX};
use crate::server::{self, Server};
use crate::{Args, Scenario};

/// How long delivery may take before the run is called failed.
const DRAIN_LIMIT: Duration = Duration::from_secs(600);

pub async fn run(args: &Args) -> anyhow::Result<Section> {
    db::scenario(args, async |bdb| measure(args, bdb).await).await
}

async fn measure(args: &Args, bdb: &BenchDb) -> anyhow::Result<Section> {
    let title = "Mass Reset Password of all matching users, and mail delivery over SMTP";
    let mut section = seed::section(args, bdb, Scenario::Reset, title).await?;
    let check = bdb.connect().await?;
    // A mass reset skips disabled users (as OroPlatform does); the seed disables one in
    // ten, so they are enabled first and every seeded user gets an email.
    let enabled = db::exec(
        &check,
        &format!(
            "UPDATE users SET enabled = TRUE WHERE username_key LIKE '{USERNAME_PREFIX}%' \
             AND enabled = FALSE"
        ),
    )
    .await?;
    section.fact(
        "Preparation",
        format!("{enabled} seeded users enabled by SQL first (a mass reset skips disabled users)"),
    );
    let smtp = SmtpServer::start().await;
    let mut settings = db::settings(&bdb.url);
    settings.mailer.dsn = smtp.dsn();
    section.fact(
        "Mail",
        "`mailer.dsn` = `smtp://127.0.0.1:PORT`: the integration tests' SMTP server \
         (`tests/app/mailbox.rs`) in this process, on the client's runtime; it parses every \
         message it receives",
    );
    let server = Server::start(settings)?;
    let session = server::sign_in(&server, ADMIN_USERNAME, ADMIN_PASSWORD).await?;
    let client = server::load_client(&session, 1)?;
    let form = grid_form(&client, &server).await?;
    form.record(&mut section);

    let started = Instant::now();
    post_mass(&client, &server, "reset", &form).await?;
    let queue_secs = started.elapsed().as_secs_f64();
    let queued = db::count(&check, "SELECT COUNT(*) FROM mail_outbox").await?;
    let delivered_then = smtp.received.lock().expect("lock").len();
    eprintln!(
        "  reset: {queued} emails queued in {queue_secs:.2} s ({delivered_then} already delivered)"
    );

    let queued_at = Instant::now();
    let deadline = queued_at + DRAIN_LIMIT;
    let (delivered, unsent) = loop {
        let delivered = smtp.received.lock().expect("lock").len();
        let unsent = unsent(&check).await?;
        if unsent == 0 && delivered as i64 >= queued {
            break (delivered, unsent);
        }
        if Instant::now() > deadline {
            bail!("after {DRAIN_LIMIT:?}: {delivered} delivered, {unsent} not sent");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let drain_secs = queued_at.elapsed().as_secs_f64();
    let total_secs = started.elapsed().as_secs_f64();
    let sent_rows = db::count(
        &check,
        "SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NOT NULL",
    )
    .await?;
    let rate = (delivered - delivered_then) as f64 / drain_secs;
    eprintln!("  delivery: {delivered} delivered in {drain_secs:.2} s after the POST, {rate:.0}/s");

    section.columns(&[
        "emails queued (outbox rows)",
        "POST wall time s",
        "delivered during the POST",
        "delivered (SMTP server)",
        "outbox rows sent",
        "unsent",
        "drain after POST s",
        "emails/s after POST",
        "POST start to drained s",
    ]);
    section.row(vec![
        queued.to_string(),
        format!("{queue_secs:.2}"),
        delivered_then.to_string(),
        delivered.to_string(),
        sent_rows.to_string(),
        unsent.to_string(),
        format!("{drain_secs:.2}"),
        format!("{rate:.0}"),
        format!("{total_secs:.2}"),
    ]);
    section.notes.push(
        "The POST answers once the reset is committed: every email is then a row in the \
         outbox. The worker starts delivering at that commit, so the few emails delivered \
         before the answer arrived are left out of the rate (emails/s after POST = emails \
         delivered after the answer / time from the answer until the SMTP server has them \
         all and no row is unsent; polled every 20 ms)."
            .into(),
    );
    check.close().await;
    drop(client);
    tokio::task::block_in_place(|| server.stop());
    drop(smtp);
    Ok(section)
}

async fn unsent(db: &Db) -> anyhow::Result<i64> {
    db::count(db, "SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL").await
}
