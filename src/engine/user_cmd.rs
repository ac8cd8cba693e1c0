//! The user's side of a case: `/status`, `/cancel`, messages inside a case, messages over the account's rate,
//! and the rating. Quoting a case number from another chat is in `link`.

use supportbot_chat::CaseEventKind;

use super::operator;
use crate::cases;
use crate::i18n::{self, operator as op};
use crate::store::records::{CaseRecord, CaseStatus, Conversation, Mode};
use crate::store::StoreError;

use super::link;
use super::turn::Turn;

/// The open case of this conversation, or of the user's account.
async fn current_case(t: &Turn<'_>, conv: &Conversation) -> Result<Option<CaseRecord>, StoreError> {
    let id = match &conv.case {
        Some(id) => Some(id.clone()),
        None => t.changes.open_case_of(&t.account).await?,
    };
    let Some(number) = id.as_deref().and_then(cases::command::case_number) else {
        return Ok(None);
    };
    Ok(cases::load(&t.changes, number)
        .await?
        .filter(|c| c.status != CaseStatus::Closed))
}

/// `/status`.
pub(super) async fn status(t: &mut Turn<'_>, conv: &mut Conversation) -> Result<(), StoreError> {
    let lang = i18n::from_code(&conv.lang);
    if let (true, Some(id)) = (conv.unverified, conv.case.clone()) {
        // Whether the quoted case exists is not told before the code is repeated.
        t.reply(conv, i18n::waiting_for_code(lang, &id), vec![]);
        return Ok(());
    }
    let text = match current_case(t, conv).await? {
        None => i18n::no_case(lang),
        Some(case) => match (&case.status, &case.assignee_name) {
            (CaseStatus::Assigned, Some(name)) => i18n::status_assigned(lang, &case.id(), name),
            _ => {
                let position = cases::queue_position(&t.changes, &case).await?;
                let wait = super::wait::promise(&t.sh.config.hours, lang, t.changes.now, position);
                i18n::status_waiting(lang, &case.id(), position, &wait)
            }
        },
    };
    t.reply(conv, text, vec![]);
    Ok(())
}

/// `/cancel`: stops the intake or a pending choice, or withdraws the user's own case.
pub(super) async fn cancel(t: &mut Turn<'_>, conv: &mut Conversation) -> Result<(), StoreError> {
    let lang = i18n::from_code(&conv.lang);
    if let (Some(id), false) = (conv.case.clone(), conv.unverified) {
        if let Some(mut case) = current_case(t, conv).await?.filter(|c| c.id() == id) {
            let (account, name) = (t.account.clone(), conv.name.clone());
            if case.assignee.is_some() {
                let note = op::withdrawn(t.sh.op_lang, &id);
                cases::notify_assignee(&mut t.changes, &case, note);
            }
            operator::close_case(t, &mut case, &account, &name, "withdrawn by the user").await?;
            cases::save(&mut t.changes, &case);
            conv.case = None;
            conv.previous_case = Some(id.clone());
            conv.mode = Mode::Idle;
            t.reply(conv, i18n::case_withdrawn(lang, &id), vec![]);
            return Ok(());
        }
    }
    if conv.case.is_some() && conv.unverified {
        link::forget(conv);
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
pub(super) async fn in_case(t: &mut Turn<'_>, conv: &mut Conversation) -> Result<bool, StoreError> {
    if conv.unverified {
        link::pending(t, conv).await?;
        return Ok(true);
    }
    let lang = i18n::from_code(&conv.lang);
    let number = conv.case.as_deref().and_then(cases::command::case_number);
    let case = match number {
        Some(n) => cases::load(&t.changes, n).await?,
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
    cases::user_message(
        &mut t.changes,
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
    cases::save(&mut t.changes, &case);
    Ok(true)
}

/// A message sent while the account is over its message rate: kept in the user's case (without a relay or an
/// answer), and "slow down" said once until the account is back within its rate.
pub(super) async fn throttled(t: &mut Turn<'_>, conv: &mut Conversation) -> Result<(), StoreError> {
    t.sh.metrics.throttled();
    if let (Some(id), false) = (conv.case.clone(), conv.unverified) {
        if let Some(mut case) = current_case(t, conv).await?.filter(|c| c.id() == id) {
            let (account, name) = (t.account.clone(), conv.name.clone());
            cases::user_message(
                &mut t.changes,
                &mut case,
                &account,
                &name,
                &t.text,
                &t.msg.attachments,
            );
            cases::save(&mut t.changes, &case);
        }
    }
    if !conv.slowed {
        conv.slowed = true;
        let lang = i18n::from_code(&conv.lang);
        t.reply(conv, i18n::slow_down(lang), vec![]);
    }
    Ok(())
}

/// A 1–5 rating of a closed case.
pub(super) async fn rate(
    t: &mut Turn<'_>,
    conv: &mut Conversation,
    id: &str,
    rating: u8,
) -> Result<(), StoreError> {
    let lang = i18n::from_code(&conv.lang);
    conv.mode = Mode::Idle;
    let case = match cases::command::case_number(id) {
        Some(number) => cases::load(&t.changes, number).await?,
        None => None,
    };
    if let Some(mut case) = case {
        case.rating = Some(rating);
        let (account, name) = (t.account.clone(), conv.name.clone());
        cases::event(
            &mut t.changes,
            &mut case,
            CaseEventKind::Rated,
            &account,
            &name,
            &rating.to_string(),
            &[],
        );
        if case.assignee_chat.is_some() {
            cases::notify_assignee(&mut t.changes, &case, op::rated(t.sh.op_lang, id, rating));
        }
        cases::save(&mut t.changes, &case);
    }
    t.reply(conv, i18n::rated(lang, rating), vec![]);
    Ok(())
}
