//! Texts for operators: case cards, command answers and relayed user messages. Each is an [`OperatorText`]:
//! the chat wording (with its command hints, `/reply C-1001 …`) and, where the inbox page needs other words, the
//! page wording (`operator_page`); the destination picks one by the operator account's platform.

use supportbot_chat::Attachment;

use super::operator_page as page;
use crate::faq::Lang;
use crate::tr;

/// The platform whose operator accounts read the inbox page (`web:<name>`).
const PAGE_PLATFORM: &str = "web";

/// One text for an operator, as a chat operator and as the web inbox page read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorText {
    chat: String,
    /// `None`: the page shows the chat wording.
    page: Option<String>,
}

impl OperatorText {
    /// A text both destinations show alike (it has no command hint).
    pub fn same(text: String) -> Self {
        OperatorText {
            chat: text,
            page: None,
        }
    }

    /// A text with its own wording for the inbox page.
    pub fn new(chat: String, page: String) -> Self {
        OperatorText {
            chat,
            page: Some(page),
        }
    }

    /// The wording for a chat operator (Telegram, Discord, QQ, ...).
    pub fn chat(&self) -> &str {
        &self.chat
    }

    /// The wording for the web inbox page.
    pub fn page(&self) -> &str {
        self.page.as_deref().unwrap_or(&self.chat)
    }

    /// The wording for an operator on `platform`: the page's for `web` accounts, the chat's elsewhere.
    pub fn for_platform(self, platform: &str) -> String {
        match self.page {
            Some(page) if platform == PAGE_PLATFORM => page,
            _ => self.chat,
        }
    }

    /// This text followed by `next` on a new line, in both wordings.
    pub fn then(self, next: OperatorText) -> OperatorText {
        let page = match (&self.page, &next.page) {
            (None, None) => None,
            _ => Some(format!("{}\n{}", self.page(), next.page())),
        };
        OperatorText {
            chat: format!("{}\n{}", self.chat, next.chat),
            page,
        }
    }
}

impl From<String> for OperatorText {
    fn from(text: String) -> Self {
        OperatorText::same(text)
    }
}

/// The facts a case card shows.
pub struct Card<'a> {
    /// Case id.
    pub id: &'a str,
    /// Team.
    pub team: &'a str,
    /// 0 enterprise, 1 normal.
    pub priority: u8,
    /// User's platform.
    pub channel: &'a str,
    /// User's display name.
    pub user: &'a str,
    /// `zh` / `en`.
    pub lang: &'a str,
    /// First line of the problem.
    pub subject: &'a str,
    /// Error codes found.
    pub codes: &'a [String],
    /// FAQ entries suggested.
    pub suggestions: &'a [String],
    /// Number of files attached.
    pub attachments: usize,
    /// The user's previous case.
    pub previous: Option<&'a str>,
}

/// A case card posted in the team's rooms.
pub fn card(lang: Lang, c: &Card<'_>) -> OperatorText {
    OperatorText::new(card_chat(lang, c), page::card(lang, c))
}

fn card_chat(lang: Lang, c: &Card<'_>) -> String {
    let Card {
        id,
        team,
        channel,
        user,
        subject,
        lang: ulang,
        attachments,
        ..
    } = c;
    let prio = if c.priority == 0 {
        "P0 enterprise"
    } else {
        "P1"
    };
    let codes = if c.codes.is_empty() {
        "-".to_string()
    } else {
        c.codes.join(", ")
    };
    let sugg = if c.suggestions.is_empty() {
        "-".to_string()
    } else {
        c.suggestions.join(", ")
    };
    let prev = c
        .previous
        .map(|p| format!("\nprevious: {p}"))
        .unwrap_or_default();
    tr!(
        lang,
        "新工单 {id} · {team} 组 · {prio} · {channel} · {user} ({ulang})\n问题:{subject}\n错误码:{codes}\n建议 FAQ:{sugg}\n附件:{attachments}{prev}\n认领:/take {id}",
        "New case {id} · team {team} · {prio} · {channel} · {user} ({ulang})\nProblem: {subject}\nError codes: {codes}\nSuggested FAQ: {sugg}\nFiles: {attachments}{prev}\nTake it: /take {id}",
        "新しい案件 {id} · {team} チーム · {prio} · {channel} · {user} ({ulang})\n内容:{subject}\nエラーコード:{codes}\n候補のFAQ:{sugg}\n添付:{attachments}{prev}\n担当する:/take {id}"
    )
}

/// A user's message relayed to the operator holding the case.
pub fn relay(
    lang: Lang,
    id: &str,
    name: &str,
    channel: &str,
    text: &str,
    files: &[Attachment],
    linked: bool,
) -> OperatorText {
    OperatorText::new(
        relay_chat(lang, id, name, channel, text, files, linked),
        page::relay(lang, id, name, channel, text, files, linked),
    )
}

