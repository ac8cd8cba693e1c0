//! The engine's clock and working hours: message time (or now) in `[hours] timezone`, peak and opening times.

use chrono::{DateTime, FixedOffset, Utc};

use crate::config::{hhmm, HoursConfig};

/// The time of a message: its own timestamp when the platform gave one, else now; in the bot's time zone.
pub fn now_for(ts: Option<DateTime<FixedOffset>>, tz: FixedOffset) -> DateTime<FixedOffset> {
    match ts {
        Some(t) => t.with_timezone(&tz),
        None => Utc::now().with_timezone(&tz),
    }
}

/// Whether operators are working at `now`.
pub fn is_open(hours: &HoursConfig, now: DateTime<FixedOffset>) -> bool {
    hours.open.contains(now.time())
}

/// Whether `now` is a peak hour.
pub fn is_peak(hours: &HoursConfig, now: DateTime<FixedOffset>) -> bool {
    hours.peak.iter().any(|r| r.contains(now.time()))
}

/// When operators are back (`HH:MM`), and whether that is tomorrow. Call when closed.
pub fn back_at(hours: &HoursConfig, now: DateTime<FixedOffset>) -> (String, bool) {
    let start = hours.open.start;
    let minute = (now.time().hour_min()) as u16;
    (hhmm(start), minute >= start)
}

/// The ranges joined for a sentence: `10:00-12:00, 15:00-17:00`.
pub fn ranges(list: &[crate::config::TimeRange]) -> String {
    list.iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

trait HourMin {
    fn hour_min(&self) -> u32;
}

impl HourMin for chrono::NaiveTime {
    fn hour_min(&self) -> u32 {
        use chrono::Timelike;
        self.hour() * 60 + self.minute()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn hours_in_the_configured_zone() {
        let h = HoursConfig::default();
        let tz = h.timezone.0;
        // 02:00 UTC is 10:00 in +08:00: open and peak.
        let t = now_for(Some(at("2026-11-25T02:00:00Z")), tz);
        assert!(is_open(&h, t) && is_peak(&h, t));
        let t = now_for(Some(at("2026-11-25T13:30:00+08:00")), tz);
        assert!(is_open(&h, t) && !is_peak(&h, t));
        let late = now_for(Some(at("2026-11-25T23:10:00+08:00")), tz);
        assert!(!is_open(&h, late));
        assert_eq!(back_at(&h, late), ("09:00".to_string(), true));
        let early = now_for(Some(at("2026-11-25T07:00:00+08:00")), tz);
        assert_eq!(back_at(&h, early), ("09:00".to_string(), false));
        assert_eq!(ranges(&h.off_peak), "09:00-10:00, 14:00-15:00");
    }
}
