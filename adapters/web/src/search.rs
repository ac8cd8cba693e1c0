//! Case search for the inbox: an in-memory index of every case (number, user, team, status, channel, assignee,
//! error codes, the transcript's text, the conversations it spans), built from the case directory when the
//! channel starts and kept current from the case feed. Queries are words that must all occur, plus filters
//! `status:`, `team:`, `user:`, `code:`, `from:YYYY-MM-DD`, `to:YYYY-MM-DD`; a case number finds its case. The
//! same index gives a case's earlier cases: the other cases of the conversations it spans (linked chats on
//! other channels included).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::NaiveDate;
use supportbot_chat::{CaseDetail, CaseSummary};
use tokio::sync::broadcast::error::RecvError;

use crate::WebChannel;

/// Most results of one search.
pub const MAX_RESULTS: usize = 50;
/// Characters of a case's text kept for search (number, user, subject, codes, then the transcript), so the
/// index stays small with long cases.
pub const MAX_TEXT: usize = 8 * 1024;

struct Doc {
    summary: CaseSummary,
    /// Lower-cased text of every searchable field.
    text: String,
    /// Lower-cased error codes.
    codes: Vec<String>,
    conversations: Vec<String>,
}

impl Doc {
    fn of(detail: &CaseDetail) -> Doc {
        let s = &detail.summary;
        let mut text = [
            s.id.as_str(),
            &s.user_name,
            &s.subject,
            &s.team,
            &s.status,
            &s.channel,
            s.assignee.as_deref().unwrap_or(""),
        ]
        .join("\n");
        for code in &detail.error_codes {
            text.push('\n');
            text.push_str(code);
        }
        for line in &detail.transcript {
            if text.len() >= MAX_TEXT {
                break;
            }
            text.push('\n');
            text.push_str(&line.text);
        }
        if text.len() > MAX_TEXT {
            let mut end = MAX_TEXT;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
        }
        Doc {
            summary: s.clone(),
            text: text.to_lowercase(),
            codes: detail
                .error_codes
                .iter()
                .map(|c| c.to_lowercase())
                .collect(),
            // Only conversations that belong to the case: an unverified link is someone quoting its number.
            conversations: detail
                .conversations
                .iter()
                .filter(|c| !c.ends_with("(unverified)"))
                .cloned()
                .collect(),
        }
    }
}

/// The index.
#[derive(Default)]
pub struct SearchIndex {
    docs: RwLock<HashMap<String, Doc>>,
}

/// A parsed query.
#[derive(Debug, Default, PartialEq)]
pub struct Query {
    words: Vec<String>,
    status: Option<String>,
    team: Option<String>,
    user: Option<String>,
    code: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl Query {
    /// Parses a query line; a bad date is an error naming it.
    pub fn parse(line: &str) -> Result<Query, String> {
        let mut q = Query::default();
        let date = |v: &str| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| format!("{v:?} is not a date (YYYY-MM-DD)"))
        };
        for token in line.split_whitespace() {
            let lower = token.to_lowercase();
            match lower.split_once(':') {
                Some(("status", v)) if !v.is_empty() => q.status = Some(v.to_string()),
                Some(("team", v)) if !v.is_empty() => q.team = Some(v.to_string()),
                Some(("user", v)) if !v.is_empty() => q.user = Some(v.to_string()),
                Some(("code", v)) if !v.is_empty() => q.code = Some(v.to_string()),
                Some(("from", v)) => q.from = Some(date(v)?),
                Some(("to", v)) => q.to = Some(date(v)?),
                _ => q.words.push(case_number(&lower).unwrap_or(lower)),
            }
        }
        Ok(q)
    }

    fn matches(&self, doc: &Doc) -> bool {
        let s = &doc.summary;
        let day = s.opened_at.date_naive();
        self.status.as_ref().is_none_or(|v| s.status == *v)
            && self
                .team
                .as_ref()
                .is_none_or(|v| s.team.to_lowercase() == *v)
            && self
                .user
                .as_ref()
                .is_none_or(|v| s.user_name.to_lowercase().contains(v.as_str()))
            && self
                .code
                .as_ref()
                .is_none_or(|v| doc.codes.iter().any(|c| c.contains(v.as_str())))
            && self.from.is_none_or(|d| day >= d)
            && self.to.is_none_or(|d| day <= d)
            && self.words.iter().all(|w| doc.text.contains(w.as_str()))
    }
}

/// `1001` or `c-1001` as the lower-cased case number `c-1001`.
fn case_number(word: &str) -> Option<String> {
    let digits = word.strip_prefix("c-").unwrap_or(word);
    (digits.len() >= 3 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| format!("c-{digits}"))
}

impl SearchIndex {
    /// Adds or replaces a case.
    pub fn put(&self, detail: &CaseDetail) {
        let doc = Doc::of(detail);
        self.docs
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(doc.summary.id.clone(), doc);
    }

    /// Cases matching the query, newest first, at most [`MAX_RESULTS`].
    pub fn search(&self, query: &Query) -> Vec<CaseSummary> {
        let docs = self.docs.read().unwrap_or_else(|p| p.into_inner());
        let mut found: Vec<&CaseSummary> = docs
            .values()
            .filter(|d| query.matches(d))
            .map(|d| &d.summary)
            .collect();
        found.sort_by(|a, b| b.opened_at.cmp(&a.opened_at).then(b.id.cmp(&a.id)));
        found.into_iter().take(MAX_RESULTS).cloned().collect()
    }

