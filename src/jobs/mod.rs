//! Background work, started by `Application::run` next to the HTTP server: one runner
//! (`runner`) for every kind of job (`Kind`: mail delivery, exports, the periodic cleanup).
//! Their work is rows in the database, never memory: a runner that stops (or a process that
//! dies) leaves the rows for the next one.

pub mod cleanup;
pub mod export;
pub mod mail;
pub mod runner;

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A running worker and the means to stop it. Dropping it aborts the worker: the
/// application's workers live exactly as long as the `run` that started them, as they
/// would in a process that is killed.
pub struct Worker {
    name: &'static str,
    stop: watch::Sender<bool>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.abort();
        }
    }
}

/// What a worker watches to know it should finish what it is doing and return.
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    pub fn requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once a stop is requested (at once if it already was).
    pub async fn wait(&mut self) {
        // An error means the Worker handle is gone, which is a stop too.
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

impl Worker {
    pub fn spawn<F, Fut>(name: &'static str, body: F) -> Self
    where
        F: FnOnce(Stop) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (stop, rx) = watch::channel(false);
        let handle = tokio::spawn(body(Stop(rx)));
        Self {
            name,
            stop,
            handle: Some(handle),
        }
    }

    /// Asks the worker to stop and waits up to `grace` for it to finish the item in hand;
    /// after that it is aborted (its claimed rows become due again when their lease ends).
    pub async fn stop(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        let Some(mut handle) = self.handle.take() else {
            return;
        };
        if tokio::time::timeout(grace, &mut handle).await.is_err() {
            tracing::warn!(
                worker = self.name,
                "worker did not stop in time; aborting it"
            );
            handle.abort();
        }
    }
}
