//! Records WSSE nonces in groups. Every API request must have its nonce recorded, durably,
//! before it is answered. One INSERT and one commit per request cost a fifth of the API's
//! throughput on PostgreSQL (a WAL flush each; see BENCHMARKS.md). Here the requests that
//! arrive while a group is being written wait for the next group: one statement and one
//! commit for all of them. Whether a nonce is new is still decided by the database's unique
//! key, so instances sharing the database agree, and nothing is answered before its
//! group has committed.

use std::collections::HashSet;

use anyhow::anyhow;
use tokio::sync::{mpsc, oneshot};

use crate::error::AppResult;
use crate::store::{Db, nonces};

/// Most nonces written by one statement (two parameters each).
const MOST_PER_GROUP: usize = 256;

/// The queue to this process's nonce writer, cheap to clone.
#[derive(Clone)]
pub struct NonceRecorder {
    queue: mpsc::Sender<Pending>,
}

struct Pending {
    nonce: String,
    expires_at: i64,
    now: i64,
    /// Whether the nonce was new, or why it could not be recorded.
    answer: oneshot::Sender<Result<bool, String>>,
}

impl NonceRecorder {
    /// Starts the writer on the current runtime; it stops when the last clone is dropped.
    pub fn start(db: Db) -> Self {
        let (queue, pending) = mpsc::channel(4 * MOST_PER_GROUP);
        tokio::spawn(write_groups(db, pending));
        Self { queue }
    }

    /// Records `nonce` until `expires_at`. False when it is already recorded and not yet
    /// expired: a replay.
    pub async fn remember(&self, nonce: &str, expires_at: i64, now: i64) -> AppResult<bool> {
        let (answer, answered) = oneshot::channel();
        let pending = Pending {
            nonce: nonce.to_owned(),
            expires_at,
            now,
            answer,
        };
        let stopped = || anyhow!("the WSSE nonce writer has stopped");
        self.queue.send(pending).await.map_err(|_| stopped())?;
        match answered.await.map_err(|_| stopped())? {
            Ok(new) => Ok(new),
            Err(e) => Err(anyhow!("could not record a WSSE nonce: {e}").into()),
        }
    }
}

async fn write_groups(db: Db, mut pending: mpsc::Receiver<Pending>) {
    let mut group = Vec::with_capacity(MOST_PER_GROUP);
    // Waits for one request, then takes every other one already waiting.
    while pending.recv_many(&mut group, MOST_PER_GROUP).await > 0 {
        write_group(&db, &mut group).await;
    }
}

/// Writes one group and answers each of its requests; empties `group`.
async fn write_group(db: &Db, group: &mut Vec<Pending>) {
    // The same nonce twice in one group: only its first occurrence can be new.
    let mut seen = HashSet::with_capacity(group.len());
    let first: Vec<bool> = group
        .iter()
        .map(|p| seen.insert(p.nonce.as_str()))
        .collect();
    let rows: Vec<(&str, i64)> = group
        .iter()
        .zip(&first)
        .filter(|(_, first)| **first)
        .map(|(p, _)| (p.nonce.as_str(), p.expires_at))
        .collect();
    // The earliest clock of the group: a stored nonce is taken over only if it expired
    // before every request in the group was made.
    let now = group.iter().map(|p| p.now).min().unwrap_or_default();
    let written = nonces::remember_group(db, &rows, now)
        .await
        .map_err(|e| e.to_string());
    drop(rows);
    drop(seen);
    for (p, first) in group.drain(..).zip(first) {
        let answer = match &written {
            Ok(new) => Ok(first && new.contains(&p.nonce)),
            Err(e) => Err(e.clone()),
        };
        // The request may have gone away meanwhile; its nonce stays recorded.
        let _ = p.answer.send(answer);
    }
}