fn relay_chat(
    lang: Lang,
    id: &str,
    name: &str,
    channel: &str,
    text: &str,
    files: &[Attachment],
    linked: bool,
) -> String {
    let mut out = if linked {
        tr!(
            lang,
            "[{id}] {name}({channel},未验证的关联会话):{text}",
            "[{id}] {name} ({channel}, unverified linked chat): {text}",
            "[{id}] {name}({channel}、未確認の関連会話):{text}"
        )
    } else {
        format!("[{id}] {name} ({channel}): {text}")
    };
    for f in files {
        out.push_str(&format!("\n📎 {} {}", f.name, f.url));
    }
    out
}

/// `/take` done.
pub fn taken(lang: Lang, id: &str, user: &str, channel: &str, recent: &str) -> OperatorText {
    OperatorText::new(tr!(
        lang,
        "你已认领 {id}({user},{channel})。回复:/reply {id} 内容,或直接回复本条消息。\n{recent}",
        "You took {id} ({user}, {channel}). Answer with /reply {id} text, or reply to this message.\n{recent}",
        "{id} を担当しました({user}、{channel})。/reply {id} 本文 で返信するか、このメッセージに返信してください。\n{recent}"
    ),
    page::taken(lang, id, user, channel))
}

/// A case another operator holds.
pub fn held_by(lang: Lang, id: &str, by: &str) -> OperatorText {
    OperatorText::same(tr!(
        lang,
        "{id} 已由 {by} 处理中。",
        "{id} is already being handled by {by}.",
        "{id} はすでに {by} が対応中です。"
    ))
}

/// A case kept for its account manager.
pub fn reserved(lang: Lang, id: &str, manager: &str) -> OperatorText {
    OperatorText::same(tr!(
        lang,
        "{id} 是 {manager} 的客户的工单,暂时留给其客户经理处理。",
        "{id} belongs to a customer of {manager}'s and is kept for their account manager for now.",
        "{id} は {manager} の担当顧客の案件のため、当面は担当マネージャーのために確保されています。"
    ))
}

/// To an account manager: their customer opened a case.
pub fn manager_case(lang: Lang, id: &str, user: &str, grace_min: u64) -> OperatorText {
    OperatorText::same(tr!(
        lang,
        "你的客户 {user} 刚创建了工单 {id}。{grace_min} 分钟内只有你能接单,之后会进入团队队列。",
        "Your customer {user} just opened case {id}. For {grace_min} minutes only you can take it; then it goes to the team's queue.",
        "担当顧客 {user} が案件 {id} を作成しました。{grace_min} 分間はあなただけが担当でき、その後はチームの順番待ちに入ります。"
    ))
}

/// The operator already holds it.
pub fn already_yours(lang: Lang, id: &str) -> OperatorText {
    OperatorText::same(tr!(
        lang,
        "{id} 已经在你名下。",
        "{id} is already yours.",
        "{id} はすでにあなたの担当です。"
    ))
}

/// A closed case.
pub fn is_closed(lang: Lang, id: &str) -> OperatorText {
    OperatorText::same(tr!(
        lang,
        "{id} 已关闭。",
        "{id} is closed.",
        "{id} は終了しています。"
    ))
}

/// An unknown case number.
pub fn no_such_case(lang: Lang, id: &str) -> OperatorText {
    OperatorText::same(tr!(
        lang,
        "没有工单 {id}。",
        "There is no case {id}.",
        "案件 {id} はありません。"
    ))
}

/// Wrong command syntax.
pub fn usage(lang: Lang, syntax: &str) -> OperatorText {
    OperatorText::new(
        tr!(lang, "用法:{syntax}", "Usage: {syntax}", "使い方:{syntax}"),
        page::usage(lang, syntax),
    )
}

/// An empty queue.
pub fn queue_empty(lang: Lang) -> OperatorText {
    OperatorText::same(tr!(
        lang,
        "队列为空。",
        "The queue is empty.",
        "順番待ちの案件はありません。"
    ))
}

/// Header of `/queue`.
pub fn queue_header(lang: Lang, n: usize) -> String {
    tr!(
        lang,
        "排队中的工单({n}):",
        "Waiting cases ({n}):",
        "順番待ちの案件({n}):"
    )
}

/// A note was added.
pub fn noted(lang: Lang, id: &str) -> OperatorText {
    OperatorText::new(
        tr!(
            lang,
            "已为 {id} 添加内部备注。",
            "Internal note added to {id}.",
            "{id} に内部メモを追加しました。"
        ),
        page::noted(lang, id),
    )
}

/// Released.
pub fn released(lang: Lang, id: &str) -> OperatorText {
    OperatorText::same(tr!(
        lang,
        "{id} 已放回队列。",
        "{id} is back in the queue.",
        "{id} を順番待ちに戻しました。"
    ))
}

