//! Operator commands: `/queue /take /reply /note /transfer /release /close /case`, replies to case cards, and
//! plain text in an operator's private chat while they hold exactly one case.

use supportbot_chat::CaseEventKind;

use super::operator_views as views;
use super::turn::Turn;
use crate::cases::command::{case_number, Command};
use crate::cases::{self, dequeue, enqueue, entry, event, load, notify_assignee, post_card, save};
use crate::i18n::{self, operator as op};
use crate::store::records::{CaseRecord, CaseStatus, Mode};
use crate::store::StoreError;

/// Runs an operator command (the caller checked the account is an operator).
pub(crate) async fn run(t: &mut Turn<'_>, cmd: Command) -> Result<(), StoreError> {
    let lang = t.sh.op_lang;
    let (arg, syntax) = match &cmd {
        Command::Queue => return views::queue(t).await,
        Command::Take(arg) => (arg, "/take C-1001"),
        Command::Reply(arg, _) => (arg, "/reply C-1001 text"),
        Command::Note(arg, _) => (arg, "/note C-1001 text"),
        Command::Transfer(arg, _) => (arg, "/transfer C-1001 team"),
        Command::Release(arg) => (arg, "/release C-1001"),
        Command::Close(arg, _) => (arg, "/close C-1001 [summary]"),
        Command::Case(arg) => (arg, "/case C-1001"),
        _ => return Ok(()),
    };
    let Some(mut case) = named_case(t, &arg.clone(), syntax).await? else {
        return Ok(());
    };
    let case = &mut case;
    match cmd {
        Command::Take(_) => take(t, case).await,
        Command::Reply(_, text) => reply(t, case, &text).await,
        Command::Note(_, text) => {
            if text.trim().is_empty() {
                t.reply_here(op::usage(lang, "/note C-1001 text"), vec![], None);
                return Ok(());
            }
            let (account, name) = who(t);
            entry(
                &mut t.changes,
                case,
                "note",
                &name,
                &text,
                &t.msg.attachments,
            );
            event(
                &mut t.changes,
                case,
                CaseEventKind::Note,
                &account,
                &name,
                &text,
                &[],
            );
            save(&mut t.changes, case);
            t.reply_here(op::noted(lang, &case.id()), vec![], Some(case.id()));
            Ok(())
        }
        Command::Transfer(_, team) => transfer(t, case, team.trim()).await,
        Command::Release(_) => release(t, case).await,
        Command::Close(_, summary) => close(t, case, &summary).await,
        Command::Case(_) => views::show(t, case).await,
        _ => Ok(()),
    }
}

/// An operator's message that is not a command: a reply to a case card or relay, or plain text in a private
/// chat while holding exactly one case. `Ok(true)` when it was taken as a reply.
pub(crate) async fn implicit_reply(t: &mut Turn<'_>) -> Result<bool, StoreError> {
    let msg = t.msg;
    if let Some(reply_to) = &msg.reply_to {
        if let Some(number) =
            cases::case_of_message(&t.changes, &msg.platform, &msg.chat, reply_to).await?
        {
            reply_in(t, number).await?;
            return Ok(true);
        }
    }
    if msg.group || (t.text.is_empty() && msg.attachments.is_empty()) {
        return Ok(false);
    }
    let held: Vec<u64> = t.changes.held_cases(&t.account).await?;
    match held.as_slice() {
        [] => Ok(false),
        [one] => {
            reply_in(t, *one).await?;
            Ok(true)
        }
        many => {
            let ids = many
                .iter()
                .map(|n| cases::id_of(*n))
                .collect::<Vec<_>>()
                .join(", ");
            t.reply_here(op::which_case(t.sh.op_lang, &ids), vec![], None);
            Ok(true)
        }
    }
}

/// Replies this message's text in case `number`.
async fn reply_in(t: &mut Turn<'_>, number: u64) -> Result<(), StoreError> {
    let text = t.text.clone();
    match named_case(t, &number.to_string(), "/reply C-1001 text").await? {
        Some(mut case) => reply(t, &mut case, &text).await,
        None => Ok(()),
    }
}

pub(super) fn who(t: &Turn<'_>) -> (String, String) {
    let name =
        t.sh.operator(&t.account)
            .unwrap_or_else(|| t.account.clone());
    (t.account.clone(), name)
}

/// The case an operator command names; `None` (after answering why) when the argument is no case number or
/// there is no such case.
async fn named_case(
    t: &mut Turn<'_>,
    arg: &str,
    syntax: &str,
) -> Result<Option<CaseRecord>, StoreError> {
    let lang = t.sh.op_lang;
    let Some(number) = case_number(arg) else {
        t.reply_here(op::usage(lang, syntax), vec![], None);
        return Ok(None);
    };
    let case = load(&t.changes, number).await?;
    if case.is_none() {
        t.reply_here(op::no_such_case(lang, &cases::id_of(number)), vec![], None);
    }
    Ok(case)
}

