//! The FAQ conversation: answers with "did this help?", choices as buttons, misses and the handoff offer.

use crate::faq::{Action, Decision};
use crate::i18n::{self, is_label, label};
use crate::store::records::{Conversation, Mode, Outcome};
use crate::store::StoreError;

use super::intake;
use super::turn::{truncate, Turn};

/// The FAQ category whose answers are moved from groups to private chats.
const ACCOUNT_CATEGORY: &str = "account";
/// Longest question kept in the unanswered list.
const UNANSWERED_CHARS: usize = 200;

/// Continues what the bot was waiting for (a button press, a rating, an intake answer). `Ok(true)` when done.
pub(super) async fn continue_mode(
    t: &mut Turn<'_>,
    conv: &mut Conversation,
) -> Result<bool, StoreError> {
    let lang = i18n::from_code(&conv.lang);
    let text = t.text.clone();
    match conv.mode.clone() {
        Mode::Idle => Ok(false),
        Mode::Rating { case } => match text.trim().parse::<u8>() {
            Ok(r @ 1..=5) => {
                super::user_cmd::rate(t, conv, &case, r).await?;
                Ok(true)
            }
            _ => {
                conv.mode = Mode::Idle;
                Ok(false)
            }
        },
        Mode::Intake(state) => {
            intake::step(t, conv, state).await?;
            Ok(true)
        }
        Mode::Offer => {
            if is_label(&text, &i18n::HUMAN) || t.faq.is_human_request(&text) {
                intake::request_human(t, conv).await?;
                Ok(true)
            } else if is_label(&text, &i18n::NO_THANKS) {
                conv.mode = Mode::Idle;
                t.reply(conv, i18n::offer_declined(lang), vec![]);
                Ok(true)
            } else {
                conv.mode = Mode::Idle;
                Ok(false)
            }
        }
        Mode::Choose { options, query } => {
            if let Some((faq, _)) = options
                .iter()
                .find(|(_, title)| title.trim() == text.trim())
            {
                answer_entry(t, conv, faq, &query).await?;
                Ok(true)
            } else if is_label(&text, &i18n::NONE_OF_THESE) {
                miss(t, conv, &query).await?;
                Ok(true)
            } else {
                conv.mode = Mode::Idle;
                Ok(false)
            }
        }
        Mode::Feedback { query, .. } => {
            if is_label(&text, &i18n::YES) {
                conv.mode = Mode::Idle;
                if conv.outcome != Outcome::Handoff {
                    conv.outcome = Outcome::Answered;
                }
                t.reply(conv, i18n::glad(lang), vec![]);
                Ok(true)
            } else if is_label(&text, &i18n::NO) {
                record_unanswered(t, &query).await?;
                if conv.outcome == Outcome::Answered {
                    conv.outcome = Outcome::None;
                }
                offer(t, conv);
                Ok(true)
            } else {
                conv.mode = Mode::Idle;
                Ok(false)
            }
        }
    }
}

/// Asks the FAQ and acts on its decision.
pub(super) async fn ask(t: &mut Turn<'_>, conv: &mut Conversation) -> Result<(), StoreError> {
    let lang = i18n::from_code(&conv.lang);
    let decision = match t.early.take() {
        Some((asked, d)) if asked == lang && d.query == t.text => d,
        _ => t.faq.decide_in(&t.text, lang),
    };
    t.sh.metrics.decision(decision.action);
    conv.asked += 1;
    if decision.category.is_some() {
        conv.last_category = decision.category.clone();
    }
    match decision.action {
        Action::Answer => answer(t, conv, &decision).await,
        Action::Choose => {
            choose(t, conv, &decision);
            Ok(())
        }
        Action::Handoff if decision.human_requested => intake::request_human(t, conv).await,
        // A topic the knowledge base leaves to people is no miss: a person is offered at once.
        Action::Handoff if decision.left_to_people => {
            offer(t, conv);
            Ok(())
        }
        Action::Handoff => miss(t, conv, &decision.query).await,
        Action::Smalltalk => {
            // A greeting or a thank-you: the reply the FAQ chose, no entry and no case.
            t.reply(conv, decision.answer.clone().unwrap_or_default(), vec![]);
            Ok(())
        }
    }
}