/// Transferred.
pub fn transferred(lang: Lang, id: &str, team: &str) -> OperatorText {
    OperatorText::same(tr!(
        lang,
        "{id} 已转给 {team} 组。",
        "{id} moved to team {team}.",
        "{id} を {team} チームに移しました。"
    ))
}

/// Unknown team.
pub fn unknown_team(lang: Lang, team: &str, teams: &str) -> OperatorText {
    OperatorText::same(tr!(
        lang,
        "没有 {team} 组。可选:{teams}",
        "There is no team {team}. Teams: {teams}",
        "{team} チームはありません。チーム一覧:{teams}"
    ))
}

/// Closed.
pub fn closed(lang: Lang, id: &str) -> OperatorText {
    OperatorText::same(tr!(
        lang,
        "{id} 已关闭,已请用户评分。",
        "{id} is closed; the user was asked for a rating.",
        "{id} を終了し、ユーザーに評価を依頼しました。"
    ))
}

/// Only the holder may act.
pub fn not_yours(lang: Lang, id: &str, by: &str) -> OperatorText {
    OperatorText::new(
        tr!(
            lang,
            "{id} 由 {by} 处理中,请先 /take 或联系对方。",
            "{id} is held by {by}; /take it first or ask them.",
            "{id} は {by} が対応中です。先に /take するか、担当者に相談してください。"
        ),
        page::not_yours(lang, id, by),
    )
}

/// Plain text from an operator holding several cases.
pub fn which_case(lang: Lang, ids: &str) -> OperatorText {
    OperatorText::new(
        tr!(
            lang,
            "你同时在处理 {ids},请用 /reply 工单号 内容。",
            "You hold {ids}; use /reply <case> <text>.",
            "{ids} を同時に担当しています。/reply <案件番号> <本文> を使ってください。"
        ),
        page::which_case(lang, ids),
    )
}

/// A chat that quoted the case sent too many wrong codes.
pub fn link_dropped(lang: Lang, id: &str, endpoint: &str, wrong: u8) -> OperatorText {
    let chat = match lang {
        Lang::Zh => format!("[{id}] 会话 {endpoint} 连续输错 {wrong} 次验证码,关联已取消。"),
        Lang::En => {
            format!("[{id}] chat {endpoint} sent {wrong} wrong codes; its link is dropped.")
        }
        Lang::Ja => format!("[{id}] 会話 {endpoint} が確認コードを {wrong} 回続けて誤ったため、関連付けを取り消しました。"),
    };
    OperatorText::new(chat, page::link_dropped(lang, id, endpoint, wrong))
}

/// A conversation was linked to the case.
pub fn linked(lang: Lang, id: &str, endpoint: &str, verified: bool) -> OperatorText {
    let chat = match (lang, verified) {
        (Lang::Zh, true) => format!("[{id}] 已关联会话 {endpoint}(已验证,回复会同时发到那里)。"),
        (Lang::Zh, false) => {
            format!("[{id}] 会话 {endpoint} 引用了此工单(未验证,回复不会发到那里)。")
        }
        (Lang::En, true) => {
            format!("[{id}] linked chat {endpoint} (verified; replies go there too).")
        }
        (Lang::En, false) => format!(
            "[{id}] chat {endpoint} quoted this case (unverified; replies do not go there)."
        ),
        (Lang::Ja, true) => {
            format!("[{id}] 会話 {endpoint} を関連付けました(確認済み。返信はそちらにも届きます)。")
        }
        (Lang::Ja, false) => {
            format!("[{id}] 会話 {endpoint} がこの案件を引用しました(未確認。返信はそちらには届きません)。")
        }
    };
    OperatorText::new(chat, page::linked(lang, id, endpoint, verified))
}

/// A message could not be delivered.
pub fn delivery_failed(lang: Lang, id: &str, target: &str, reason: &str) -> OperatorText {
    OperatorText::new(tr!(
        lang,
        "[{id}] 无法把消息送达 {target}:{reason}。请换个方式联系用户。",
        "[{id}] a message to {target} could not be delivered: {reason}. Please reach the user another way.",
        "[{id}] {target} へのメッセージを届けられませんでした:{reason}。別の方法でユーザーに連絡してください。"
    ),
    page::delivery_failed(lang, id, target, reason))
}

/// The user withdrew the case.
pub fn withdrawn(lang: Lang, id: &str) -> OperatorText {
    OperatorText::new(
        tr!(
            lang,
            "[{id}] 用户已撤销工单。",
            "[{id}] the user withdrew the case.",
            "[{id}] ユーザーが案件を取り下げました。"
        ),
        page::withdrawn(lang, id),
    )
}

/// The user rated the case.
pub fn rated(lang: Lang, id: &str, rating: u8) -> OperatorText {
    OperatorText::new(
        tr!(
            lang,
            "[{id}] 用户评分:{rating}/5。",
            "[{id}] rated {rating}/5 by the user.",
            "[{id}] ユーザーの評価:{rating}/5。"
        ),
        page::rated(lang, id, rating),
    )
}
