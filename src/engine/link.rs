//! A case number quoted in a chat that did not open the case. The same account is linked at once. Another
//! account (or a number that is no open case: the chat cannot tell the two apart) waits for the 6-digit code
//! sent to the case's own chat; a case sends few codes an hour, one code takes few wrong guesses, and until the
//! code is repeated the chat learns nothing of the case. A group is never linked: the quote continues in the
//! user's private chat, like a handoff from a group.

use chrono::Duration;
use rand::Rng;
use supportbot_chat::CaseEventKind;

use super::operator;
use crate::cases;
use crate::i18n::{self, operator as op};
use crate::store::records::{CaseRecord, CaseStatus, Conversation, Endpoint, Link, Mode};
use crate::store::StoreError;

use super::turn::Turn;

/// Length of a verification code.
const CODE_DIGITS: usize = 6;

async fn open_case(t: &Turn<'_>, number: u64) -> Result<Option<CaseRecord>, StoreError> {
    Ok(cases::load(&t.changes, number)
        .await?
        .filter(|c| c.status != CaseStatus::Closed))
}

/// `platform:chat` of an endpoint, as case lines and operator notes name it.
fn address(endpoint: &Endpoint) -> String {
    format!("{}:{}", endpoint.platform, endpoint.chat)
}

/// How a message from a chat not yet verified is labelled in the case.
fn unverified_label(name: &str, address: &str) -> String {
    format!("{name} ({address}, unverified)")
}

/// Adds `endpoint` to the case's links, unless it is the case's own chat or already linked.
fn add_link(case: &mut CaseRecord, endpoint: &Endpoint, account: &str, verified: bool) {
    if case.origin != *endpoint && !case.links.iter().any(|l| l.endpoint == *endpoint) {
        case.links.push(Link {
            endpoint: endpoint.clone(),
            account: account.to_string(),
            verified,
        });
    }
}

/// A history line about the chat at `address` by this message's sender, and the note to the operator holding
/// the case that the chat is linked (`verified`: replies go there too).
fn note_link(
    t: &mut Turn<'_>,
    case: &mut CaseRecord,
    name: &str,
    line: &str,
    address: &str,
    verified: bool,
) {
    let account = t.account.clone();
    cases::event(
        &mut t.changes,
        case,
        CaseEventKind::Message,
        &account,
        name,
        line,
        &[],
    );
    let note = op::linked(t.sh.op_lang, &case.id(), address, verified);
    cases::notify_assignee(&mut t.changes, case, note);
}

/// Whether a message is an attempt at a code (six digits), as opposed to a message for the case.
fn is_code_attempt(text: &str) -> bool {
    let text = text.trim();
    text.len() == CODE_DIGITS && text.bytes().all(|b| b.is_ascii_digit())
}

/// A case number quoted in `conv`, which has no case.
pub(super) async fn quote(
    t: &mut Turn<'_>,
    conv: &mut Conversation,
    number: u64,
) -> Result<(), StoreError> {
    if !conv.group {
        return quote_here(t, conv, number).await;
    }
    let lang = i18n::from_code(&conv.lang);
    conv.mode = Mode::Idle;
    t.reply(conv, i18n::moved_private(lang), vec![]);
    let mut private = t.private_conversation(conv).await?;
    if private.case.is_some() {
        super::user_cmd::status(t, &mut private).await?;
    } else {
        quote_here(t, &mut private, number).await?;
    }
    t.changes.save_conversation(private);
    Ok(())
}

/// Links a private conversation: at once for the case's own account, pending a code for anyone else.
async fn quote_here(
    t: &mut Turn<'_>,
    conv: &mut Conversation,
    number: u64,
) -> Result<(), StoreError> {
    let lang = i18n::from_code(&conv.lang);
    let case = open_case(t, number).await?;
    let id = cases::id_of(number);
    let endpoint = conv.endpoint();
    let where_ = address(&endpoint);
    let (account, name) = (t.account.clone(), conv.name.clone());
    conv.case = Some(id.clone());
    conv.acked = true;
    conv.mode = Mode::Idle;
    conv.verify_misses = 0;
    match case {
        Some(mut case) if case.account == account => {
            add_link(&mut case, &endpoint, &account, true);
            conv.unverified = false;
            conv.verify_code = None;
            note_link(
                t,
                &mut case,
                &name,
                &format!("linked {where_}"),
                &where_,
                true,
            );
            cases::entry(
                &mut t.changes,
                &mut case,
                "user",
                &name,
                &t.text,
                &t.msg.attachments,
            );
            cases::save(&mut t.changes, &case);
            t.reply(conv, i18n::linked_same_user(lang, &id), vec![]);
        }
        case => {
            let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
            conv.unverified = true;
            conv.verify_code = Some(code.clone());
            if let Some(mut case) = case {
                link_unverified(t, &mut case, &endpoint, &name, &code);
                cases::save(&mut t.changes, &case);
            }
            t.reply(conv, i18n::link_pending(lang, &id), vec![]);
        }
    }
    Ok(())
}

