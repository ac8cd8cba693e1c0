//! Read-only views of cases for the inbox (`CaseDirectory`) and the `cases` command.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use supportbot_chat::{CaseDetail, CaseEntry, CaseEvent, CaseSummary};

use super::command::case_number;
use crate::store::records::{CaseLog, CaseRecord, CaseStatus};
use crate::store::{Store, StoreError};

/// A case with everything `cases show` / `cases export` print.
#[derive(Debug, Clone, Serialize)]
pub struct CaseExport {
    /// What the inbox shows.
    #[serde(flatten)]
    pub detail: CaseDetail,
    /// FAQ category the case came from.
    pub category: Option<String>,
    /// The user's rating, 1–5.
    pub rating: Option<u8>,
    /// The operator's closing summary.
    pub summary: Option<String>,
    /// The user's previous case.
    pub previous: Option<String>,
    /// First operator reply.
    pub first_reply_at: Option<DateTime<FixedOffset>>,
    /// When it was closed.
    pub closed_at: Option<DateTime<FixedOffset>>,
}

/// The list row of a case.
pub fn summary(case: &CaseRecord) -> CaseSummary {
    CaseSummary {
        id: case.id(),
        status: case.status.as_str().to_string(),
        team: case.team.clone(),
        priority: case.priority,
        lang: case.lang.clone(),
        channel: case.origin.platform.clone(),
        user_name: case.user_name.clone(),
        assignee: case.assignee.clone(),
        opened_at: case.opened_at,
        subject: case.subject.clone(),
    }
}

/// One case by id (`C-1001` or `1001`).
pub async fn find(store: &Store, id: &str) -> Result<Option<CaseRecord>, StoreError> {
    match case_number(id) {
        Some(n) => store.case(n).await,
        None => Ok(None),
    }
}

/// The full detail of a case: transcript and history.
pub async fn detail(store: &Store, case: &CaseRecord) -> Result<CaseDetail, StoreError> {
    let mut transcript: Vec<CaseEntry> = Vec::new();
    let mut history: Vec<CaseEvent> = Vec::new();
    for line in store.case_lines(case.number).await? {
        match line {
            CaseLog::Entry(e) => transcript.push(e),
            CaseLog::Event(e) => history.push(e),
        }
    }
    let mut conversations = vec![format!("{}:{}", case.origin.platform, case.origin.chat)];
    for link in &case.links {
        let mark = if link.verified { "" } else { " (unverified)" };
        conversations.push(format!(
            "{}:{}{mark}",
            link.endpoint.platform, link.endpoint.chat
        ));
    }
    Ok(CaseDetail {
        summary: summary(case),
        error_codes: case.error_codes.clone(),
        suggestions: case.suggestions.clone(),
        conversations,
        transcript,
        history,
    })
}

/// Everything about a case.
pub async fn export(store: &Store, case: &CaseRecord) -> Result<CaseExport, StoreError> {
    Ok(CaseExport {
        detail: detail(store, case).await?,
        category: case.category.clone(),
        rating: case.rating,
        summary: case.summary.clone(),
        previous: case.previous.clone(),
        first_reply_at: case.first_reply_at,
        closed_at: case.closed_at,
    })
}

/// Every case record, by number.
pub async fn all(store: &Store) -> Result<Vec<CaseRecord>, StoreError> {
    store.cases().await
}

/// Waiting cases in queue order, then assigned ones by age, then (when asked) closed ones, newest first.
pub async fn list(store: &Store, include_closed: bool) -> Result<Vec<CaseSummary>, StoreError> {
    let mut out = Vec::new();
    for entry in store.waiting().await? {
        if let Some(case) = store.case(entry.number).await? {
            out.push(summary(&case));
        }
    }
    let mut assigned = Vec::new();
    let mut closed = Vec::new();
    for case in store.cases().await? {
        match case.status {
            CaseStatus::Assigned => assigned.push(case),
            CaseStatus::Closed if include_closed => closed.push(case),
            _ => {}
        }
    }
    assigned.sort_by_key(|c| (c.opened_at, c.number));
    out.extend(assigned.iter().map(summary));
    closed.sort_by_key(|c| std::cmp::Reverse(c.number));
    out.extend(closed.iter().map(summary));
    Ok(out)
}

/// Waiting cases: how many, and when the oldest was opened.
pub async fn waiting_figures(store: &Store) -> Result<(usize, Option<i64>), StoreError> {
    let mut count = 0;
    let mut oldest: Option<i64> = None;
    for entry in store.waiting().await? {
        count += 1;
        let ms = entry.queued_ms;
        oldest = Some(oldest.map_or(ms, |o| o.min(ms)));
    }
    Ok((count, oldest))
}
