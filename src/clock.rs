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

    /// Today's date (UTC) on this clock.
    pub fn today(&self) -> time::Date {
        OffsetDateTime::from_unix_timestamp(self.now())
            .map_or_else(|_| OffsetDateTime::now_utc().date(), |t| t.date())
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

/// "2026-11-29": a date on one line, for the columns of a grid (the full time goes in its
/// tooltip).
pub fn short(ts: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

/// "2026-11-29T03:44:00Z": times in the API (RFC 3339, UTC).
pub fn rfc3339(ts: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn display_is_utc() {
        assert_eq!(super::display(0), "Jan 1, 1970, 00:00 UTC");
        assert_eq!(super::short(1_767_225_600), "2026-01-01");
        assert_eq!(super::rfc3339(1_767_225_600), "2026-01-01T00:00:00Z");
    }
}
