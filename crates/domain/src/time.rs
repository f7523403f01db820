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
    // Every list shows a few dates per row: the common years are written digit by digit from
    // the day number (Howard Hinnant's `civil_from_days`), not through chrono's calendar and
    // the formatting machinery; a test compares the two over many instants.
    let (days, in_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        // Signed and longer years, and instants chrono cannot show (an empty text).
        return Utc
            .timestamp_millis_opt(ms)
            .single()
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
            .unwrap_or_default();
    }
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut n: i64| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, month);
    put(8, 2, day);
    put(11, 2, in_day / 3_600_000);
    put(14, 2, in_day / 60_000 % 60);
    put(17, 2, in_day / 1_000 % 60);
    put(20, 3, in_day % 1_000);
    // ASCII digits and separators: always UTF-8.
    std::str::from_utf8(&out)
        .map(String::from)
        .unwrap_or_default()
}

/// The proleptic Gregorian (year, month, day) of a day counted from 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
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
    fn dates_are_written_as_chrono_writes_them() {
        let chrono = |ms: i64| {
            Utc.timestamp_millis_opt(ms)
                .single()
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
                .unwrap_or_default()
        };
        assert_eq!(format_millis(1_503_297_117_547), "2017-08-21T06:31:57.547Z");
        assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_millis(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            format_millis(253_402_300_799_999),
            "9999-12-31T23:59:59.999Z"
        );
        let mut edges = vec![
            i64::MIN,
            i64::MAX,
            -62_167_219_200_000,
            -62_167_219_200_001,
            253_402_300_800_000,
            951_782_400_000,
            4_107_542_399_999,
        ];
        // A spread of instants over ±300 years, leap days and ends of months among them.
        let mut x: i64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            edges.push(x % 9_500_000_000_000);
        }
        for ms in edges {
            assert_eq!(format_millis(ms), chrono(ms), "{ms}");
        }
    }

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
