//! One handling step for one inbound message: routes it to operator commands, the case it belongs to, the
//! handoff intake or the FAQ, and collects what to send.

use supportbot_chat::{CaseEventKind, Delivery, Inbound, Outbound};

use super::operator;
use super::{bot, clock, intake, link, recent, user_cmd, Shared};
use crate::cases::{self, command};
use crate::faq::{Decision, Faq, Lang};
use crate::i18n;
use crate::i18n::operator::OperatorText;
use crate::outbox::GiveUp;
use crate::store::changes::Changes;
use crate::store::records::{Conversation, Endpoint, Line, StoredInbound};
use crate::store::{Known, Step, StoreError};

/// Longest user text kept in the recent history.
const RECENT_CHARS: usize = 1000;
/// Longest bot text kept in the recent history (FAQ answers are long and the operator knows them).
const RECENT_BOT_CHARS: usize = 120;

/// The context of one step.
pub(crate) struct Turn<'a> {
    pub sh: &'a Shared,
    pub faq: Faq,
    pub changes: Changes,
    pub msg: &'a Inbound,
    /// The text without leading `@mentions`.
    pub text: String,
    /// `platform:user`.
    pub account: String,
    /// The FAQ decision computed before the step lock was taken, with the language it was asked in (used when
    /// that language still fits).
    pub early: Option<(Lang, Decision)>,
    /// The sender was over their message rate when the message arrived.
    pub throttled: bool,
}

/// What is worked out for a message before the step lock is taken, so that it runs in parallel across workers:
/// the FAQ decision (matching is the CPU-heavy part) and the conversation record it was made for.
#[derive(Default)]
pub(crate) struct Early {
    /// The decision, in the language the conversation had then ([`Turn`] checks it again and decides anew in
    /// the rare case it changed meanwhile).
    /// The language is the one asked for: the decision's own may differ (an entry without an answer in it).
    pub decision: Option<(Lang, Decision)>,
    /// The conversation record as read then, with the stamp of its stored form ([`Changes::conversation_known`]).
    pub conversation: Option<Known<Conversation>>,
}

/// The early work for a message that will ask the FAQ (nothing for commands, unaddressed group messages and
/// oversized texts).
pub(crate) async fn early_decision(sh: &Shared, stored: &StoredInbound) -> Early {
    let msg = &stored.inbound;
    let text = command::strip_mentions(&msg.text);
    if stored.oversized.is_some()
        || text.is_empty()
        || text.starts_with('/')
        || (msg.group && !msg.mention)
    {
        return Early::default();
    }
    let conversation = sh
        .store
        .conversation(&msg.conversation_key())
        .await
        .ok()
        .flatten();
    let lang = match conversation.as_ref().map(|k| &k.value) {
        Some(c) if c.lang_fixed => i18n::from_code(&c.lang),
        Some(c) => language_of(text).unwrap_or_else(|| i18n::from_code(&c.lang)),
        None => first_lang(sh, msg, text),
    };
    Early {
        decision: Some((lang, sh.faq().decide_in(text, lang))),
        conversation,
    }
}

/// Handles one stored message in `step`; the returned changes are committed by the caller.
pub(crate) async fn handle(
    sh: &Shared,
    step: Box<dyn Step>,
    stored: &StoredInbound,
    early: Early,
) -> Result<Changes, StoreError> {
    let msg = &stored.inbound;
    let now = clock::now_for(msg.ts, sh.config.hours.timezone.0);
    let ch = Changes::new(
        step,
        now,
        format!("{}:{}", msg.platform, msg.id),
        Some(stored.seq),
    );
    let mut turn = Turn {
        sh,
        faq: sh.faq(),
        changes: ch,
        msg,
        text: command::strip_mentions(&msg.text).to_string(),
        account: msg.account(),
        early: early.decision,
        throttled: stored.throttled,
    };
    turn.run(stored.oversized, early.conversation).await?;
    Ok(turn.changes)
}

/// Records a given-up delivery in its case and tells the operator holding it.
pub(crate) async fn delivery_failed(
    sh: &Shared,
    step: Box<dyn Step>,
    give_up: &GiveUp,
) -> Result<Changes, StoreError> {
    let now = clock::now_for(None, sh.config.hours.timezone.0);
    let mut ch = Changes::new(step, now, format!("giveup:{}", give_up.envelope.id), None);
    let Delivery::Message(out) = &give_up.envelope.delivery else {
        return Ok(ch);
    };
    let Some(number) = out.case.as_deref().and_then(command::case_number) else {
        return Ok(ch);
    };
    let Some(mut case) = cases::load(&ch, number).await? else {
        return Ok(ch);
    };
    let target = format!("{}:{}", out.platform, out.chat);
    let text = format!("{target}: {}", give_up.reason);
    cases::event(
        &mut ch,
        &mut case,
        CaseEventKind::DeliveryFailed,
        "bot",
        "",
        &text,
        &[],
    );
    if let Some(chat) = case.assignee_chat.clone() {
        let not_to_operator = !(chat.platform == out.platform && chat.chat == out.chat);
        if not_to_operator && !give_up.envelope.id.starts_with("giveup:") {
            let note =
                i18n::operator::delivery_failed(sh.op_lang, &case.id(), &target, &give_up.reason);
            cases::send_to(&mut ch, &chat, note, vec![], Some(case.id()), true);
        }
    }
    cases::save(&mut ch, &case);
    Ok(ch)
}

