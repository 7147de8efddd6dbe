//! Background work: rows claimed from the database with a lease, so several Gatehouse
//! processes share the work and a crashed one's work is picked up again.

pub mod export;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::state::AppState;

/// Wakes this process's workers early (the polling loop finds the work anyway).
#[derive(Clone, Default)]
pub struct Wakers {
    pub exports: Arc<Notify>,
}

pub fn wake_exports(state: &AppState) {
    state.wakers.exports.notify_one();
}
