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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_brasilia_time() {
        // 2026-11-27T15:00:00Z is noon in Brasília.
        assert_eq!(format_br(1_795_791_600), "27/11/2026 12:00");
    }
}
