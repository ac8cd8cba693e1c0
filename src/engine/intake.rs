//! The handoff: intake of symptom, steps and error message (each skippable, attachments welcome), then the
//! case: number, team, priority, transcript, error codes, suggestions, queue place and the user's notice.

use supportbot_chat::CaseEventKind;

use crate::cases;
use crate::faq::extract_error_codes;
use crate::i18n::{self, is_label, label};
use crate::store::records::{CaseRecord, CaseStatus, Conversation, Intake, Link, Mode, Outcome};
use crate::store::StoreError;

use super::turn::{truncate, Turn};

/// Longest subject line.
const SUBJECT_CHARS: usize = 120;

/// A request for a person: starts the intake (in private when asked in a group), or points to the open case.
pub(super) async fn request_human(
    t: &mut Turn<'_>,
    conv: &mut Conversation,
) -> Result<(), StoreError> {
    if conv.group {
        let lang = i18n::from_code(&conv.lang);
        conv.mode = Mode::Idle;
        t.reply(conv, i18n::moved_private(lang), vec![]);
        let mut private = t.private_conversation(conv).await?;
        request_human_in(t, &mut private).await?;
        t.changes.save_conversation(private);
        return Ok(());
    }
    request_human_in(t, conv).await
}

async fn request_human_in(t: &mut Turn<'_>, conv: &mut Conversation) -> Result<(), StoreError> {
    let lang = i18n::from_code(&conv.lang);
    if let Some(mut case) = open_case_of(t, &t.account.clone()).await? {
        let id = case.id();
        if conv.case.is_none() {
            let endpoint = conv.endpoint();
            if case.origin != endpoint && !case.links.iter().any(|l| l.endpoint == endpoint) {
                case.links.push(Link {
                    endpoint: endpoint.clone(),
                    account: t.account.clone(),
                    verified: true,
                });
                let text = format!("linked {}:{}", endpoint.platform, endpoint.chat);
                cases::event(
                    &mut t.changes,
                    &mut case,
                    CaseEventKind::Message,
                    &t.account,
                    &conv.name,
                    &text,
                    &[],
                );
                cases::save(&mut t.changes, &case);
            }
            conv.case = Some(id.clone());
            conv.unverified = false;
        }
        conv.mode = Mode::Idle;
        t.reply(conv, i18n::already_open(lang, &id), vec![]);
        return Ok(());
    }
    conv.mode = Mode::Intake(Intake::default());
    t.reply(conv, i18n::intake(lang, 0), vec![label(&i18n::SKIP, lang)]);
    Ok(())
}

/// The open case of a user account, if any.
async fn open_case_of(t: &Turn<'_>, account: &str) -> Result<Option<CaseRecord>, StoreError> {
    let Some(id) = t.changes.open_case_of(account).await? else {
        return Ok(None);
    };
    let Some(number) = cases::command::case_number(&id) else {
        return Ok(None);
    };
    Ok(cases::load(&t.changes, number)
        .await?
        .filter(|c| c.status != CaseStatus::Closed))
}

/// One intake answer; after the third, the case opens.
pub(super) async fn step(
    t: &mut Turn<'_>,
    conv: &mut Conversation,
    mut state: Intake,
) -> Result<(), StoreError> {
    let lang = i18n::from_code(&conv.lang);
    let answer = if is_label(&t.text, &i18n::SKIP) || t.text.is_empty() {
        None
    } else {
        Some(t.text.clone())
    };
    state.attachments.extend(t.msg.attachments.iter().cloned());
    match state.step {
        0 => state.symptom = answer,
        1 => state.steps = answer,
        _ => state.error = answer,
    }
    state.step += 1;
    if state.step < 3 {
        let next = state.step;
        conv.mode = Mode::Intake(state);
        t.reply(
            conv,
            i18n::intake(lang, next),
            vec![label(&i18n::SKIP, lang)],
        );
        return Ok(());
    }
    open_case(t, conv, state).await
}