    /// The other cases of the conversations `case` spans, newest first.
    pub fn related(&self, case: &str) -> Vec<CaseSummary> {
        let docs = self.docs.read().unwrap_or_else(|p| p.into_inner());
        let Some(this) = docs.get(case) else {
            return Vec::new();
        };
        let mut found: Vec<&CaseSummary> = docs
            .values()
            .filter(|d| d.summary.id != case)
            .filter(|d| {
                d.conversations
                    .iter()
                    .any(|c| this.conversations.contains(c))
            })
            .map(|d| &d.summary)
            .collect();
        found.sort_by_key(|c| std::cmp::Reverse(c.opened_at));
        found.into_iter().take(MAX_RESULTS).cloned().collect()
    }

    /// Number of cases indexed.
    pub fn len(&self) -> usize {
        self.docs.read().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Builds the index from the case directory, then follows the case feed until shutdown.
pub async fn run(channel: Arc<WebChannel>) {
    let mut events = channel.core.cases.subscribe();
    for summary in channel.core.cases.list(true).await {
        if channel.shutdown.is_cancelled() {
            return;
        }
        if let Some(detail) = channel.core.cases.get(&summary.id).await {
            channel.search.put(&detail);
        }
    }
    tracing::info!(cases = channel.search.len(), "case search index built");
    loop {
        let event = tokio::select! {
            _ = channel.shutdown.cancelled() => return,
            got = events.recv() => got,
        };
        let case = match event {
            Ok(event) => event.case,
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "case search fell behind the case feed; reindexing");
                for summary in channel.core.cases.list(true).await {
                    if let Some(detail) = channel.core.cases.get(&summary.id).await {
                        channel.search.put(&detail);
                    }
                }
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        if let Some(detail) = channel.core.cases.get(&case).await {
            channel.search.put(&detail);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};
    use supportbot_chat::CaseEntry;

    fn detail(
        id: &str,
        status: &str,
        day: u32,
        chat: &str,
        text: &str,
        codes: &[&str],
    ) -> CaseDetail {
        let at = FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .with_ymd_and_hms(2026, 11, day, 10, 0, 0)
            .unwrap();
        CaseDetail {
            summary: CaseSummary {
                id: id.into(),
                status: status.into(),
                team: "mail".into(),
                priority: 1,
                lang: "en".into(),
                channel: "web".into(),
                user_name: "Li Lei".into(),
                assignee: None,
                opened_at: at,
                subject: "cannot send".into(),
            },
            error_codes: codes.iter().map(|c| c.to_string()).collect(),
            suggestions: vec![],
            conversations: vec![chat.into()],
            transcript: vec![CaseEntry {
                at,
                role: "user".into(),
                name: "Li Lei".into(),
                text: text.into(),
                attachments: vec![],
            }],
            history: vec![],
        }
    }

    #[test]
    fn finds_by_number_words_code_status_and_date() {
        let index = SearchIndex::default();
        index.put(&detail(
            "C-1001",
            "closed",
            20,
            "web:a",
            "bounce after newsletter",
            &["554 DT:SPM"],
        ));
        index.put(&detail(
            "C-1002",
            "open",
            25,
            "telegram:42",
            "password lost",
            &[],
        ));
        index.put(&detail(
            "C-1003",
            "open",
            26,
            "web:a",
            "again a bounce",
            &["550"],
        ));
        let ids = |q: &str| -> Vec<String> {
            index
                .search(&Query::parse(q).unwrap())
                .into_iter()
                .map(|c| c.id)
                .collect()
        };
        assert_eq!(ids("1002"), ["C-1002"]);
        assert_eq!(ids("c-1001"), ["C-1001"]);
        assert_eq!(ids("DT:SPM"), ["C-1001"]);
        assert_eq!(ids("code:554"), ["C-1001"]);
        assert_eq!(ids("bounce"), ["C-1003", "C-1001"]);
        assert_eq!(ids("bounce status:open"), ["C-1003"]);
        assert_eq!(ids("from:2026-11-25 to:2026-11-25"), ["C-1002"]);
        assert_eq!(ids("user:lei team:mail").len(), 3);
        assert!(ids("bounce password").is_empty());
        assert!(Query::parse("from:yesterday")
            .unwrap_err()
            .contains("yesterday"));
        // A re-put replaces the case (a status change).
        index.put(&detail(
            "C-1003",
            "closed",
            26,
            "web:a",
            "again a bounce",
            &["550"],
        ));
        assert_eq!(ids("status:closed"), ["C-1003", "C-1001"]);
        // Earlier cases: the other cases of the same conversations.
        let related: Vec<String> = index.related("C-1003").into_iter().map(|c| c.id).collect();
        assert_eq!(related, ["C-1001"]);
        assert!(index.related("C-1002").is_empty());
        // A chat that only quoted the number (an unverified link) does not make cases related.
        index.put(&detail(
            "C-1004",
            "open",
            27,
            "web:a (unverified)",
            "hi",
            &[],
        ));
        assert!(index.related("C-1004").is_empty());
        // Long transcripts are indexed up to MAX_TEXT.
        let long = "word ".repeat(MAX_TEXT);
        index.put(&detail(
            "C-1005",
            "open",
            27,
            "web:z",
            &format!("{long} needle"),
            &[],
        ));
        assert!(ids("needle").is_empty());
        assert_eq!(ids("1005"), ["C-1005"]);
    }
}
