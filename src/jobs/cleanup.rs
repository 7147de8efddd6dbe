//! The periodic cleanup as a scheduled job: expired sessions and their map, WSSE nonces
//! past their tokens, throttling windows that ended, and export files that expired or that
//! nothing will finish or serve. Claimed from `scheduled_jobs` like any queue, so one
//! instance at a time runs it, every `EVERY` seconds.

use std::time::Duration;

use super::Worker;
use super::runner::{self, Kind, Outcome, Policy, Settle};
use crate::state::AppState;
use crate::store::StoreResult;
use crate::store::jobs::{self, SCHEDULE, ScheduledRow};

/// Seconds between two cleanups.
pub const EVERY: i64 = 300;

pub const POLICY: Policy = Policy {
    name: "cleanup",
    lease: 60,
    heartbeat: Duration::from_secs(15),
    batch: 1,
    concurrency: 1,
    poll: Duration::from_secs(1),
    max_attempts: i32::MAX,
};

pub struct Cleanup;

pub fn spawn(state: AppState) -> Worker {
    runner::spawn(state, Cleanup)
}

/// Every step is tried; the first failure is reported (the others still ran).
pub async fn once(state: &AppState) -> Result<(), String> {
    let mut failures = Vec::new();
    let mut note = |what: &str, r: Result<(), String>| {
        if let Err(e) = r {
            tracing::warn!(error = %e, "cleanup: could not {what}");
            failures.push(format!("{what}: {e}"));
        }
    };
    note(
        "delete expired sessions",
        crate::users::login::prune_sessions(state)
            .await
            .map_err(|e| e.describe()),
    );
    note(
        "purge expired WSSE nonces",
        crate::api_keys::purge_nonces(state)
            .await
            .map(|_| ())
            .map_err(|e| e.describe()),
    );
    note(
        "prune throttling windows",
        crate::access::throttle::prune(state)
            .await
            .map(|_| ())
            .map_err(|e| e.describe()),
    );
    note(
        "remove expired exports",
        crate::exports::files::remove_expired(state)
            .await
            .map_err(|e| e.describe()),
    );
    note(
        "remove orphaned export files",
        crate::exports::files::remove_orphans(state)
            .await
            .map(|_| ())
            .map_err(|e| e.describe()),
    );
    match failures.into_iter().next() {
        Some(first) => Err(first),
        None => Ok(()),
    }
}

impl Kind for Cleanup {
    type Item = ScheduledRow;
    type Done = ();

    fn policy(&self) -> Policy {
        POLICY
    }

    fn id(row: &ScheduledRow) -> i64 {
        row.id
    }

    fn attempts(row: &ScheduledRow) -> i32 {
        row.attempts
    }

    async fn claim(
        &self,
        state: &AppState,
        now: i64,
        limit: i64,
    ) -> StoreResult<Vec<ScheduledRow>> {
        jobs::claim(&state.db, &SCHEDULE, now, POLICY.lease, limit).await
    }

    async fn extend(&self, state: &AppState, ids: &[i64], now: i64) -> StoreResult<()> {
        jobs::extend(&state.db, &SCHEDULE, ids, now, now + POLICY.lease).await
    }

    async fn run(&self, state: &AppState, row: &ScheduledRow) -> Outcome<()> {
        match row.name.as_str() {
            "cleanup" => match once(state).await {
                Ok(()) => Outcome::Done(()),
                Err(e) => Outcome::Retry(e),
            },
            other => Outcome::GiveUp(format!("no periodic job is called {other:?}")),
        }
    }

    async fn settle(
        &self,
        state: &AppState,
        row: &ScheduledRow,
        how: Settle<()>,
    ) -> StoreResult<()> {
        let now = state.clock.now();
        // A failed cleanup is tried again at the next round, not sooner.
        let (next, error) = match how {
            Settle::Done(()) => (now + EVERY, None),
            Settle::RetryAt(_, e) | Settle::GiveUp(e) => (now + EVERY, Some(e)),
            Settle::Release => return jobs::release(&state.db, &SCHEDULE, row.id).await,
        };
        jobs::reschedule(&state.db, row.id, next, error.as_deref()).await
    }
}
