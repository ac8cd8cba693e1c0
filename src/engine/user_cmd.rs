//! The user's side of a case: `/status`, `/cancel`, messages inside a case, quoting a case number from another
//! chat (linked; details only after the code sent to the case's own chat is repeated), and the rating.

use rand::Rng;
use supportbot_chat::CaseEventKind;

use crate::cases::{self, operator};
use crate::i18n::{self, operator as op};
use crate::store::records::{CaseRecord, CaseStatus, Conversation, Endpoint, Link, Mode};
use crate::store::{keys, StoreError};

use super::turn::Turn;

fn endpoint_of(conv: &Conversation) -> Endpoint {
    Endpoint {
        platform: conv.platform.clone(),
        chat: conv.chat.clone(),
        conversation: conv.key.clone(),
    }
}

/// The open case of this conversation, or of the user's account.
fn current_case(t: &Turn<'_>, conv: &Conversation) -> Result<Option<CaseRecord>, StoreError> {
    let id = match &conv.case {
        Some(id) => Some(id.clone()),
        None => t.tx.get::<String>(&keys::user_case(&t.account))?,
    };
    let Some(number) = id.as_deref().and_then(cases::command::case_number) else {
        return Ok(None);
    };
    Ok(cases::load(&t.tx, number)?.filter(|c| c.status != CaseStatus::Closed))
}

/// `/status`.
pub(super) fn status(t: &mut Turn<'_>, conv: &mut Conversation) -> Result<(), StoreError> {
    let lang = i18n::from_code(&conv.lang);
    let text = match current_case(t, conv)? {
        None => i18n::no_case(lang),
        Some(case) if conv.unverified && conv.case.is_some() => {
            i18n::status_linked(lang, &case.id())
        }
        Some(case) => match (&case.status, &case.assignee_name) {
            (CaseStatus::Assigned, Some(name)) => i18n::status_assigned(lang, &case.id(), name),
            _ => i18n::status_waiting(lang, &case.id(), cases::queue_position(&t.tx, &case)?),
        },
    };
    t.reply(conv, text, vec![]);
    Ok(())
}

/// `/cancel`: stops the intake or a pending choice, or withdraws the user's own case.
pub(super) fn cancel(t: &mut Turn<'_>, conv: &mut Conversation) -> Result<(), StoreError> {
    let lang = i18n::from_code(&conv.lang);
    if let (Some(id), false) = (conv.case.clone(), conv.unverified) {
        if let Some(mut case) = current_case(t, conv)?.filter(|c| c.id() == id) {
            let (account, name) = (t.account.clone(), conv.name.clone());
            if case.assignee.is_some() {
                let note = op::withdrawn(t.sh.op_lang, &id);
                cases::notify_assignee(&mut t.tx, &case, note);
            }
            operator::close_case(t, &mut case, &account, &name, "withdrawn by the user")?;
            cases::save(&mut t.tx, &case);
            conv.case = None;
            conv.previous_case = Some(id.clone());
            conv.mode = Mode::Idle;
            t.reply(conv, i18n::case_withdrawn(lang, &id), vec![]);
            return Ok(());
        }
    }
    if conv.case.is_some() && conv.unverified {
        conv.case = None;
        conv.unverified = false;
        conv.verify_code = None;
        conv.mode = Mode::Idle;
        t.reply(conv, i18n::cancelled(lang), vec![]);
        return Ok(());
    }
    let text = if conv.mode == Mode::Idle {
        i18n::nothing_to_cancel(lang)
    } else {
        i18n::cancelled(lang)
    };
    conv.mode = Mode::Idle;
    t.reply(conv, text, vec![]);
    Ok(())
}

/// A message in a conversation linked to a case. `Ok(false)` when the case is closed meanwhile (the bot answers).
pub(super) fn in_case(t: &mut Turn<'_>, conv: &mut Conversation) -> Result<bool, StoreError> {
    let lang = i18n::from_code(&conv.lang);
    let number = conv.case.as_deref().and_then(cases::command::case_number);
    let case = match number {
        Some(n) => cases::load(&t.tx, n)?,
        None => None,
    };
    let Some(mut case) = case.filter(|c| c.status != CaseStatus::Closed) else {
        conv.case = None;
        conv.unverified = false;
        conv.verify_code = None;
        return Ok(false);
    };
    let id = case.id();
    let (account, name) = (t.account.clone(), conv.name.clone());
    if conv.unverified {
        let endpoint = endpoint_of(conv);
        if conv
            .verify_code
            .as_deref()
            .is_some_and(|code| code == t.text.trim())
        {
            conv.unverified = false;
            conv.verify_code = None;
            if let Some(link) = case.links.iter_mut().find(|l| l.endpoint == endpoint) {
                link.verified = true;
            }
            let where_ = format!("{}:{}", endpoint.platform, endpoint.chat);
            cases::event(
                &mut t.tx,
                &mut case,
                CaseEventKind::Message,
                &account,
                &name,
                &format!("verified {where_}"),
                &[],
            );
            cases::notify_assignee(
                &mut t.tx,
                &case,
                op::linked(t.sh.op_lang, &id, &where_, true),
            );
            cases::save(&mut t.tx, &case);
            t.reply(conv, i18n::verified(lang, &id), vec![]);
            return Ok(true);
        }
        let label = format!(
            "{name} ({}:{}, unverified)",
            endpoint.platform, endpoint.chat
        );
        cases::user_message(
            &mut t.tx,
            &mut case,
            &account,
            &label,
            &t.text,
            &t.msg.attachments,
        );
        operator::relay_to_assignee(t, &case, &name, true);
        cases::save(&mut t.tx, &case);
        if !conv.acked {
            conv.acked = true;
            t.reply(conv, i18n::passed_on(lang), vec![]);
        }
        return Ok(true);
    }
    cases::user_message(
        &mut t.tx,
        &mut case,
        &account,
        &name,
        &t.text,
        &t.msg.attachments,
    );
    for code in crate::faq::extract_error_codes(&t.text) {
        if !case.error_codes.contains(&code) {
            case.error_codes.push(code);
        }
    }
    if case.status == CaseStatus::Assigned {
        operator::relay_to_assignee(t, &case, &name, false);
    } else if !conv.acked {
        conv.acked = true;
        t.reply(conv, i18n::added_to_case(lang, &id), vec![]);
    }
    cases::save(&mut t.tx, &case);
    Ok(true)
}

