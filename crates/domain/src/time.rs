//! Timestamps: stored as Unix epoch milliseconds, shown as ISO-8601 UTC with milliseconds
//! (`2017-08-21T06:31:57.547Z`), the form LoopBack's JSON dates take.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// Now, in epoch milliseconds.
pub fn now_millis() -> i64 {
    Utc::now().timestamp_millis()
}

/// Where the service layer reads the time. In production it is the system clock; tests move it
/// forward (a lease running out, a retry's back-off, a job scheduled for tomorrow) without
/// sleeping. A moved clock still runs: it is the system clock plus an offset, so times taken
/// one after the other keep increasing as they do in production.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Milliseconds added to the system clock, shared by every clone.
    offset: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// Now, in epoch milliseconds.
    pub fn now_millis(&self) -> i64 {
        now_millis().saturating_add(self.offset.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Moves this clock (and every clone of it) forward by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset
            .fetch_add(ms, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_millis(ms: i64) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
        None => String::new(),
    }
}

/// Parses an ISO-8601 date or date-time (as JavaScript's `new Date(string)` would for the common forms)
/// into epoch milliseconds.
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc().timestamp_millis());
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M") {
        return Some(t.and_utc().timestamp_millis());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advanced_clock_runs_ahead_in_every_clone() {
        let clock = Clock::system();
        let other = clock.clone();
        let before = now_millis();
        clock.advance(std::time::Duration::from_secs(3600));
        assert!(other.now_millis() >= before + 3_600_000);
        assert!(Clock::system().now_millis() < before + 3_600_000);
    }

    #[test]
    fn formats_with_millis_and_z() {
        assert_eq!(format_millis(1_503_297_117_547), "2017-08-21T06:31:57.547Z");
        assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn parses_what_it_formats_and_plain_dates() {
        assert_eq!(
            parse_date("2017-08-21T06:31:57.547Z"),
            Some(1_503_297_117_547)
        );
        assert_eq!(
            parse_date("2017-08-21T08:31:57.547+02:00"),
            Some(1_503_297_117_547)
        );
        assert_eq!(parse_date("2017-08-21"), Some(1_503_273_600_000));
        assert_eq!(parse_date("garbage"), None);
    }
}
