//! Texts for operators: case cards, command answers and relayed user messages.

use supportbot_chat::Attachment;

use crate::faq::Lang;
use crate::tr;

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
pub fn card(lang: Lang, c: &Card<'_>) -> String {
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
        "New case {id} · team {team} · {prio} · {channel} · {user} ({ulang})\nProblem: {subject}\nError codes: {codes}\nSuggested FAQ: {sugg}\nFiles: {attachments}{prev}\nTake it: /take {id}"
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
) -> String {
    let mut out = if linked {
        tr!(
            lang,
            "[{id}] {name}({channel},未验证的关联会话):{text}",
            "[{id}] {name} ({channel}, unverified linked chat): {text}"
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
pub fn taken(lang: Lang, id: &str, user: &str, channel: &str, recent: &str) -> String {
    tr!(
        lang,
        "你已认领 {id}({user},{channel})。回复:/reply {id} 内容,或直接回复本条消息。\n{recent}",
        "You took {id} ({user}, {channel}). Answer with /reply {id} text, or reply to this message.\n{recent}"
    )
}

/// A case another operator holds.
pub fn held_by(lang: Lang, id: &str, by: &str) -> String {
    tr!(
        lang,
        "{id} 已由 {by} 处理中。",
        "{id} is already being handled by {by}."
    )
}

/// A case kept for its account manager.
pub fn reserved(lang: Lang, id: &str, manager: &str) -> String {
    tr!(
        lang,
        "{id} 是 {manager} 的客户的工单,暂时留给其客户经理处理。",
        "{id} belongs to a customer of {manager}'s and is kept for their account manager for now."
    )
}

/// To an account manager: their customer opened a case.
pub fn manager_case(lang: Lang, id: &str, user: &str, grace_min: u64) -> String {
    tr!(
        lang,
        "你的客户 {user} 刚创建了工单 {id}。{grace_min} 分钟内只有你能接单,之后会进入团队队列。",
        "Your customer {user} just opened case {id}. For {grace_min} minutes only you can take it; then it goes to the team's queue."
    )
}

/// The operator already holds it.
pub fn already_yours(lang: Lang, id: &str) -> String {
    tr!(lang, "{id} 已经在你名下。", "{id} is already yours.")
}

/// A closed case.
pub fn is_closed(lang: Lang, id: &str) -> String {
    tr!(lang, "{id} 已关闭。", "{id} is closed.")
}

/// An unknown case number.
pub fn no_such_case(lang: Lang, id: &str) -> String {
    tr!(lang, "没有工单 {id}。", "There is no case {id}.")
}

/// Wrong command syntax.
pub fn usage(lang: Lang, syntax: &str) -> String {
    tr!(lang, "用法:{syntax}", "Usage: {syntax}")
}

/// An empty queue.
pub fn queue_empty(lang: Lang) -> String {
    tr!(lang, "队列为空。", "The queue is empty.")
}

/// Header of `/queue`.
pub fn queue_header(lang: Lang, n: usize) -> String {
    tr!(lang, "排队中的工单({n}):", "Waiting cases ({n}):")
}

/// A note was added.
pub fn noted(lang: Lang, id: &str) -> String {
    tr!(
        lang,
        "已为 {id} 添加内部备注。",
        "Internal note added to {id}."
    )
}

/// Released.
pub fn released(lang: Lang, id: &str) -> String {
    tr!(lang, "{id} 已放回队列。", "{id} is back in the queue.")
}

/// Transferred.
pub fn transferred(lang: Lang, id: &str, team: &str) -> String {
    tr!(
        lang,
        "{id} 已转给 {team} 组。",
        "{id} moved to team {team}."
    )
}

/// Unknown team.
pub fn unknown_team(lang: Lang, team: &str, teams: &str) -> String {
    tr!(
        lang,
        "没有 {team} 组。可选:{teams}",
        "There is no team {team}. Teams: {teams}"
    )
}

/// Closed.
pub fn closed(lang: Lang, id: &str) -> String {
    tr!(
        lang,
        "{id} 已关闭,已请用户评分。",
        "{id} is closed; the user was asked for a rating."
    )
}

/// Only the holder may act.
pub fn not_yours(lang: Lang, id: &str, by: &str) -> String {
    tr!(
        lang,
        "{id} 由 {by} 处理中,请先 /take 或联系对方。",
        "{id} is held by {by}; /take it first or ask them."
    )
}

/// Plain text from an operator holding several cases.
pub fn which_case(lang: Lang, ids: &str) -> String {
    tr!(
        lang,
        "你同时在处理 {ids},请用 /reply 工单号 内容。",
        "You hold {ids}; use /reply <case> <text>."
    )
}

/// A chat that quoted the case sent too many wrong codes.
pub fn link_dropped(lang: Lang, id: &str, endpoint: &str, wrong: u8) -> String {
    match lang {
        Lang::Zh => format!("[{id}] 会话 {endpoint} 连续输错 {wrong} 次验证码,关联已取消。"),
        Lang::En => {
            format!("[{id}] chat {endpoint} sent {wrong} wrong codes; its link is dropped.")
        }
    }
}

/// A conversation was linked to the case.
pub fn linked(lang: Lang, id: &str, endpoint: &str, verified: bool) -> String {
    match (lang, verified) {
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
    }
}

/// A message could not be delivered.
pub fn delivery_failed(lang: Lang, id: &str, target: &str, reason: &str) -> String {
    tr!(
        lang,
        "[{id}] 无法把消息送达 {target}:{reason}。请换个方式联系用户。",
        "[{id}] a message to {target} could not be delivered: {reason}. Please reach the user another way."
    )
}

/// The user withdrew the case.
pub fn withdrawn(lang: Lang, id: &str) -> String {
    tr!(
        lang,
        "[{id}] 用户已撤销工单。",
        "[{id}] the user withdrew the case."
    )
}

/// The user rated the case.
pub fn rated(lang: Lang, id: &str, rating: u8) -> String {
    tr!(
        lang,
        "[{id}] 用户评分:{rating}/5。",
        "[{id}] rated {rating}/5 by the user."
    )
}