/// A case number quoted in a conversation without a case: links it. The same account is linked at once;
/// anyone else is linked unverified (operators see the chat and its messages, the user sees nothing of the
/// case) until they repeat the code the bot sends to the chat the case was opened in.
pub(super) fn quote(
    t: &mut Turn<'_>,
    conv: &mut Conversation,
    number: u64,
) -> Result<(), StoreError> {
    let lang = i18n::from_code(&conv.lang);
    let Some(mut case) = cases::load(&t.tx, number)?.filter(|c| c.status != CaseStatus::Closed)
    else {
        t.reply(
            conv,
            i18n::unknown_case(lang, &cases::id_of(number)),
            vec![],
        );
        return Ok(());
    };
    let id = case.id();
    let endpoint = endpoint_of(conv);
    let where_ = format!("{}:{}", endpoint.platform, endpoint.chat);
    let (account, name) = (t.account.clone(), conv.name.clone());
    let same_user = case.account == account;
    if case.origin != endpoint && !case.links.iter().any(|l| l.endpoint == endpoint) {
        case.links.push(Link {
            endpoint: endpoint.clone(),
            account: account.clone(),
            verified: same_user,
        });
    }
    conv.case = Some(id.clone());
    conv.unverified = !same_user;
    conv.acked = true;
    conv.mode = Mode::Idle;
    let linked = if same_user {
        format!("linked {where_}")
    } else {
        format!("linked {where_} (unverified)")
    };
    cases::event(
        &mut t.tx,
        &mut case,
        CaseEventKind::Message,
        &account,
        &name,
        &linked,
        &[],
    );
    let label = if same_user {
        name.clone()
    } else {
        format!("{name} ({where_}, unverified)")
    };
    cases::entry(
        &mut t.tx,
        &mut case,
        "user",
        &label,
        &t.text,
        &t.msg.attachments,
    );
    cases::notify_assignee(
        &mut t.tx,
        &case,
        op::linked(t.sh.op_lang, &id, &where_, same_user),
    );
    if same_user {
        conv.verify_code = None;
        t.reply(conv, i18n::linked_same_user(lang, &id), vec![]);
    } else {
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        conv.verify_code = Some(code.clone());
        let case_lang = i18n::from_code(&case.lang);
        let to_origin = i18n::verify_code(case_lang, &id, &endpoint.platform, &code);
        cases::send_to(
            &mut t.tx,
            &case.origin.clone(),
            to_origin,
            vec![],
            Some(id.clone()),
            false,
        );
        t.reply(conv, i18n::linked_unverified(lang, &id), vec![]);
    }
    cases::save(&mut t.tx, &case);
    Ok(())
}

/// A 1–5 rating of a closed case.
pub(super) fn rate(
    t: &mut Turn<'_>,
    conv: &mut Conversation,
    id: &str,
    rating: u8,
) -> Result<(), StoreError> {
    let lang = i18n::from_code(&conv.lang);
    conv.mode = Mode::Idle;
    if let Some(mut case) = cases::command::case_number(id)
        .map(|n| cases::load(&t.tx, n))
        .transpose()?
        .flatten()
    {
        case.rating = Some(rating);
        let (account, name) = (t.account.clone(), conv.name.clone());
        cases::event(
            &mut t.tx,
            &mut case,
            CaseEventKind::Rated,
            &account,
            &name,
            &rating.to_string(),
            &[],
        );
        if case.assignee_chat.is_some() {
            cases::notify_assignee(&mut t.tx, &case, op::rated(t.sh.op_lang, id, rating));
        }
        cases::save(&mut t.tx, &case);
    }
    t.reply(conv, i18n::rated(lang, rating), vec![]);
    Ok(())
}
