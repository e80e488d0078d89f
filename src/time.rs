//! Timestamps: stored as Unix seconds, shown in Brasília time.

use chrono::{DateTime, FixedOffset, Utc};

/// Brazil has kept UTC−3 all year since daylight saving ended in 2019.
const BRASILIA_OFFSET_SECONDS: i32 = -3 * 3600;

pub fn now() -> i64 {
    Utc::now().timestamp()
}

/// `27/11/2026 14:05`, the way Brazilian users read dates.
pub fn format_br(ts: i64) -> String {
    let offset = FixedOffset::east_opt(BRASILIA_OFFSET_SECONDS).expect("valid offset");
    match DateTime::from_timestamp(ts, 0) {
        Some(utc) => utc
            .with_timezone(&offset)
            .format("%d/%m/%Y %H:%M")
            .to_string(),
        None => String::from("—"),
    }
}

/// `2026-11-27T14:05:00-03:00`: a timestamp in JSON answers, in Brasília time.
pub fn rfc3339(ts: i64) -> String {
    let offset = FixedOffset::east_opt(BRASILIA_OFFSET_SECONDS).expect("valid offset");
    DateTime::from_timestamp(ts, 0)
        .map(|utc| utc.with_timezone(&offset).to_rfc3339())
        .unwrap_or_default()
}

/// `2026-11-27` (a form's date field) for a timestamp, in Brasília time.
pub fn format_iso_date(ts: i64) -> String {
    let offset = FixedOffset::east_opt(BRASILIA_OFFSET_SECONDS).expect("valid offset");
    DateTime::from_timestamp(ts, 0)
        .map(|utc| utc.with_timezone(&offset).format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A form's `2026-11-27` as that day's first second in Brasília.
pub fn parse_iso_date(text: &str) -> Option<i64> {
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let offset = FixedOffset::east_opt(BRASILIA_OFFSET_SECONDS)?;
    day.and_hms_opt(0, 0, 0)?
        .and_local_timezone(offset)
        .single()
        .map(|t| t.timestamp())
}

/// `27/11/2026`.
pub fn format_br_date(ts: i64) -> String {
    format_br(ts)
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Milliseconds since the epoch, for the dispatcher's retries, rate slots and heartbeats.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// The time campaign schedules are measured by: the system's, or one a test sets and moves
/// (so "the run starts at 14:00" is checked without waiting until 14:00).
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<std::sync::Arc<std::sync::atomic::AtomicI64>>);

impl Clock {
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock standing at `start` until moved.
    pub fn manual(start: i64) -> Clock {
        Clock(Some(std::sync::Arc::new(
            std::sync::atomic::AtomicI64::new(start),
        )))
    }

    pub fn now(&self) -> i64 {
        match &self.0 {
            Some(t) => t.load(std::sync::atomic::Ordering::SeqCst),
            None => now(),
        }
    }

    /// Moves a manual clock to `to` (a system clock ignores it).
    pub fn set(&self, to: i64) {
        if let Some(t) = &self.0 {
            t.store(to, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_brasilia_time() {
        // 2026-11-27T15:00:00Z is noon in Brasília.
        assert_eq!(format_br(1_795_791_600), "27/11/2026 12:00");
    }
}
