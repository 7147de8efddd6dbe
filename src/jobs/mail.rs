//! Mail delivery as a job: the outbox's due rows, each sent through the configured
//! transport. Bodies were rendered when the row was written, so what is sent is exactly
//! what was committed. A failed attempt is retried with the runner's backoff (30 s,
//! doubling, at most hourly); after `MAX_ATTEMPTS` (about a day and a half) the row is given
//! up (`failed_at`) and keeps its `last_error`. A message that cannot be built at all (a
//! recipient address that does not parse) is given up at once.

use std::time::Duration;

use super::Worker;
use super::runner::{self, Kind, Outcome, Policy, Settle};
use crate::mail::transport::Mailer;
use crate::state::AppState;
use crate::store::{StoreResult, jobs, outbox};

/// SMTP conversations in flight at once, each on its own pooled connection. One at a
/// time, a worker sent about 21 emails/s: lettre 0.11.23 leaves Nagle's algorithm on, so
/// the final `.` of every message waits for the server's delayed ACK (40 ms on Linux).
/// Until a lettre release sets TCP_NODELAY (lettre PR #1159), overlapping conversations
/// is what brings throughput up.
pub const CONCURRENCY: usize = crate::mail::transport::SMTP_CONNECTIONS as usize;
pub const MAX_ATTEMPTS: i32 = 40;
/// Stored errors are cut to this many characters.
const MAX_ERROR_LEN: usize = 1000;

pub const POLICY: Policy = Policy {
    name: "mail",
    // Short: the rows of a worker that died are sent by another within seconds; a live
    // one renews its claims every heartbeat, however long a conversation takes.
    lease: 15,
    heartbeat: Duration::from_secs(5),
    // Two rounds of `CONCURRENCY`.
    batch: 2 * CONCURRENCY as i64,
    concurrency: CONCURRENCY,
    poll: Duration::from_secs(1),
    max_attempts: MAX_ATTEMPTS,
};

pub struct Delivery {
    mailer: Mailer,
}

/// Starts the mail runner. Fails (before anything is sent) when `mailer.dsn` or
/// `mailer.from` cannot be used, so a bad configuration stops start-up instead of every
/// email.
pub fn spawn(state: AppState) -> anyhow::Result<Worker> {
    let mailer = Mailer::from_settings(&state.settings)?;
    Ok(runner::spawn(state, Delivery { mailer }))
}

impl Kind for Delivery {
    type Item = outbox::Claimed;
    type Done = ();

    fn policy(&self) -> Policy {
        POLICY
    }

    fn id(item: &outbox::Claimed) -> i64 {
        item.id
    }

    fn attempts(item: &outbox::Claimed) -> i32 {
        item.attempts
    }

    async fn claim(
        &self,
        state: &AppState,
        now: i64,
        limit: i64,
    ) -> StoreResult<Vec<outbox::Claimed>> {
        let mut rows: Vec<outbox::Claimed> =
            jobs::claim(&state.db, &outbox::QUEUE, now, POLICY.lease, limit).await?;
        // RETURNING promises no order; oldest first keeps delivery in the order of events.
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    async fn extend(&self, state: &AppState, ids: &[i64], now: i64) -> StoreResult<()> {
        jobs::extend(&state.db, &outbox::QUEUE, ids, now, now + POLICY.lease).await
    }

    async fn run(&self, _state: &AppState, row: &outbox::Claimed) -> Outcome<()> {
        match self.mailer.send(row).await {
            Ok(()) => Outcome::Done(()),
            Err(e) => {
                let message: String = e.message.chars().take(MAX_ERROR_LEN).collect();
                if e.permanent {
                    Outcome::GiveUp(message)
                } else {
                    Outcome::Retry(message)
                }
            }
        }
    }

    async fn settle(
        &self,
        state: &AppState,
        row: &outbox::Claimed,
        how: Settle<()>,
    ) -> StoreResult<()> {
        let now = state.clock.now();
        match how {
            Settle::Done(()) => {
                if outbox::mark_sent(&state.db, row.id, now).await? {
                    tracing::info!(id = row.id, template = %row.template, "email delivered");
                }
            }
            Settle::RetryAt(at, error) => {
                outbox::mark_failed(&state.db, row.id, &error, Some(at), now).await?;
                tracing::warn!(id = row.id, template = %row.template, attempts = row.attempts,
                    error = %error, "email delivery failed; will retry");
            }
            Settle::GiveUp(error) => {
                outbox::mark_failed(&state.db, row.id, &error, None, now).await?;
                tracing::error!(id = row.id, template = %row.template, attempts = row.attempts,
                    error = %error, "email given up");
            }
            Settle::Release => jobs::release(&state.db, &outbox::QUEUE, row.id).await?,
        }
        Ok(())
    }
}
