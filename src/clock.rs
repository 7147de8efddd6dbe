//! The time source. Every timestamp comes from here, in whole Unix seconds (UTC), so tests
//! can move time for lock-out, reset expiry and WSSE without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> i64 {
        OffsetDateTime::now_utc().unix_timestamp() + self.offset.load(Ordering::Relaxed)
    }

    /// Moves this clock forward (tests only have a use for it).
    pub fn advance(&self, seconds: i64) {
        self.offset.fetch_add(seconds, Ordering::Relaxed);
    }
}

/// "Nov 29, 2026, 03:44 UTC": dates in the back-office are shown in UTC, named as such.
pub fn display(ts: i64) -> String {
    let fmt = time::macros::format_description!(
        "[month repr:short] [day padding:none], [year], [hour]:[minute] UTC"
    );
    OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn display_is_utc() {
        assert_eq!(super::display(0), "Jan 1, 1970, 00:00 UTC");
    }
}
