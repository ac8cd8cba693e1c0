//! Cases: records and their transcript/history, the queue (priority, then age), case cards for operator
//! rooms, sending to a case's user, the chat commands' grammar (see [`command`]), statistics and the views
//! `supportbot cases` prints. Data and rules only: the operator commands that use them run in the engine.

pub mod command;
pub mod stats;
pub mod view;

use chrono::{DateTime, FixedOffset};
use supportbot_chat::{Attachment, CaseEntry, CaseEvent, CaseEventKind, Outbound};

use crate::config::Config;
use crate::faq::Lang;
use crate::i18n;
use crate::i18n::operator::OperatorText;
use crate::store::changes::Changes;
use crate::store::records::{case_id, CaseLog, CaseRecord, Endpoint};
use crate::store::{QueueEntry, StoreError};

/// Loads a case.
pub(crate) async fn load(ch: &Changes, number: u64) -> Result<Option<CaseRecord>, StoreError> {
    ch.case(number).await
}

/// Saves a case.
pub(crate) fn save(ch: &mut Changes, case: &CaseRecord) {
    ch.save_case(case);
}

fn log(ch: &mut Changes, case: &mut CaseRecord, line: CaseLog) {
    ch.append_case_line(case.number, case.log_len, line);
    case.log_len += 1;
}

/// Adds a transcript line now.
pub(crate) fn entry(
    ch: &mut Changes,
    case: &mut CaseRecord,
    role: &str,
    name: &str,
    text: &str,
    files: &[Attachment],
) {
    let at = ch.now;
    entry_at(ch, case, at, role, name, text, files);
}

/// Adds a transcript line at a given time.
pub(crate) fn entry_at(
    ch: &mut Changes,
    case: &mut CaseRecord,
    at: DateTime<FixedOffset>,
    role: &str,
    name: &str,
    text: &str,
    files: &[Attachment],
) {
    let line = CaseEntry {
        at,
        role: role.into(),
        name: name.into(),
        text: text.into(),
        attachments: files.to_vec(),
    };
    log(ch, case, CaseLog::Entry(line));
}

/// Records a user's message in a case: a transcript line and the matching history event.
pub(crate) fn user_message(
    ch: &mut Changes,
    case: &mut CaseRecord,
    account: &str,
    name: &str,
    text: &str,
    files: &[Attachment],
) {
    entry(ch, case, "user", name, text, files);
    event(ch, case, CaseEventKind::Message, account, name, text, files);
}

/// Adds a history event (broadcast to subscribers and forwarded to inbox hooks on commit).
pub(crate) fn event(
    ch: &mut Changes,
    case: &mut CaseRecord,
    kind: CaseEventKind,
    actor: &str,
    actor_name: &str,
    text: &str,
    files: &[Attachment],
) {
    let ev = CaseEvent {
        case: case.id(),
        kind,
        at: ch.now,
        actor: actor.into(),
        actor_name: actor_name.into(),
        text: text.into(),
        attachments: files.to_vec(),
    };
    log(ch, case, CaseLog::Event(ev.clone()));
    ch.event(ev);
}

fn queue_entry(case: &CaseRecord) -> QueueEntry {
    QueueEntry {
        priority: case.priority,
        queued_ms: case.opened_at.timestamp_millis().max(0),
        number: case.number,
    }
}

/// Puts a case in the waiting queue.
pub(crate) fn enqueue(ch: &mut Changes, case: &CaseRecord) {
    ch.set_waiting(queue_entry(case), true);
}

/// Takes a case out of the waiting queue.
pub(crate) fn dequeue(ch: &mut Changes, case: &CaseRecord) {
    ch.set_waiting(queue_entry(case), false);
}

/// Waiting case numbers in queue order.
pub(crate) async fn waiting_numbers(ch: &Changes) -> Result<Vec<u64>, StoreError> {
    Ok(ch.waiting().await?.iter().map(|e| e.number).collect())
}

/// 1-based place of a waiting case among its team's waiting cases.
pub(crate) async fn queue_position(ch: &Changes, case: &CaseRecord) -> Result<usize, StoreError> {
    let mut position = 1;
    for number in waiting_numbers(ch).await? {
        if number == case.number {
            break;
        }
        if load(ch, number).await?.is_some_and(|c| c.team == case.team) {
            position += 1;
        }
    }
    Ok(position)
}