/// Records an unverified link in the case and sends the code to the case's own chat, unless the case has sent
/// its codes for this hour (the quoting chat is answered the same either way).
fn link_unverified(
    t: &mut Turn<'_>,
    case: &mut CaseRecord,
    endpoint: &Endpoint,
    name: &str,
    code: &str,
) {
    let id = case.id();
    let where_ = address(endpoint);
    add_link(case, endpoint, &t.account.clone(), false);
    let hour_ago = t.changes.now - Duration::hours(1);
    case.link_codes.retain(|at| *at > hour_ago);
    let line = if case.link_codes.len() < t.sh.config.limits.link_codes_per_hour {
        case.link_codes.push(t.changes.now);
        let to_origin =
            i18n::verify_code(i18n::from_code(&case.lang), &id, &endpoint.platform, code);
        cases::send_to(
            &mut t.changes,
            &case.origin.clone(),
            to_origin,
            vec![],
            Some(id.clone()),
            false,
        );
        format!("linked {where_} (unverified)")
    } else {
        format!(
            "linked {where_} (unverified; no code sent: {} codes in the last hour)",
            case.link_codes.len()
        )
    };
    note_link(t, case, name, &line, &where_, false);
    let label = unverified_label(name, &where_);
    cases::entry(
        &mut t.changes,
        case,
        "user",
        &label,
        &t.text,
        &t.msg.attachments,
    );
}

/// A message in a conversation waiting for its code: the code, a wrong guess, or a message for the case's
/// operators (kept in the case when it exists; the chat is answered the same either way).
pub(super) async fn pending(t: &mut Turn<'_>, conv: &mut Conversation) -> Result<(), StoreError> {
    let lang = i18n::from_code(&conv.lang);
    let id = conv.case.clone().unwrap_or_default();
    let case = match cases::command::case_number(&id) {
        Some(number) => open_case(t, number).await?,
        None => None,
    };
    let endpoint = conv.endpoint();
    let where_ = address(&endpoint);
    let (account, name) = (t.account.clone(), conv.name.clone());
    if !is_code_attempt(&t.text) {
        if let Some(mut case) = case {
            let label = unverified_label(&name, &where_);
            cases::user_message(
                &mut t.changes,
                &mut case,
                &account,
                &label,
                &t.text,
                &t.msg.attachments,
            );
            operator::relay_to_assignee(t, &case, &name, true);
            cases::save(&mut t.changes, &case);
        }
        t.reply(conv, i18n::waiting_for_code(lang, &id), vec![]);
        return Ok(());
    }
    let right = conv.verify_code.as_deref() == Some(t.text.trim());
    match case {
        Some(mut case) if right => {
            conv.unverified = false;
            conv.verify_code = None;
            conv.verify_misses = 0;
            if let Some(link) = case.links.iter_mut().find(|l| l.endpoint == endpoint) {
                link.verified = true;
            }
            note_link(
                t,
                &mut case,
                &name,
                &format!("verified {where_}"),
                &where_,
                true,
            );
            cases::save(&mut t.changes, &case);
            t.reply(conv, i18n::verified(lang, &id), vec![]);
        }
        case => {
            let allowed = t.sh.config.limits.wrong_codes_per_link;
            conv.verify_misses = conv.verify_misses.saturating_add(1);
            if conv.verify_misses < allowed {
                t.reply(
                    conv,
                    i18n::wrong_code(lang, allowed - conv.verify_misses),
                    vec![],
                );
                return Ok(());
            }
            // One line in the case for the whole failed attempt, not one per guess.
            if let Some(mut case) = case {
                case.links.retain(|l| l.endpoint != endpoint || l.verified);
                let line = format!("{allowed} wrong codes from {where_}; link dropped");
                cases::event(
                    &mut t.changes,
                    &mut case,
                    CaseEventKind::Message,
                    &account,
                    &name,
                    &line,
                    &[],
                );
                let note = op::link_dropped(t.sh.op_lang, &id, &where_, allowed);
                cases::notify_assignee(&mut t.changes, &case, note);
                cases::save(&mut t.changes, &case);
            }
            forget(conv);
            t.reply(conv, i18n::link_dropped(lang, &id), vec![]);
        }
    }
    Ok(())
}

/// Ends a pending link (the conversation has no case again).
pub(super) fn forget(conv: &mut Conversation) {
    conv.case = None;
    conv.unverified = false;
    conv.verify_code = None;
    conv.verify_misses = 0;
    conv.mode = Mode::Idle;
}