/// Refuses actions on a case held by someone else; `true` when refused.
fn held_by_other(t: &mut Turn<'_>, case: &CaseRecord) -> bool {
    match (&case.assignee, case.status) {
        (Some(holder), CaseStatus::Assigned) if holder != &t.account => {
            let by = case.assignee_name.clone().unwrap_or_else(|| holder.clone());
            t.reply_here(op::not_yours(t.sh.op_lang, &case.id(), &by), vec![], None);
            true
        }
        _ => false,
    }
}

fn refuse_closed(t: &mut Turn<'_>, case: &CaseRecord) -> bool {
    if case.status == CaseStatus::Closed {
        t.reply_here(op::is_closed(t.sh.op_lang, &case.id()), vec![], None);
        return true;
    }
    false
}

/// Assigns the case to the operator sending this message and tells the user who joined.
fn assign(t: &mut Turn<'_>, case: &mut CaseRecord) {
    let (account, name) = who(t);
    if case.status == CaseStatus::Open {
        dequeue(&mut t.changes, case);
    }
    case.status = CaseStatus::Assigned;
    case.assignee = Some(account.clone());
    case.assignee_name = Some(name.clone());
    case.assignee_chat = Some(t.here());
    t.changes.set_held(&account, case.number, true);
    event(
        &mut t.changes,
        case,
        CaseEventKind::Assigned,
        &account,
        &name,
        "",
        &[],
    );
    let lang = i18n::from_code(&case.lang);
    cases::send_user(
        &mut t.changes,
        case,
        &i18n::operator_joined(lang, &name, &case.id()),
        vec![],
    );
}

async fn take(t: &mut Turn<'_>, case: &mut CaseRecord) -> Result<(), StoreError> {
    let lang = t.sh.op_lang;
    if refuse_closed(t, case) {
        return Ok(());
    }
    if case.status == CaseStatus::Open {
        let (_, me) = who(t);
        if let Some(manager) = case.reserved_from(&me, t.changes.now) {
            let text = op::reserved(lang, &case.id(), manager);
            t.reply_here(text, vec![], None);
            return Ok(());
        }
    }
    if case.status == CaseStatus::Assigned {
        let holder = case.assignee.clone().unwrap_or_default();
        let text = if holder == t.account {
            op::already_yours(lang, &case.id())
        } else {
            op::held_by(
                lang,
                &case.id(),
                case.assignee_name.as_deref().unwrap_or(&holder),
            )
        };
        t.reply_here(text, vec![], None);
        return Ok(());
    }
    assign(t, case);
    save(&mut t.changes, case);
    let recent = cases::transcript_tail(&t.changes, case, 6).await?;
    let text = op::taken(
        lang,
        &case.id(),
        &case.user_name,
        &case.origin.platform,
        &recent,
    );
    t.reply_here(text, vec![], Some(case.id()));
    Ok(())
}

async fn reply(t: &mut Turn<'_>, case: &mut CaseRecord, text: &str) -> Result<(), StoreError> {
    let lang = t.sh.op_lang;
    if refuse_closed(t, case) || held_by_other(t, case) {
        return Ok(());
    }
    let files = t.msg.attachments.clone();
    if text.trim().is_empty() && files.is_empty() {
        t.reply_here(op::usage(lang, "/reply C-1001 text"), vec![], None);
        return Ok(());
    }
    if case.status == CaseStatus::Open {
        assign(t, case);
    }
    let (account, name) = who(t);
    let mut out = text.to_string();
    for f in &files {
        out.push_str(&format!("\n📎 {} {}", f.name, f.url));
    }
    cases::send_user(&mut t.changes, case, &out, vec![]);
    entry(&mut t.changes, case, "operator", &name, text, &files);
    event(
        &mut t.changes,
        case,
        CaseEventKind::Message,
        &account,
        &name,
        text,
        &files,
    );
    if case.first_reply_at.is_none() {
        case.first_reply_at = Some(t.changes.now);
        let secs = (t.changes.now - case.opened_at).num_milliseconds() as f64 / 1000.0;
        t.sh.metrics.reply_latency(secs.max(0.0));
    }
    save(&mut t.changes, case);
    Ok(())
}

async fn transfer(t: &mut Turn<'_>, case: &mut CaseRecord, team: &str) -> Result<(), StoreError> {
    let lang = t.sh.op_lang;
    if team.is_empty() {
        t.reply_here(op::usage(lang, "/transfer C-1001 team"), vec![], None);
        return Ok(());
    }
    if !t.sh.config.team_exists(team) {
        let teams =
            t.sh.config
                .teams
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
        t.reply_here(op::unknown_team(lang, team, &teams), vec![], None);
        return Ok(());
    }
    if refuse_closed(t, case) || held_by_other(t, case) {
        return Ok(());
    }
    let (account, name) = who(t);
    let old = std::mem::replace(&mut case.team, team.to_string());
    unassign(t, case);
    event(
        &mut t.changes,
        case,
        CaseEventKind::Transferred,
        &account,
        &name,
        &format!("{old} → {team}"),
        &[],
    );
    let user_lang = i18n::from_code(&case.lang);
    cases::send_user(
        &mut t.changes,
        case,
        &i18n::transferred(user_lang, &case.id(), team),
        vec![],
    );
    save(&mut t.changes, case);
    post_card(&mut t.changes, &t.sh.config, t.sh.op_lang, case, 0);
    t.reply_here(
        op::transferred(lang, &case.id(), team),
        vec![],
        Some(case.id()),
    );
    Ok(())
}