/// Where the user of a case reads: the chat it was opened in and verified linked chats.
pub(crate) fn user_endpoints(case: &CaseRecord) -> Vec<Endpoint> {
    let mut out = vec![case.origin.clone()];
    for link in case.links.iter().filter(|l| l.verified) {
        if !out.contains(&link.endpoint) {
            out.push(link.endpoint.clone());
        }
    }
    out
}

/// Sends a message to an endpoint; `case_message` marks it as standing for the case (replies to it reply in it).
pub(crate) fn send_to(
    ch: &mut Changes,
    to: &Endpoint,
    text: impl Into<OperatorText>,
    buttons: Vec<String>,
    case: Option<String>,
    case_message: bool,
) -> String {
    let out = Outbound {
        platform: to.platform.clone(),
        chat: to.chat.clone(),
        text: text.into().for_platform(&to.platform),
        buttons,
        reply_to: None,
        case,
    };
    ch.send(out, case_message)
}

/// Sends a message to the case's user wherever they read it.
pub(crate) fn send_user(ch: &mut Changes, case: &CaseRecord, text: &str, buttons: Vec<String>) {
    for to in user_endpoints(case) {
        send_to(
            ch,
            &to,
            text.to_string(),
            buttons.clone(),
            Some(case.id()),
            false,
        );
    }
}

/// Tells the operator holding the case (a relay they can reply to).
pub(crate) fn notify_assignee(ch: &mut Changes, case: &CaseRecord, text: impl Into<OperatorText>) {
    if let Some(chat) = case.assignee_chat.clone() {
        send_to(ch, &chat, text, vec![], Some(case.id()), true);
    }
}

/// Posts the case card in the team's operator rooms.
pub(crate) fn post_card(
    ch: &mut Changes,
    config: &Config,
    op_lang: Lang,
    case: &CaseRecord,
    attachments: usize,
) {
    let id = case.id();
    let text = card_text(op_lang, case, attachments);
    for (platform, chat) in config.rooms_of(&case.team) {
        let to = Endpoint {
            conversation: format!("{platform}:{chat}"),
            platform,
            chat,
        };
        send_to(
            ch,
            &to,
            text.clone(),
            vec![format!("/take {id}")],
            Some(id.clone()),
            true,
        );
    }
}

/// The text of a case's card.
pub(crate) fn card_text(op_lang: Lang, case: &CaseRecord, attachments: usize) -> OperatorText {
    let id = case.id();
    let card = i18n::operator::Card {
        id: &id,
        team: &case.team,
        priority: case.priority,
        channel: &case.origin.platform,
        user: &case.user_name,
        lang: &case.lang,
        subject: &case.subject,
        codes: &case.error_codes,
        suggestions: &case.suggestions,
        attachments,
        previous: case.previous.as_deref(),
    };
    i18n::operator::card(op_lang, &card)
}

/// The case a message the bot sent stands for (an operator replying to a card or relay).
pub(crate) async fn case_of_message(
    ch: &Changes,
    platform: &str,
    chat: &str,
    reply_to: &str,
) -> Result<Option<u64>, StoreError> {
    let by_envelope = ch.case_of_message(reply_to).await?;
    let id = match by_envelope {
        Some(id) => Some(id),
        None => {
            ch.case_of_message(&format!("pm:{platform}:{chat}:{reply_to}"))
                .await?
        }
    };
    if let Some(n) = id.as_deref().and_then(command::case_number) {
        return Ok(Some(n));
    }
    // A reply_to that is itself a case number (`C-1001`), for channels that cannot tell message ids.
    let t = reply_to.trim();
    if t.len() > 2 && t[..2].eq_ignore_ascii_case("c-") {
        return Ok(command::case_number(t));
    }
    Ok(None)
}

/// The last `n` transcript lines of a case, as text.
pub(crate) async fn transcript_tail(
    ch: &Changes,
    case: &CaseRecord,
    n: usize,
) -> Result<String, StoreError> {
    let mut lines = Vec::new();
    for seq in (0..case.log_len).rev() {
        if lines.len() >= n {
            break;
        }
        if let Some(CaseLog::Entry(e)) = ch.case_line(case.number, seq).await? {
            if e.role != "note" {
                lines.push(format!("{} {}: {}", e.at.format("%H:%M"), e.name, e.text));
            }
        }
    }
    lines.reverse();
    Ok(lines.join("\n"))
}

/// `C-<number>` (re-exported for callers that only have a number).
pub fn id_of(number: u64) -> String {
    case_id(number)
}

#[cfg(test)]
mod tests;
