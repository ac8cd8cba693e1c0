//! What a waiting user is told of the wait, the same when the case opens and on `/status`: outside working hours
//! only when operators are back (no minute estimate, which would be false); at peak hours the queue's estimate
//! and the quieter times; otherwise the queue's estimate (cases ahead × `[hours] minutes_per_case`).

use chrono::{DateTime, FixedOffset};

use crate::config::HoursConfig;
use crate::faq::Lang;
use crate::i18n;

use super::clock;

/// The sentence about the wait for a case at `position` in its queue, at `now`.
pub(super) fn promise(
    hours: &HoursConfig,
    lang: Lang,
    now: DateTime<FixedOffset>,
    position: usize,
) -> String {
    if !clock::is_open(hours, now) {
        let (back, tomorrow) = clock::back_at(hours, now);
        return i18n::after_hours(lang, &hours.open.to_string(), &back, tomorrow);
    }
    let minutes = u32::try_from(position)
        .unwrap_or(u32::MAX)
        .saturating_mul(hours.minutes_per_case);
    let wait = i18n::expected_wait(lang, minutes);
    if clock::is_peak(hours, now) {
        let peak = i18n::peak(
            lang,
            &clock::ranges(&hours.peak),
            &clock::ranges(&hours.off_peak),
        );
        return format!("{wait}{}{peak}", if lang == Lang::En { " " } else { "" });
    }
    wait
}
