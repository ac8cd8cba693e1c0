//! `supportbot stats`: deflection rate, handoffs by team, time to first operator reply, ratings, and the
//! questions the FAQ most often could not answer.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::store::records::Outcome;
use crate::store::{Store, StoreError};

/// How many unanswered questions are listed.
const TOP_UNANSWERED: usize = 10;

/// The figures.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Conversations that asked the FAQ at least one question.
    pub conversations: usize,
    /// Of those, ended by an FAQ answer with no handoff.
    pub deflected: usize,
    /// `deflected / conversations`.
    pub deflection_rate: Option<f64>,
    /// Cases opened.
    pub cases: usize,
    /// Cases per team.
    pub handoffs_by_team: BTreeMap<String, usize>,
    /// Median seconds from opening to the first operator reply (cases with a reply).
    pub median_first_reply_secs: Option<f64>,
    /// Average 1–5 rating.
    pub average_rating: Option<f64>,
    /// Ratings given.
    pub ratings: usize,
    /// The questions most often left unanswered (add these to the FAQ next).
    pub top_unanswered: Vec<Unanswered>,
}

/// Every question the FAQ could not answer, most asked first.
pub async fn unanswered(store: &Store) -> Result<Vec<Unanswered>, StoreError> {
    let mut unanswered: Vec<Unanswered> = Vec::new();
    for (question, count) in store.unanswered_questions().await? {
        unanswered.push(Unanswered { question, count });
    }
    unanswered.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.question.cmp(&b.question))
    });
    Ok(unanswered)
}

/// One unanswered question and how often it was asked.
#[derive(Debug, Clone, Serialize)]
pub struct Unanswered {
    /// The question (lower-cased, blanks collapsed).
    pub question: String,
    /// Times asked.
    pub count: u64,
}

/// Computes the figures from the store.
pub async fn compute(store: &Store) -> Result<Stats, StoreError> {
    let (mut conversations, mut deflected) = (0usize, 0usize);
    for conv in store.conversations().await? {
        if conv.asked > 0 || conv.outcome != Outcome::None {
            conversations += 1;
            if conv.outcome == Outcome::Answered {
                deflected += 1;
            }
        }
    }
    let mut by_team: BTreeMap<String, usize> = BTreeMap::new();
    let mut replies: Vec<f64> = Vec::new();
    let mut ratings: Vec<u8> = Vec::new();
    let mut cases = 0;
    for case in store.cases().await? {
        cases += 1;
        *by_team.entry(case.team.clone()).or_default() += 1;
        if let Some(first) = case.first_reply_at {
            replies.push((first - case.opened_at).num_milliseconds().max(0) as f64 / 1000.0);
        }
        ratings.extend(case.rating);
    }
    let mut unanswered = unanswered(store).await?;
    unanswered.truncate(TOP_UNANSWERED);
    Ok(Stats {
        conversations,
        deflected,
        deflection_rate: (conversations > 0).then(|| deflected as f64 / conversations as f64),
        cases,
        handoffs_by_team: by_team,
        median_first_reply_secs: median(&mut replies),
        average_rating: (!ratings.is_empty())
            .then(|| ratings.iter().map(|&r| r as f64).sum::<f64>() / ratings.len() as f64),
        ratings: ratings.len(),
        top_unanswered: unanswered,
    })
}

/// The median of a list (sorted in place).
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even_lists() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }
}
