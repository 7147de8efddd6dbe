//! Exports as a job: a requested export is claimed, its file written
//! (`exports::csv::write`), and the result recorded with its email in one transaction, so
//! the email exists exactly when the result does. A failure is given up at once (its reason
//! goes to the requester); a runner that dies mid-file leaves the job to another once its
//! lease runs out, and that attempt writes the file whole again, so no row appears twice.

use std::time::Duration;

use super::Worker;
use super::runner::{self, Kind, Outcome, Policy, Settle};
use crate::state::AppState;
use crate::store::exports::{self, JobRow};
use crate::store::{StoreResult, jobs};

pub const POLICY: Policy = Policy {
    name: "export",
    lease: 60,
    heartbeat: Duration::from_secs(15),
    batch: 1,
    concurrency: 1,
    poll: Duration::from_secs(2),
    max_attempts: i32::MAX,
};

pub struct Export;

pub fn spawn(state: AppState) -> Worker {
    runner::spawn(state, Export)
}

/// What a finished export wrote: (rows, file name, bytes).
type Written = (i64, String, i64);

impl Kind for Export {
    type Item = JobRow;
    type Done = Written;

    fn policy(&self) -> Policy {
        POLICY
    }

    fn id(job: &JobRow) -> i64 {
        job.id.get()
    }

    fn attempts(job: &JobRow) -> i32 {
        job.attempts
    }

    async fn claim(&self, state: &AppState, now: i64, limit: i64) -> StoreResult<Vec<JobRow>> {
        jobs::claim(&state.db, &exports::QUEUE, now, POLICY.lease, limit).await
    }

    async fn extend(&self, state: &AppState, ids: &[i64], now: i64) -> StoreResult<()> {
        jobs::extend(&state.db, &exports::QUEUE, ids, now, now + POLICY.lease).await
    }

    async fn run(&self, state: &AppState, job: &JobRow) -> Outcome<Written> {
        match crate::exports::csv::write(state, job).await {
            Ok(written) => Outcome::Done(written),
            Err(e) => Outcome::GiveUp(e.describe()),
        }
    }

    async fn settle(
        &self,
        state: &AppState,
        job: &JobRow,
        how: Settle<Written>,
    ) -> StoreResult<()> {
        if let Settle::Release = how {
            return jobs::release(&state.db, &exports::QUEUE, job.id.get()).await;
        }
        if let Err(e) = crate::exports::record(state, job, how).await {
            tracing::error!(job = job.id.get(), error = %e.describe(), "could not record an export");
            return Err(sqlx::Error::Protocol(e.describe()));
        }
        Ok(())
    }
}
