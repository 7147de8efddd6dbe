//! Delivers the mail outbox: claims due rows in batches, sends each through the configured
//! transport, and records the outcome. Bodies were rendered when the row was written, so
//! what is sent is exactly what was committed.
//!
//! Retry policy: a failed attempt is retried after 30 s, doubling each time up to one hour
//! (30 s, 1 min, 2 min, ... 32 min, then hourly); after `MAX_ATTEMPTS` attempts (about a day
//! and a half) the row is given up (`failed_at`), and keeps its `last_error`. A message that
//! cannot be built at all (a recipient address that does not parse) is given up at once.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;

use super::{Stop, Worker};
use crate::mail::transport::{Mailer, SendError};
use crate::state::AppState;
use crate::store::{StoreResult, outbox};

/// Rows claimed per statement: two rounds of `CONCURRENCY`.
pub const BATCH: i64 = 2 * CONCURRENCY as i64;
/// SMTP conversations in flight at once, each on its own pooled connection. One at a
/// time, a worker sent about 21 emails/s: lettre 0.11.23 leaves Nagle's algorithm on, so
/// the final `.` of every message waits for the server's delayed ACK (40 ms on Linux).
/// Until a lettre release sets TCP_NODELAY (lettre PR #1159), overlapping conversations
/// is what brings throughput up.
pub const CONCURRENCY: usize = crate::mail::transport::SMTP_CONNECTIONS as usize;
/// How long a claim lasts without a heartbeat. Short, so the rows of a worker that died
/// (a killed process, a lost host) are due again within seconds; a live worker renews the
/// claims of the rows it still has in flight every `HEARTBEAT`, however long an SMTP
/// conversation takes.
pub const LEASE_SECS: i64 = 15;
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// How often the table is polled for rows queued by other processes (or due for retry).
pub const POLL: Duration = Duration::from_secs(1);
pub const MAX_ATTEMPTS: i32 = 40;
const FIRST_RETRY_SECS: i64 = 30;
const MAX_RETRY_SECS: i64 = 3600;
/// Stored errors are cut to this many characters.
const MAX_ERROR_LEN: usize = 1000;

/// Seconds to wait after the `attempts`-th failed attempt.
pub fn retry_delay(attempts: i32) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(16);
    (FIRST_RETRY_SECS << doublings).min(MAX_RETRY_SECS)
}

/// Starts the worker. Fails (before anything is sent) when `mailer.dsn` or `mailer.from`
/// cannot be used, so a bad configuration stops start-up instead of every email.
pub fn spawn(state: AppState) -> anyhow::Result<Worker> {
    let mailer = Mailer::from_settings(&state.settings)?;
    Ok(Worker::spawn("mail", move |stop| run(state, mailer, stop)))
}

async fn run(state: AppState, mailer: Mailer, mut stop: Stop) {
    while !stop.requested() {
        match deliver_due(&state, &mailer, &stop).await {
            // A full batch: more may be waiting.
            Ok(n) if n as i64 == BATCH => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "mail outbox unavailable; will retry"),
        }
        tokio::select! {
            _ = stop.wait() => break,
            _ = state.outbox.woken() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Claims one batch and delivers it, `CONCURRENCY` rows at a time; returns how many rows
/// were claimed. Each row is recorded as soon as its own conversation ends, so a worker
/// that dies can only send again the rows it had in flight. When a stop is requested
/// mid-batch, the rows not yet attempted are given back.
pub async fn deliver_due(state: &AppState, mailer: &Mailer, stop: &Stop) -> StoreResult<usize> {
    let batch = outbox::claim(&state.db, state.clock.now(), LEASE_SECS, BATCH).await?;
    let claimed = batch.len();
    if claimed == 0 {
        return Ok(0);
    }
    let in_flight: Mutex<HashSet<i64>> = Mutex::new(batch.iter().map(|r| r.id).collect());
    let settle = |id: i64| {
        in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    };
    let deliveries = async {
        let mut outcomes = futures_util::stream::iter(batch)
            .map(|row| async {
                let id = row.id;
                let outcome = deliver_one(state, mailer, stop, row).await;
                settle(id);
                outcome
            })
            .buffer_unordered(CONCURRENCY);
        let mut first_error = None;
        // Every row is settled (recorded or given back) before an error is reported.
        while let Some(outcome) = outcomes.next().await {
            if let Err(e) = outcome {
                first_error.get_or_insert(e);
            }
        }
        first_error
    };
    // The heartbeat runs in this task, beside the deliveries: if the worker dies, so does
    // the heartbeat, and the claims run out.
    let heartbeat = async {
        loop {
            tokio::time::sleep(HEARTBEAT).await;
            let ids: Vec<i64> = in_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .copied()
                .collect();
            let until = state.clock.now() + LEASE_SECS;
            if let Err(e) = outbox::extend_claims(&state.db, &ids, until).await {
                tracing::warn!(error = %e, "could not renew the claims of emails in flight");
            }
        }
    };
    let first_error = tokio::select! {
        first_error = deliveries => first_error,
        () = heartbeat => None,
    };
    match first_error {
        Some(e) => Err(e),
        None => Ok(claimed),
    }
}

async fn deliver_one(
    state: &AppState,
    mailer: &Mailer,
    stop: &Stop,
    row: outbox::Claimed,
) -> StoreResult<()> {
    if stop.requested() {
        return outbox::release(&state.db, row.id).await;
    }
    let result = mailer.send(&row).await;
    record(state, &row, result).await
}

async fn record(
    state: &AppState,
    row: &outbox::Claimed,
    result: Result<(), SendError>,
) -> StoreResult<()> {
    let now = state.clock.now();
    match result {
        Ok(()) => {
            if outbox::mark_sent(&state.db, row.id, now).await? {
                tracing::info!(id = row.id, template = %row.template, "email delivered");
            }
        }
        Err(e) => {
            let give_up = e.permanent || row.attempts >= MAX_ATTEMPTS;
            let retry_at = (!give_up).then(|| now + retry_delay(row.attempts));
            let message: String = e.message.chars().take(MAX_ERROR_LEN).collect();
            outbox::mark_failed(&state.db, row.id, &message, retry_at, now).await?;
            if give_up {
                tracing::error!(id = row.id, template = %row.template, attempts = row.attempts,
                    error = %message, "email given up");
            } else {
                tracing::warn!(id = row.id, template = %row.template, attempts = row.attempts,
                    error = %message, "email delivery failed; will retry");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_then_caps_at_an_hour() {
        let delays: Vec<i64> = (1..=9).map(super::retry_delay).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(super::retry_delay(40), 3600);
        assert_eq!(super::retry_delay(0), 30);
    }
}
