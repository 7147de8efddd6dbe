//! argon2id off the async threads, with a cap on how many run at once: each hash takes
//! 19 MiB and tens of milliseconds of a core, so a burst of sign-ins must queue, not swap.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::domain::password::{self, PlainPassword};
use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct Hashing {
    permits: Arc<Semaphore>,
    /// A real hash of a random password: unknown users are verified against it so that
    /// a sign-in for a name that does not exist takes as long as a wrong password.
    dummy: Arc<String>,
}

impl Hashing {
    pub fn new() -> anyhow::Result<Self> {
        let parallel = std::thread::available_parallelism().map_or(2, |n| n.get()) * 2;
        let random = crate::domain::PasswordPolicy::default().suggest();
        let dummy = password::hash(&random).map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(parallel)),
            dummy: Arc::new(dummy),
        })
    }

    pub async fn hash(&self, pw: &PlainPassword) -> AppResult<String> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        let pw = pw.clone();
        tokio::task::spawn_blocking(move || password::hash(&pw))
            .await?
            .map_err(|e| AppError::Internal(anyhow::anyhow!("argon2: {e}")))
    }

    /// Verifies against `phc`, or against the dummy hash when there is no user.
    pub async fn verify(&self, pw: &PlainPassword, phc: Option<&str>) -> AppResult<bool> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        let pw = pw.clone();
        let (phc, real) = match phc {
            Some(h) => (h.to_owned(), true),
            None => (self.dummy.as_str().to_owned(), false),
        };
        let ok = tokio::task::spawn_blocking(move || password::verify(&pw, &phc)).await?;
        Ok(ok && real)
    }
}
