//! The stats dashboard (`supportbot stats --html FILE`, and `/inbox/stats` on the web channel): figures gathered
//! from the store — messages and handoffs per hour of the day, conversations and deflection per day, first-reply
//! and resolution times, ratings, handoffs per team and per operator, and the questions the FAQ could not answer
//! with the entry closest to each — drawn as server-side SVG in one self-contained HTML page.
//!
//! Sources: user messages are the conversations' stored recent lines (the last lines of each conversation), a
//! conversation's day is the day of its last line, and everything about cases comes from the case records.

mod html;
mod svg;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Timelike};
use serde::Serialize;

use crate::cases::stats::unanswered;
use crate::faq::Faq;
use crate::store::records::{Line, Outcome};
use crate::store::{Store, StoreError};

pub use html::render;

/// Days shown in the per-day chart.
pub const DAYS: usize = 28;
/// Unanswered questions listed.
pub const TOP_UNANSWERED: usize = 10;

/// Bounds (in minutes) of the time buckets of the first-reply and resolution charts.
pub const FIRST_REPLY_BUCKETS: [(i64, &str); 6] = [
    (1, "< 1 min"),
    (5, "1-5 min"),
    (15, "5-15 min"),
    (60, "15-60 min"),
    (240, "1-4 h"),
    (i64::MAX, "> 4 h"),
];
/// See [`FIRST_REPLY_BUCKETS`].
pub const RESOLUTION_BUCKETS: [(i64, &str); 6] = [
    (15, "< 15 min"),
    (60, "15-60 min"),
    (240, "1-4 h"),
    (1440, "4-24 h"),
    (4320, "1-3 d"),
    (i64::MAX, "> 3 d"),
];

/// One day of the per-day chart.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Day {
    /// The date (bot's time zone).
    pub date: String,
    /// Conversations whose last line is on that day and that asked the FAQ or were handed off.
    pub conversations: usize,
    /// Of those, answered by the FAQ with no handoff.
    pub deflected: usize,
}

/// An unanswered question and the FAQ entry closest to it.
#[derive(Debug, Clone, Serialize)]
pub struct Missed {
    /// The question.
    pub question: String,
    /// Times asked.
    pub count: u64,
    /// The closest entry's id, its title and the match score, when any entry is close at all.
    pub closest: Option<(String, String, f32)>,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    /// The bot's name.
    pub bot: String,
    /// When the figures were taken, bot's time zone.
    pub taken_at: String,
    /// User messages per hour of the day (0-23).
    pub messages_by_hour: [usize; 24],
    /// Cases opened per hour of the day.
    pub handoffs_by_hour: [usize; 24],
    /// The days from the first activity (at most [`DAYS`] back) up to the newest.
    pub days: Vec<Day>,
    /// Cases per first-reply bucket ([`FIRST_REPLY_BUCKETS`]).
    pub first_reply: Vec<usize>,
    /// Cases per resolution bucket ([`RESOLUTION_BUCKETS`]).
    pub resolution: Vec<usize>,
    /// Ratings 1-5.
    pub ratings: [usize; 5],
    /// Cases per team.
    pub by_team: BTreeMap<String, usize>,
    /// Cases per operator who took them.
    pub by_operator: BTreeMap<String, usize>,
    /// Cases opened, in all.
    pub cases: usize,
    /// Conversations, in all, and of those deflected.
    pub conversations: (usize, usize),
    /// The most asked questions the FAQ could not answer.
    pub unanswered: Vec<Missed>,
    /// The FAQ entries the unanswered list points to: id, title, answer (the page shows them on demand).
    pub entries: Vec<(String, String, String)>,
}

fn bucket(minutes: i64, bounds: &[(i64, &str)]) -> usize {
    bounds
        .iter()
        .position(|(upper, _)| minutes < *upper)
        .unwrap_or(bounds.len() - 1)
}