async fn answer(t: &mut Turn<'_>, conv: &mut Conversation, d: &Decision) -> Result<(), StoreError> {
    let (Some(faq), Some(text)) = (d.faq.clone(), d.answer.clone()) else {
        return miss(t, conv, &d.query).await;
    };
    send_answer(t, conv, &faq, text, d.category.as_deref(), &d.query).await
}

/// Answers the entry a user picked from the choices.
async fn answer_entry(
    t: &mut Turn<'_>,
    conv: &mut Conversation,
    faq: &str,
    query: &str,
) -> Result<(), StoreError> {
    let lang = i18n::from_code(&conv.lang);
    let Some(entry) = t.faq.entry(faq).cloned() else {
        return miss(t, conv, query).await;
    };
    conv.last_category = Some(entry.category.clone());
    send_answer(
        t,
        conv,
        faq,
        entry.answer.get(lang).clone(),
        Some(&entry.category),
        query,
    )
    .await
}

async fn send_answer(
    t: &mut Turn<'_>,
    conv: &mut Conversation,
    faq: &str,
    answer: String,
    category: Option<&str>,
    query: &str,
) -> Result<(), StoreError> {
    let lang = i18n::from_code(&conv.lang);
    let text = format!("{answer}\n\n{}", i18n::did_it_help(lang));
    let buttons = vec![label(&i18n::YES, lang), label(&i18n::NO, lang)];
    let mode = Mode::Feedback {
        faq: faq.to_string(),
        query: query.to_string(),
    };
    conv.misses = 0;
    conv.last_faq = Some(faq.to_string());
    if conv.outcome != Outcome::Handoff {
        conv.outcome = Outcome::Answered;
    }
    if conv.group && category == Some(ACCOUNT_CATEGORY) {
        // Account security is discussed in private only.
        conv.mode = Mode::Idle;
        t.reply(conv, i18n::moved_private(lang), vec![]);
        let mut private = t.private_conversation(conv).await?;
        private.last_faq = conv.last_faq.clone();
        private.mode = mode;
        t.reply(&mut private, text, buttons);
        t.changes.save_conversation(private);
    } else {
        conv.mode = mode;
        t.reply(conv, text, buttons);
    }
    Ok(())
}

fn choose(t: &mut Turn<'_>, conv: &mut Conversation, d: &Decision) {
    let lang = i18n::from_code(&conv.lang);
    let options: Vec<(String, String)> = d
        .candidates
        .iter()
        .map(|c| (c.faq.clone(), c.question.clone()))
        .collect();
    if conv.last_category.is_none() {
        conv.last_category = options
            .first()
            .and_then(|(id, _)| t.faq.entry(id))
            .map(|e| e.category.clone());
    }
    let mut buttons: Vec<String> = options.iter().map(|(_, q)| q.clone()).collect();
    buttons.push(label(&i18n::NONE_OF_THESE, lang));
    conv.mode = Mode::Choose {
        options,
        query: d.query.clone(),
    };
    t.reply(conv, i18n::choose(lang), buttons);
}

/// A question without an answer: a hint the first time, the handoff offer the second.
async fn miss(t: &mut Turn<'_>, conv: &mut Conversation, query: &str) -> Result<(), StoreError> {
    let lang = i18n::from_code(&conv.lang);
    record_unanswered(t, query).await?;
    conv.misses = conv.misses.saturating_add(1);
    if conv.misses >= 2 {
        offer(t, conv);
    } else {
        conv.mode = Mode::Idle;
        t.reply(conv, i18n::miss(lang), vec![label(&i18n::HUMAN, lang)]);
    }
    Ok(())
}

/// Offers a handoff to a person.
pub(super) fn offer(t: &mut Turn<'_>, conv: &mut Conversation) {
    let lang = i18n::from_code(&conv.lang);
    conv.misses = 0;
    conv.mode = Mode::Offer;
    t.reply(
        conv,
        i18n::offer(lang),
        vec![label(&i18n::HUMAN, lang), label(&i18n::NO_THANKS, lang)],
    );
}

/// Counts a question the FAQ could not answer (for `stats`: what to add next).
async fn record_unanswered(t: &mut Turn<'_>, query: &str) -> Result<(), StoreError> {
    let normalised = truncate(
        &query
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase(),
        UNANSWERED_CHARS,
    );
    if normalised.is_empty() {
        return Ok(());
    }
    let count = t.changes.unanswered(&normalised).await?.unwrap_or(0) + 1;
    t.changes.set_unanswered(&normalised, count);
    Ok(())
}