/// Opens a case for the conversation. A case is always opened, whether or not anyone is online.
async fn open_case(
    t: &mut Turn<'_>,
    conv: &mut Conversation,
    intake: Intake,
) -> Result<(), StoreError> {
    let sh = t.sh;
    let lang = i18n::from_code(&conv.lang);
    let number = t.changes.next_case_number().await?;
    let team = sh.config.team_for(conv.last_category.as_deref());
    let priority = if sh.config.is_enterprise(&t.account) {
        0
    } else {
        1
    };
    let recent_lines = super::recent::take(&mut t.changes, conv).await?;
    let user_texts: Vec<&str> = recent_lines
        .iter()
        .filter(|l| l.role == "user")
        .map(|l| l.text.as_str())
        .collect();
    let mut error_codes: Vec<String> = Vec::new();
    for text in &user_texts {
        for code in extract_error_codes(text) {
            if !error_codes.contains(&code) {
                error_codes.push(code);
            }
        }
    }
    let problem = [intake.symptom.as_deref(), intake.error.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let mut suggestions: Vec<String> = conv.last_faq.iter().cloned().collect();
    if !problem.trim().is_empty() {
        for c in t.faq.decide_in(&problem, lang).candidates {
            if !suggestions.contains(&c.faq) {
                suggestions.push(c.faq);
            }
        }
    }
    suggestions.truncate(3);
    let subject_source = intake
        .symptom
        .clone()
        .or_else(|| {
            let asked = |s: &&&str| {
                !t.faq.is_human_request(s) && !s.starts_with('/') && !is_label(s, &i18n::SKIP)
            };
            user_texts.iter().rev().find(asked).map(|s| s.to_string())
        })
        .unwrap_or_else(|| "-".into());
    let subject = truncate(subject_source.lines().next().unwrap_or("-"), SUBJECT_CHARS);
    let now = t.changes.now;
    let mut case = CaseRecord {
        number,
        status: CaseStatus::Open,
        team: team.clone(),
        priority,
        lang: conv.lang.clone(),
        account: t.account.clone(),
        user_name: conv.name.clone(),
        origin: conv.endpoint(),
        links: Vec::new(),
        assignee: None,
        assignee_name: None,
        assignee_chat: None,
        opened_at: now,
        first_reply_at: None,
        closed_at: None,
        subject: subject.clone(),
        category: conv.last_category.clone(),
        error_codes,
        suggestions,
        rating: None,
        summary: None,
        previous: conv.previous_case.take(),
        log_len: 0,
        link_codes: Vec::new(),
        reserved_for: None,
        reserved_until: None,
    };
    let id = case.id();
    let bot_name = sh.config.bot.name.clone();
    for line in recent_lines {
        let name = if line.role == "user" {
            conv.name.clone()
        } else {
            bot_name.clone()
        };
        cases::entry_at(
            &mut t.changes,
            &mut case,
            line.at,
            &line.role,
            &name,
            &line.text,
            &line.attachments,
        );
    }
    let files = intake.attachments.len();
    let opened_text = match &case.previous {
        Some(prev) => format!("{subject} (previous: {prev}, files: {files})"),
        None => format!("{subject} (files: {files})"),
    };
    let account = t.account.clone();
    cases::event(
        &mut t.changes,
        &mut case,
        CaseEventKind::Opened,
        &account,
        &conv.name,
        &opened_text,
        &intake.attachments,
    );
    cases::enqueue(&mut t.changes, &case);
    t.changes.set_open_case(&account, Some(id.clone()));
    cases::save(&mut t.changes, &case);
    sh.metrics.handoff(&team);

    conv.case = Some(id.clone());
    conv.unverified = false;
    conv.mode = Mode::Idle;
    conv.outcome = Outcome::Handoff;
    conv.acked = false;
    conv.misses = 0;

    let position = cases::queue_position(&t.changes, &case).await?;
    let wait = super::wait::promise(&sh.config.hours, lang, now, position);
    let mut text = format!("{}\n{wait}", i18n::case_opened(lang, &id, position));
    let manager = sh.config.manager_of(&account).map(|m| m.name.clone());
    if let Some(manager) = &manager {
        text = format!("{text}\n{}", i18n::manager_notified(lang, manager));
    }
    if let (0, Some(phone)) = (case.priority, &sh.config.customers.enterprise_phone) {
        text = format!("{text}\n{}", i18n::enterprise_phone(lang, phone, &id));
    }
    t.reply(conv, text, vec![]);
    match manager {
        Some(manager) => super::managers::reserve(t, &mut case, &manager, files),
        None => cases::post_card(&mut t.changes, &sh.config, sh.op_lang, &case, files),
    }
    Ok(())
}