impl Turn<'_> {
    /// `known`: the conversation record as the early work read it ([`Early::conversation`]).
    async fn run(
        &mut self,
        oversized: Option<usize>,
        known: Option<Known<Conversation>>,
    ) -> Result<(), StoreError> {
        let msg = self.msg;
        if msg.group && !msg.mention {
            return Ok(());
        }
        if let Some(chars) = oversized {
            let lang = self.conversation_lang().await?;
            let text = i18n::too_long(lang, super::MAX_TEXT_CHARS, chars);
            self.reply_here(text, vec![], None);
            return Ok(());
        }
        let cmd = command::parse(&self.text);
        let in_operator_room =
            msg.operator_room || self.sh.config.is_operator_room(&msg.platform, &msg.chat);
        // Operator commands work in operator rooms and private chats only: elsewhere their answers (a
        // transcript, relayed messages) would reach everyone in the chat.
        let is_operator = self.sh.is_operator(&self.account) && (!msg.group || in_operator_room);
        if let Some(c) = &cmd {
            if c.is_operator() {
                if is_operator {
                    return operator::run(self, c.clone()).await;
                }
                let lang = self.conversation_lang().await?;
                self.reply_here(i18n::operators_only(lang), vec![], None);
                return Ok(());
            }
        }
        if is_operator && cmd.is_none() && operator::implicit_reply(self).await? {
            return Ok(());
        }
        if in_operator_room {
            return Ok(());
        }
        let key = msg.conversation_key();
        let mut conv = match self.changes.conversation_known(&key, known).await? {
            Some(c) => c,
            None => self.new_conversation(key, &msg.chat, msg.group),
        };
        if !msg.name.is_empty() {
            conv.name = msg.name.clone();
        }
        conv.updated_at = self.changes.now;
        if !conv.lang_fixed && cmd.is_none() {
            if let Some(lang) = language_of(&self.text) {
                conv.lang = lang.code().to_string();
            }
        }
        let line = Line {
            at: self.changes.now,
            role: "user".into(),
            text: truncate(&self.text, RECENT_CHARS),
            attachments: msg.attachments.clone(),
            seq: None,
        };
        recent::push(&mut self.changes, &mut conv, line);
        let result = if self.throttled {
            user_cmd::throttled(self, &mut conv).await
        } else {
            conv.slowed = false;
            self.user(&mut conv, cmd).await
        };
        self.changes.save_conversation(conv);
        result
    }

    async fn user(
        &mut self,
        conv: &mut Conversation,
        cmd: Option<command::Command>,
    ) -> Result<(), StoreError> {
        use command::Command;
        let lang = i18n::from_code(&conv.lang);
        match cmd {
            Some(Command::Start) => {
                conv.mode = Default::default();
                let text = i18n::welcome(lang, &self.sh.config.bot.name);
                self.reply(conv, text, vec![]);
                return Ok(());
            }
            Some(Command::Help) | Some(Command::Unknown(_)) => {
                self.reply(conv, i18n::help(lang), vec![]);
                return Ok(());
            }
            Some(Command::Lang(arg)) => {
                match Lang::parse(&arg) {
                    Some(new) => {
                        conv.lang = new.code().to_string();
                        conv.lang_fixed = true;
                        self.reply(conv, i18n::lang_set(new), vec![]);
                    }
                    None => self.reply(conv, i18n::lang_usage(lang), vec![]),
                }
                return Ok(());
            }
            Some(Command::Status) => return user_cmd::status(self, conv).await,
            Some(Command::Cancel) => return user_cmd::cancel(self, conv).await,
            Some(Command::Human) => return intake::request_human(self, conv).await,
            Some(_) => return Ok(()),
            None => {}
        }
        if conv.case.is_some() && user_cmd::in_case(self, conv).await? {
            return Ok(());
        }
        if bot::continue_mode(self, conv).await? {
            return Ok(());
        }
        if let Some(number) = command::quoted_case(&self.text) {
            return link::quote(self, conv, number).await;
        }
        if self.text.is_empty() {
            if !self.msg.attachments.is_empty() {
                self.reply(conv, i18n::help(lang), vec![]);
            }
            return Ok(());
        }
        if self.faq.is_human_request(&self.text) {
            return intake::request_human(self, conv).await;
        }
        bot::ask(self, conv).await
    }

    /// A new conversation record for this message's user in `chat`.
    pub fn new_conversation(&self, key: String, chat: &str, group: bool) -> Conversation {
        let msg = self.msg;
        Conversation {
            key,
            platform: msg.platform.clone(),
            chat: chat.to_string(),
            user: msg.user.clone(),
            name: msg.name.clone(),
            group,
            lang: first_lang(self.sh, msg, &self.text).code().to_string(),
            lang_fixed: false,
            mode: Default::default(),
            misses: 0,
            last_category: None,
            last_faq: None,
            case: None,
            unverified: false,
            verify_code: None,
            verify_misses: 0,
            slowed: false,
            previous_case: None,
            acked: false,
            asked: 0,
            outcome: Default::default(),
            recent: Vec::new(),
            recent_seq: 0,
            updated_at: self.changes.now,
        }
    }

    /// The user's private conversation with the bot (for handoffs and account questions raised in a group).
    pub async fn private_conversation(
        &mut self,
        from: &Conversation,
    ) -> Result<Conversation, StoreError> {
        let key = format!("{}:{}", self.msg.platform, self.msg.user);
        let mut conv = match self.changes.conversation(&key).await? {
            Some(c) => c,
            None => self.new_conversation(key, &self.msg.user, false),
        };
        if !conv.lang_fixed {
            conv.lang = from.lang.clone();
            conv.lang_fixed = from.lang_fixed;
        }
        conv.last_category = from.last_category.clone().or(conv.last_category);
        for line in recent::lines(&self.changes, from).await? {
            recent::push(&mut self.changes, &mut conv, line);
        }
        conv.updated_at = self.changes.now;
        Ok(conv)
    }

    /// The language of this message's conversation (for answers outside a conversation flow).
    async fn conversation_lang(&self) -> Result<Lang, StoreError> {
        Ok(
            match self
                .changes
                .conversation(&self.msg.conversation_key())
                .await?
            {
                Some(c) => i18n::from_code(&c.lang),
                None => first_lang(self.sh, self.msg, &self.text),
            },
        )
    }

    /// Sends to a conversation (a reply when it is this message's chat) and records it in its recent history.
    pub fn reply(&mut self, conv: &mut Conversation, text: String, buttons: Vec<String>) {
        let here = conv.platform == self.msg.platform && conv.chat == self.msg.chat;
        let line = Line {
            at: self.changes.now,
            role: "bot".into(),
            text: truncate(&text, RECENT_BOT_CHARS),
            attachments: vec![],
            seq: None,
        };
        recent::push(&mut self.changes, conv, line);
        let out = Outbound {
            platform: conv.platform.clone(),
            chat: conv.chat.clone(),
            text,
            buttons,
            reply_to: here.then(|| self.msg.id.clone()),
            // A chat waiting for its code is not told which case it may belong to.
            case: conv.case.clone().filter(|_| !conv.unverified),
        };
        self.changes.send(out, false);
    }

    /// Answers in this message's chat (operator answers, refusals).
    pub fn reply_here(
        &mut self,
        text: impl Into<OperatorText>,
        buttons: Vec<String>,
        case: Option<String>,
    ) -> String {
        let out = Outbound {
            platform: self.msg.platform.clone(),
            chat: self.msg.chat.clone(),
            text: text.into().for_platform(&self.msg.platform),
            buttons,
            reply_to: Some(self.msg.id.clone()),
            case: case.clone(),
        };
        self.changes.send(out, case.is_some())
    }

    /// This message's chat as an endpoint.
    pub fn here(&self) -> Endpoint {
        Endpoint {
            platform: self.msg.platform.clone(),
            chat: self.msg.chat.clone(),
            conversation: self.msg.conversation_key(),
        }
    }
}

/// The language of a user's first message: its words, else the platform's locale hint, else `[bot] lang` (a
/// command such as `/human` has no words to go by).
fn first_lang(sh: &Shared, msg: &Inbound, text: &str) -> Lang {
    let words = if text.starts_with('/') {
        None
    } else {
        language_of(text)
    };
    words
        .or_else(|| msg.locale.as_deref().and_then(i18n::from_locale))
        .unwrap_or_else(|| i18n::from_code(&sh.config.bot.lang))
}

/// The language a message is clearly written in: Japanese when it has kana, Chinese when it has Chinese
/// characters, English when it has an ordinary lower-case word; `None` for numbers, error codes and the like
/// (the conversation keeps its language).
pub(crate) fn language_of(text: &str) -> Option<Lang> {
    let detected = Lang::detect(text);
    if detected != Lang::En {
        return Some(detected);
    }
    let worded = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .any(|w| w.len() >= 2 && w.chars().any(|c| c.is_ascii_lowercase()));
    worded.then_some(Lang::En)
}

/// The first `max` characters.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}
