//! The one runner of background jobs: claim a batch under a lease, run it with a heartbeat
//! that renews the leases of the items still in hand, and settle each item as it ends
//! (done, retried after a backoff, or given up after the kind's last attempt). Written once;
//! each kind (`Kind`) says only how to claim, run and record its own rows.
//!
//! A runner wakes at the `WorkSignal` (raised by every commit that queued work in this
//! process) or at its poll, which is how work queued by other processes, or due for a
//! retry, is found.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;

use super::{Stop, Worker};
use crate::state::AppState;
use crate::store::StoreResult;

/// How a kind of job runs.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub name: &'static str,
    /// Seconds a claim lasts without a heartbeat: the rows of a runner that died are due
    /// again this long after its last heartbeat.
    pub lease: i64,
    pub heartbeat: Duration,
    /// Items claimed at once, and run at once.
    pub batch: i64,
    pub concurrency: usize,
    pub poll: Duration,
    /// Attempts after which a failure is not retried any more.
    pub max_attempts: i32,
}

/// How one attempt at an item ended.
#[derive(Debug)]
pub enum Outcome<T> {
    Done(T),
    /// A failure worth another attempt (the server was away, the database busy).
    Retry(String),
    /// A failure no later attempt would change.
    GiveUp(String),
}

/// What the runner asks the kind to record for an item.
#[derive(Debug)]
pub enum Settle<T> {
    Done(T),
    /// Due again at this time.
    RetryAt(i64, String),
    GiveUp(String),
    /// Not attempted (the runner is stopping): due again at once, no attempt counted.
    Release,
}

/// Seconds to wait after the `attempts`-th failed attempt: 30 s, doubling each time, at
/// most an hour.
pub fn retry_delay(attempts: i32) -> i64 {
    const FIRST: i64 = 30;
    const MOST: i64 = 3600;
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(16);
    (FIRST << doublings).min(MOST)
}

/// A kind of job.
pub trait Kind: Send + Sync + 'static {
    type Item: Send + Sync;
    type Done: Send;

    fn policy(&self) -> Policy;
    fn id(item: &Self::Item) -> i64;
    /// Attempts counted so far, the one this claim starts included.
    fn attempts(item: &Self::Item) -> i32;

    fn claim(
        &self,
        state: &AppState,
        now: i64,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<Self::Item>>> + Send;
    fn extend(
        &self,
        state: &AppState,
        ids: &[i64],
        now: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn run(
        &self,
        state: &AppState,
        item: &Self::Item,
    ) -> impl Future<Output = Outcome<Self::Done>> + Send;
    fn settle(
        &self,
        state: &AppState,
        item: &Self::Item,
        how: Settle<Self::Done>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

/// Starts a runner for `kind`.
pub fn spawn<K: Kind>(state: AppState, kind: K) -> Worker {
    let name = kind.policy().name;
    Worker::spawn(name, move |stop| run(state, kind, stop))
}

async fn run<K: Kind>(state: AppState, kind: K, mut stop: Stop) {
    let policy = kind.policy();
    let mut woken = state.jobs.subscribe();
    while !stop.requested() {
        match batch(&state, &kind, &stop).await {
            // A full batch: more may be waiting.
            Ok(n) if n as i64 == policy.batch => continue,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(job = policy.name, error = %e, "job queue unavailable; will retry")
            }
        }
        tokio::select! {
            () = stop.wait() => break,
            _ = woken.changed() => {}
            () = tokio::time::sleep(policy.poll) => {}
        }
    }
}

/// Claims one batch and runs it; returns how many items were claimed. Each item is settled
/// as soon as its own attempt ends, so a runner that dies can only repeat the items it had
/// in hand; when a stop is requested, the items not yet started are given back.
pub async fn batch<K: Kind>(state: &AppState, kind: &K, stop: &Stop) -> StoreResult<usize> {
    let policy = kind.policy();
    let items = kind.claim(state, state.clock.now(), policy.batch).await?;
    let claimed = items.len();
    if claimed == 0 {
        return Ok(0);
    }
    let in_hand: Mutex<HashSet<i64>> = Mutex::new(items.iter().map(K::id).collect());
    let done_with = |id: i64| {
        in_hand
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    };
    let done_with = &done_with;
    let work = async {
        let mut settled = futures_util::stream::iter(items)
            .map(|item| async move {
                let result = attempt(state, kind, stop, &item).await;
                done_with(K::id(&item));
                result
            })
            .buffer_unordered(policy.concurrency);
        let mut first_error = None;
        // Every item is settled (recorded or given back) before an error is reported.
        while let Some(result) = settled.next().await {
            if let Err(e) = result {
                first_error.get_or_insert(e);
            }
        }
        first_error
    };
    // The heartbeat runs in this task, beside the work: if the runner dies, so does the
    // heartbeat, and the leases run out.
    let heartbeat = async {
        loop {
            tokio::time::sleep(policy.heartbeat).await;
            let ids: Vec<i64> = in_hand
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .copied()
                .collect();
            if let Err(e) = kind.extend(state, &ids, state.clock.now()).await {
                tracing::warn!(job = policy.name, error = %e, "could not renew the leases of jobs in hand");
            }
        }
    };
    let first_error = tokio::select! {
        first_error = work => first_error,
        () = heartbeat => None,
    };
    match first_error {
        Some(e) => Err(e),
        None => Ok(claimed),
    }
}

async fn attempt<K: Kind>(
    state: &AppState,
    kind: &K,
    stop: &Stop,
    item: &K::Item,
) -> StoreResult<()> {
    if stop.requested() {
        return kind.settle(state, item, Settle::Release).await;
    }
    let policy = kind.policy();
    let how = match kind.run(state, item).await {
        Outcome::Done(d) => Settle::Done(d),
        Outcome::GiveUp(e) => Settle::GiveUp(e),
        Outcome::Retry(e) if K::attempts(item) >= policy.max_attempts => Settle::GiveUp(e),
        Outcome::Retry(e) => Settle::RetryAt(state.clock.now() + retry_delay(K::attempts(item)), e),
    };
    kind.settle(state, item, how).await
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
