//! The operator commands that only read: `/queue` (the waiting cases an operator may take) and `/case`
//! (one case's summary and the end of its transcript).

use super::turn::Turn;
use crate::cases::{self, load};
use crate::i18n::operator as op;
use crate::store::records::CaseRecord;
use crate::store::StoreError;

/// `/queue`: the waiting cases, oldest first within priority (cases kept for another operator's customer left
/// out).
pub(super) async fn queue(t: &mut Turn<'_>) -> Result<(), StoreError> {
    let lang = t.sh.op_lang;
    let numbers = cases::waiting_numbers(&t.changes).await?;
    if numbers.is_empty() {
        t.reply_here(op::queue_empty(lang), vec![], None);
        return Ok(());
    }
    let (_, me) = super::operator::who(t);
    let mut shown = Vec::new();
    for number in &numbers {
        match load(&t.changes, *number).await? {
            Some(c) if c.reserved_from(&me, t.changes.now).is_none() => shown.push(c),
            _ => {}
        }
    }
    if shown.is_empty() {
        t.reply_here(op::queue_empty(lang), vec![], None);
        return Ok(());
    }
    let mut lines = vec![op::queue_header(lang, shown.len())];
    for c in shown.iter().take(20) {
        {
            let waited = (t.changes.now - c.opened_at).num_minutes().max(0);
            lines.push(format!(
                "{} · {} · P{} · {} · {} · {waited} min · {}",
                c.id(),
                c.team,
                c.priority,
                c.origin.platform,
                c.user_name,
                c.subject
            ));
        }
    }
    t.reply_here(lines.join("\n"), vec![], None);
    Ok(())
}

/// `/case C-…`: the case's summary and the last lines of its transcript.
pub(super) async fn show(t: &mut Turn<'_>, case: &mut CaseRecord) -> Result<(), StoreError> {
    let mut lines = vec![format!(
        "{} · {} · {} · P{} · {} · {} ({})",
        case.id(),
        case.status.as_str(),
        case.team,
        case.priority,
        case.lang,
        case.user_name,
        case.account
    )];
    if let Some(a) = &case.assignee_name {
        lines.push(format!("assignee: {a}"));
    }
    lines.push(format!(
        "opened: {}",
        case.opened_at.format("%Y-%m-%d %H:%M")
    ));
    lines.push(format!("subject: {}", case.subject));
    if !case.error_codes.is_empty() {
        lines.push(format!("error codes: {}", case.error_codes.join(", ")));
    }
    if !case.suggestions.is_empty() {
        lines.push(format!("suggested FAQ: {}", case.suggestions.join(", ")));
    }
    let mut chats = vec![format!("{}:{}", case.origin.platform, case.origin.chat)];
    for l in &case.links {
        let mark = if l.verified { "" } else { " (unverified)" };
        chats.push(format!("{}:{}{mark}", l.endpoint.platform, l.endpoint.chat));
    }
    lines.push(format!("chats: {}", chats.join(", ")));
    if let Some(r) = case.rating {
        lines.push(format!("rating: {r}/5"));
    }
    if let Some(p) = &case.previous {
        lines.push(format!("previous: {p}"));
    }
    let tail = cases::transcript_tail(&t.changes, case, 10).await?;
    if !tail.is_empty() {
        lines.push(tail);
    }
    t.reply_here(lines.join("\n"), vec![], Some(case.id()));
    Ok(())
}