/// Puts an assigned case back in the queue (no-op for a waiting one).
fn unassign(t: &mut Turn<'_>, case: &mut CaseRecord) {
    if case.status == CaseStatus::Assigned {
        if let Some(holder) = case.assignee.take() {
            t.changes.set_held(&holder, case.number, false);
        }
        case.assignee_name = None;
        case.assignee_chat = None;
        case.status = CaseStatus::Open;
        enqueue(&mut t.changes, case);
    }
}

async fn release(t: &mut Turn<'_>, case: &mut CaseRecord) -> Result<(), StoreError> {
    let lang = t.sh.op_lang;
    if refuse_closed(t, case) || held_by_other(t, case) {
        return Ok(());
    }
    if case.status != CaseStatus::Assigned {
        t.reply_here(op::released(lang, &case.id()), vec![], None);
        return Ok(());
    }
    let (account, name) = who(t);
    unassign(t, case);
    event(
        &mut t.changes,
        case,
        CaseEventKind::Released,
        &account,
        &name,
        "",
        &[],
    );
    let user_lang = i18n::from_code(&case.lang);
    cases::send_user(
        &mut t.changes,
        case,
        &i18n::released(user_lang, &case.id()),
        vec![],
    );
    save(&mut t.changes, case);
    post_card(&mut t.changes, &t.sh.config, t.sh.op_lang, case, 0);
    t.reply_here(op::released(lang, &case.id()), vec![], Some(case.id()));
    Ok(())
}

async fn close(t: &mut Turn<'_>, case: &mut CaseRecord, summary: &str) -> Result<(), StoreError> {
    let lang = t.sh.op_lang;
    if refuse_closed(t, case) || held_by_other(t, case) {
        return Ok(());
    }
    let (account, name) = who(t);
    let summary = summary.trim();
    close_case(t, case, &account, &name, summary).await?;
    let user_lang = i18n::from_code(&case.lang);
    let text = i18n::closed(user_lang, &case.id(), Some(summary));
    let buttons: Vec<String> = (1..=5).map(|n| n.to_string()).collect();
    cases::send_user(&mut t.changes, case, &text, buttons);
    save(&mut t.changes, case);
    t.reply_here(op::closed(lang, &case.id()), vec![], Some(case.id()));
    Ok(())
}

/// Closes a case: out of the queue and the indexes, conversations unlinked (the user's own chats then ask
/// for a rating). Used by `/close` and by a user withdrawing their case.
pub(crate) async fn close_case(
    t: &mut Turn<'_>,
    case: &mut CaseRecord,
    actor: &str,
    actor_name: &str,
    summary: &str,
) -> Result<(), StoreError> {
    if case.status == CaseStatus::Open {
        dequeue(&mut t.changes, case);
    }
    if let Some(holder) = &case.assignee {
        t.changes.set_held(holder, case.number, false);
    }
    case.status = CaseStatus::Closed;
    case.closed_at = Some(t.changes.now);
    if !summary.is_empty() {
        case.summary = Some(summary.to_string());
    }
    let id = case.id();
    if t.changes.open_case_of(&case.account).await?.as_deref() == Some(id.as_str()) {
        t.changes.set_open_case(&case.account, None);
    }
    let rating_chats = cases::user_endpoints(case);
    let all =
        std::iter::once(case.origin.clone()).chain(case.links.iter().map(|l| l.endpoint.clone()));
    for endpoint in all {
        if let Some(mut conv) = t.changes.conversation(&endpoint.conversation).await? {
            if conv.case.as_deref() == Some(id.as_str()) {
                conv.case = None;
                conv.unverified = false;
                conv.verify_code = None;
                conv.previous_case = Some(id.clone());
                conv.mode = if rating_chats.contains(&endpoint) {
                    Mode::Rating { case: id.clone() }
                } else {
                    Mode::Idle
                };
                t.changes.save_conversation(conv);
            }
        }
    }
    event(
        &mut t.changes,
        case,
        CaseEventKind::Closed,
        actor,
        actor_name,
        summary,
        &[],
    );
    Ok(())
}

/// Tells the operator holding a case about a user's message (used by the engine's in-case flow).
pub(crate) fn relay_to_assignee(t: &mut Turn<'_>, case: &CaseRecord, name: &str, linked: bool) {
    let text = op::relay(
        t.sh.op_lang,
        &case.id(),
        name,
        &t.msg.platform,
        &t.text,
        &t.msg.attachments,
        linked,
    );
    notify_assignee(&mut t.changes, case, text);
}
