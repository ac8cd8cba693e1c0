//! Record timestamps written straight into a small buffer: the same RFC 3339 text chrono's `Serialize` writes,
//! without the formatting machinery, which costs several times as much for the timestamps written with every
//! message (recent lines, the conversation's last activity).

use chrono::{DateTime, Datelike, FixedOffset, Timelike};
use serde::{Serialize, Serializer};

/// Longest text written here: `9999-12-31T23:59:59.999999999+23:59`.
const LONGEST: usize = 35;

/// Serialises `at` as chrono does (`2026-11-26T10:00:00.5+08:00`, `Z` for UTC, sub-second digits only when
/// there are any, in groups of three).
pub(crate) fn serialize<S: Serializer>(
    at: &DateTime<FixedOffset>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; LONGEST];
    match write(at, &mut buf) {
        // Only ASCII digits and punctuation are written.
        Some(len) => serializer.serialize_str(std::str::from_utf8(&buf[..len]).unwrap_or_default()),
        None => at.serialize(serializer),
    }
}

/// Writes `at` into `buf`; `None` for what chrono writes in another shape (years outside 0–9999, leap
/// seconds, offsets with seconds), which is left to chrono.
fn write(at: &DateTime<FixedOffset>, buf: &mut [u8; LONGEST]) -> Option<usize> {
    let local = at.naive_local();
    let offset = at.offset().local_minus_utc();
    let nanos = local.nanosecond();
    if !(0..=9999).contains(&local.year()) || nanos >= 1_000_000_000 || offset % 60 != 0 {
        return None;
    }
    let mut out = Writer { buf, len: 0 };
    out.digits(local.year() as u32, 4);
    out.byte(b'-');
    out.digits(local.month(), 2);
    out.byte(b'-');
    out.digits(local.day(), 2);
    out.byte(b'T');
    out.digits(local.hour(), 2);
    out.byte(b':');
    out.digits(local.minute(), 2);
    out.byte(b':');
    out.digits(local.second(), 2);
    if nanos != 0 {
        out.byte(b'.');
        if nanos.is_multiple_of(1_000_000) {
            out.digits(nanos / 1_000_000, 3);
        } else if nanos.is_multiple_of(1_000) {
            out.digits(nanos / 1_000, 6);
        } else {
            out.digits(nanos, 9);
        }
    }
    if offset == 0 {
        out.byte(b'Z');
    } else {
        out.byte(if offset < 0 { b'-' } else { b'+' });
        let minutes = offset.unsigned_abs() / 60;
        out.digits(minutes / 60, 2);
        out.byte(b':');
        out.digits(minutes % 60, 2);
    }
    Some(out.len)
}

struct Writer<'a> {
    buf: &'a mut [u8; LONGEST],
    len: usize,
}

impl Writer<'_> {
    fn byte(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// `n` as exactly `width` decimal digits (zero-padded).
    fn digits(&mut self, mut n: u32, width: usize) {
        for i in (0..width).rev() {
            self.buf[self.len + i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        self.len += width;
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rand::{Rng, SeedableRng};

    #[derive(serde::Serialize)]
    struct Stamp(
        #[serde(serialize_with = "super::serialize")] chrono::DateTime<chrono::FixedOffset>,
    );

    #[test]
    fn writes_what_chrono_writes() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let offsets = [
            0,
            8 * 3600,
            -5 * 3600,
            5 * 3600 + 1800,
            -(9 * 3600 + 30 * 60),
            45,
            -3599,
        ];
        let sub_seconds = [
            0,
            500_000_000,
            123_000_000,
            123_456_000,
            123_456_789,
            1,
            999_999_999,
        ];
        for i in 0..20_000 {
            let offset = chrono::FixedOffset::east_opt(offsets[i % offsets.len()]).unwrap();
            let seconds = rng.random_range(-62_000_000_000i64..260_000_000_000);
            let nanos = sub_seconds[(i / offsets.len()) % sub_seconds.len()];
            let at = offset.timestamp_opt(seconds, nanos).unwrap();
            assert_eq!(
                serde_json::to_string(&Stamp(at)).unwrap(),
                serde_json::to_string(&at).unwrap(),
                "{at:?}"
            );
        }
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap()
            .and_utc()
            .fixed_offset();
        assert_eq!(
            serde_json::to_string(&Stamp(leap)).unwrap(),
            serde_json::to_string(&leap).unwrap()
        );
    }
}
