//! The `[hours]` section: the bot's time zone, working hours and peak times.

use std::fmt;

use chrono::{FixedOffset, NaiveTime, Timelike};
use serde::{Deserialize, Deserializer};

/// `[hours]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HoursConfig {
    /// The bot's time zone as a UTC offset (`+08:00`).
    pub timezone: Tz,
    /// When operators work; may wrap past midnight (`22:00-06:00`).
    pub open: TimeRange,
    /// Peak hours, when the bot suggests the off-peak times.
    pub peak: Vec<TimeRange>,
    /// The quieter times suggested at peak hours.
    pub off_peak: Vec<TimeRange>,
    /// Expected minutes of waiting per case ahead in the queue.
    pub minutes_per_case: u32,
}

impl Default for HoursConfig {
    fn default() -> Self {
        let range = |s: &str| TimeRange::parse(s).expect("built-in ranges are valid");
        HoursConfig {
            timezone: Tz(FixedOffset::east_opt(8 * 3600).expect("valid offset")),
            open: range("09:00-22:00"),
            peak: vec![range("10:00-12:00"), range("15:00-17:00")],
            off_peak: vec![range("09:00-10:00"), range("14:00-15:00")],
            minutes_per_case: 5,
        }
    }
}

/// A UTC offset such as `+08:00`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Tz(pub FixedOffset);

impl fmt::Debug for Tz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Tz {
    /// Parses `+08:00`, `-05:30`, `+8`, `UTC` or `Z`.
    pub fn parse(text: &str) -> Option<Tz> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("utc") || t == "Z" {
            return FixedOffset::east_opt(0).map(Tz);
        }
        let (sign, rest) = match t.as_bytes().first()? {
            b'+' => (1, &t[1..]),
            b'-' => (-1, &t[1..]),
            _ => return None,
        };
        let (h, m) = match rest.split_once(':') {
            Some((h, m)) => (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?),
            None => (rest.parse::<i32>().ok()?, 0),
        };
        if !(0..=14).contains(&h) || !(0..60).contains(&m) {
            return None;
        }
        FixedOffset::east_opt(sign * (h * 3600 + m * 60)).map(Tz)
    }
}

impl<'de> Deserialize<'de> for Tz {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Tz::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("`{s}` is not a UTC offset such as \"+08:00\""))
        })
    }
}

/// A daily time range `HH:MM-HH:MM`, in minutes since midnight.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// Start, minutes since midnight.
    pub start: u16,
    /// End (exclusive), minutes since midnight; `end < start` wraps past midnight.
    pub end: u16,
}

impl fmt::Debug for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", hhmm(self.start), hhmm(self.end))
    }
}

/// Formats minutes since midnight as `HH:MM`.
pub fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl TimeRange {
    /// Parses `09:00-22:00` (`24:00` allowed as an end).
    pub fn parse(text: &str) -> Option<TimeRange> {
        let (a, b) = text.trim().split_once('-')?;
        let minutes = |s: &str| -> Option<u16> {
            let (h, m) = s.trim().split_once(':')?;
            let (h, m) = (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?);
            (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
        };
        let (start, end) = (minutes(a)?, minutes(b)?);
        (start != end && start < 1440).then_some(TimeRange { start, end })
    }

    /// Whether a wall-clock time falls in the range.
    pub fn contains(&self, time: NaiveTime) -> bool {
        let m = (time.hour() * 60 + time.minute()) as u16;
        if self.start < self.end {
            m >= self.start && m < self.end
        } else {
            m >= self.start || m < self.end
        }
    }
}

impl<'de> Deserialize<'de> for TimeRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TimeRange::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("`{s}` is not a time range such as \"09:00-22:00\""))
        })
    }
}