/// Gathers the figures from the store; times in `tz`, `now` for the caption.
pub async fn gather(
    store: &Store,
    faq: &Faq,
    bot: &str,
    tz: FixedOffset,
    now: DateTime<FixedOffset>,
) -> Result<Dashboard, StoreError> {
    let local = |at: &DateTime<FixedOffset>| at.with_timezone(&tz);
    let mut messages_by_hour = [0usize; 24];
    let mut per_day: BTreeMap<NaiveDate, Day> = BTreeMap::new();
    let (mut conversations, mut deflected) = (0, 0);
    for conv in store.conversations().await? {
        let lines: Vec<Line> = store
            .recent_lines(&conv.key)
            .await?
            .into_iter()
            .map(|(_, line)| line)
            .collect();
        for line in lines.iter().filter(|l| l.role == "user") {
            messages_by_hour[local(&line.at).hour() as usize] += 1;
        }
        if conv.asked == 0 && conv.outcome == Outcome::None {
            continue;
        }
        conversations += 1;
        let answered = conv.outcome == Outcome::Answered;
        deflected += usize::from(answered);
        let mut last: Option<DateTime<FixedOffset>> = None;
        for at in lines.iter().map(|l| l.at) {
            last = Some(last.map_or(at, |l| l.max(at)));
        }
        if let Some(at) = last {
            let day = per_day.entry(local(&at).date_naive()).or_default();
            day.conversations += 1;
            day.deflected += usize::from(answered);
        }
    }
    let mut handoffs_by_hour = [0usize; 24];
    let mut first_reply = vec![0; FIRST_REPLY_BUCKETS.len()];
    let mut resolution = vec![0; RESOLUTION_BUCKETS.len()];
    let mut ratings = [0usize; 5];
    let mut by_team: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_operator: BTreeMap<String, usize> = BTreeMap::new();
    let mut cases = 0;
    for case in store.cases().await? {
        cases += 1;
        handoffs_by_hour[local(&case.opened_at).hour() as usize] += 1;
        *by_team.entry(case.team.clone()).or_default() += 1;
        if let Some(name) = case.assignee_name.clone().or(case.assignee.clone()) {
            *by_operator.entry(name).or_default() += 1;
        }
        if let Some(at) = case.first_reply_at {
            first_reply[bucket((at - case.opened_at).num_minutes(), &FIRST_REPLY_BUCKETS)] += 1;
        }
        if let Some(at) = case.closed_at {
            resolution[bucket((at - case.opened_at).num_minutes(), &RESOLUTION_BUCKETS)] += 1;
        }
        if let Some(r) = case.rating.filter(|r| (1..=5).contains(r)) {
            ratings[usize::from(r) - 1] += 1;
        }
    }
    let newest = per_day
        .keys()
        .next_back()
        .copied()
        .unwrap_or(local(&now).date_naive());
    let oldest = per_day.keys().next().copied().unwrap_or(newest);
    let shown = ((newest - oldest).num_days() + 1).clamp(1, DAYS as i64);
    let days = (0..shown)
        .rev()
        .map(|back| {
            let date = newest - Duration::days(back);
            let mut day = per_day.get(&date).cloned().unwrap_or_default();
            day.date = date.format("%m-%d").to_string();
            day
        })
        .collect();
    let mut missed = unanswered(store).await?;
    missed.truncate(TOP_UNANSWERED);
    let mut entries: Vec<(String, String, String)> = Vec::new();
    let unanswered = missed
        .into_iter()
        .map(|u| {
            let decision = faq.decide(&u.question);
            let closest = decision.candidates.first().map(|c| {
                if !entries.iter().any(|(id, _, _)| *id == c.faq) {
                    if let Some(entry) = faq.entry(&c.faq) {
                        entries.push((
                            c.faq.clone(),
                            entry.title(decision.lang).to_string(),
                            entry.answer.get(decision.lang).clone(),
                        ));
                    }
                }
                (c.faq.clone(), c.question.clone(), c.score)
            });
            Missed {
                question: u.question,
                count: u.count,
                closest,
            }
        })
        .collect();
    Ok(Dashboard {
        bot: bot.to_string(),
        taken_at: local(&now).format("%Y-%m-%d %H:%M %:z").to_string(),
        messages_by_hour,
        handoffs_by_hour,
        days,
        first_reply,
        resolution,
        ratings,
        by_team,
        by_operator,
        cases,
        conversations: (conversations, deflected),
        unanswered,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_their_bounds() {
        assert_eq!(bucket(0, &FIRST_REPLY_BUCKETS), 0);
        assert_eq!(bucket(1, &FIRST_REPLY_BUCKETS), 1);
        assert_eq!(bucket(59, &FIRST_REPLY_BUCKETS), 3);
        assert_eq!(bucket(100_000, &FIRST_REPLY_BUCKETS), 5);
        assert_eq!(bucket(-3, &RESOLUTION_BUCKETS), 0);
        assert_eq!(bucket(1440, &RESOLUTION_BUCKETS), 4);
    }
}
