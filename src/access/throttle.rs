//! Throttling of failed credentials, per client address and per account, in fixed windows
//! counted in the database (`rate_limits`), so every instance on one database counts
//! together. Past a limit the address or account is answered 429 with `Retry-After` until
//! its window ends. Sign-in and reset requests are checked before anything is verified
//! (a password can be guessed, and argon2 is costly). WSSE digests and client secrets are
//! checked after a failure only (`fail`): they are made from 160 and 381 random bits, so a
//! right one is never a guess, and the requests that succeed, nearly all of them, cost no
//! extra query.

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::throttle as throttle_store;

/// Where credentials are tried; each counts on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// The sign-in form.
    SignIn,
    /// "Forgot your password?" requests (every request counts, not only failures).
    ResetRequest,
    /// WSSE digests on the API.
    Wsse,
    /// Client credentials at the token endpoint.
    Token,
}

impl Gate {
    fn prefix(self) -> &'static str {
        match self {
            Gate::SignIn => "login",
            Gate::ResetRequest => "forgot",
            Gate::Wsse => "wsse",
            Gate::Token => "token",
        }
    }

    /// (per address, per account, window seconds).
    fn limits(self, state: &AppState) -> (i32, i32, i64) {
        let t = &state.settings.security.throttle;
        let window = i64::try_from(t.window).unwrap_or(900);
        let n = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        match self {
            // A reset request sends an email: a mailbox is flooded long before a password
            // is guessed, so these limits are fixed and lower.
            Gate::ResetRequest => (RESET_PER_ADDRESS, RESET_PER_ACCOUNT, window),
            _ => (n(t.failures_per_address), n(t.failures_per_account), window),
        }
    }
}

/// Reset requests per address and per account in one window.
pub const RESET_PER_ADDRESS: i32 = 20;
pub const RESET_PER_ACCOUNT: i32 = 5;

/// The counters one attempt touches: its client address and the account it names (a
/// user id when the name is known, else the name as typed, so that a name that exists and
/// one that does not are limited alike and the limit tells nothing).
#[derive(Debug, Clone)]
pub struct Attempt {
    gate: Gate,
    address: String,
    account: String,
}

impl Attempt {
    pub fn new(gate: Gate, address: &str, account: &str) -> Self {
        Self {
            gate,
            address: format!("{}:ip:{address}", gate.prefix()),
            account: format!("{}:account:{account}", gate.prefix()),
        }
    }

    fn window(&self, state: &AppState) -> (i64, i64) {
        let (_, _, length) = self.gate.limits(state);
        let now = state.clock.now();
        let start = now - now.rem_euclid(length);
        (start, start + length - now)
    }

    /// Refuses with 429 when the address or the account is over its limit now.
    pub async fn check(&self, state: &AppState) -> AppResult<()> {
        let (per_address, per_account, _) = self.gate.limits(state);
        let (start, left) = self.window(state);
        let counts =
            throttle_store::counts(&state.db, &[&self.address, &self.account], start).await?;
        let over = counts.iter().any(|(key, n)| {
            (*key == self.address && *n >= per_address)
                || (*key == self.account && *n >= per_account)
        });
        if over {
            tracing::info!(gate = self.gate.prefix(), key = %self.address, "throttled");
            return Err(AppError::TooManyRequests {
                retry_after: u64::try_from(left).unwrap_or(1),
            });
        }
        Ok(())
    }

    /// After a failed credential: 429 when the address or account is already over its
    /// limit, otherwise the failure is counted.
    pub async fn fail(&self, state: &AppState) -> AppResult<()> {
        self.check(state).await?;
        self.count(state).await
    }

    /// Counts one failure (or, for reset requests, one request) for both.
    pub async fn count(&self, state: &AppState) -> AppResult<()> {
        let (start, _) = self.window(state);
        throttle_store::hit_many(&state.db, &[&self.address, &self.account], start).await?;
        Ok(())
    }
}

/// Forgets windows that ended: they can no longer limit anything (run periodically).
pub async fn prune(state: &AppState) -> AppResult<u64> {
    let window = i64::try_from(state.settings.security.throttle.window).unwrap_or(900);
    Ok(throttle_store::prune(&state.db, state.clock.now() - window).await?)
}
