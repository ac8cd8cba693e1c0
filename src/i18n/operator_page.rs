//! Operator texts as the web inbox page shows them: the same facts as the chat texts of `operator`, written for
//! a page with buttons and a reply box instead of command hints (`/reply C-1001 …`). Only the texts that differ
//! from the chat ones are here.

use supportbot_chat::Attachment;

use super::operator::Card;
use crate::faq::Lang;
use crate::tr;

/// A new case in the operator's team.
pub(super) fn card(lang: Lang, c: &Card<'_>) -> String {
    let Card {
        id,
        team,
        channel,
        user,
        subject,
        ..
    } = c;
    let vip = match (c.priority, lang) {
        (0, Lang::Zh) => "(企业客户)",
        (0, Lang::En) => " (enterprise customer)",
        (0, Lang::Ja) => "(法人のお客様)",
        _ => "",
    };
    let codes = c.codes.join(", ");
    let codes = match (codes.is_empty(), lang) {
        (true, _) => String::new(),
        (false, Lang::Zh) => format!("(错误码:{codes})"),
        (false, Lang::En) => format!(" (error codes: {codes})"),
        (false, Lang::Ja) => format!("(エラーコード:{codes})"),
    };
    tr!(
        lang,
        "{team} 组有新工单 {id}{vip}:{user}({channel})的问题是“{subject}”{codes}。工单在队列中等待接手。",
        "New case {id} for team {team}{vip}: {user} ({channel}) asks \"{subject}\"{codes}. It is waiting in the queue.",
        "{team} チームに新しい案件 {id}{vip}:{user}({channel})の内容は「{subject}」{codes}。順番待ちに入っています。"
    )
}

/// A user's message in a case the operator holds.
pub(super) fn relay(
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
            "{name}({channel},未验证的关联会话)在 {id} 中说:{text}",
            "{name} ({channel}, an unverified linked chat) wrote in {id}: {text}",
            "{name}({channel}、未確認の関連会話)が {id} に書きました:{text}"
        )
    } else {
        tr!(
            lang,
            "{name}({channel})在 {id} 中说:{text}",
            "{name} ({channel}) wrote in {id}: {text}",
            "{name}({channel})が {id} に書きました:{text}"
        )
    };
    for f in files {
        out.push_str(&format!("\n📎 {}", f.name));
    }
    out
}

/// The operator took a case.
pub(super) fn taken(lang: Lang, id: &str, user: &str, channel: &str) -> String {
    tr!(
        lang,
        "你已接手 {id}({user},{channel})。请在下方输入回复。",
        "You took {id} ({user}, {channel}). Type your reply below.",
        "{id} を担当しました({user}、{channel})。下の欄に返信を入力してください。"
    )
}

/// Something was missing from an action (`syntax` is the chat command it stands for).
pub(super) fn usage(lang: Lang, syntax: &str) -> String {
    let command = syntax.split_whitespace().next().unwrap_or_default();
    match command {
        "/reply" => tr!(
            lang,
            "请先在输入框中写好回复。",
            "Write the reply in the box first.",
            "先に入力欄に返信を書いてください。"
        ),
        "/note" => tr!(
            lang,
            "请先在输入框中写好备注。",
            "Write the note in the box first.",
            "先に入力欄にメモを書いてください。"
        ),
        "/transfer" => tr!(
            lang,
            "请在“转组”旁输入组名。",
            "Type the team's name next to Transfer.",
            "チーム変更の欄にチーム名を入力してください。"
        ),
        _ => tr!(
            lang,
            "请先选择一个工单。",
            "Pick a case first.",
            "先に案件を選んでください。"
        ),
    }
}

/// A note was added.
pub(super) fn noted(lang: Lang, id: &str) -> String {
    tr!(
        lang,
        "已为 {id} 添加内部备注,用户看不到。",
        "Internal note added to {id}; the user does not see it.",
        "{id} に内部メモを追加しました(ユーザーには表示されません)。"
    )
}

/// Only the holder may act.
pub(super) fn not_yours(lang: Lang, id: &str, by: &str) -> String {
    tr!(
        lang,
        "{id} 由 {by} 处理中,请先点“接手”或联系对方。",
        "{id} is held by {by}; press Take first or ask them.",
        "{id} は {by} が対応中です。先に「担当する」を押すか、担当者に相談してください。"
    )
}

/// Plain text from an operator holding several cases.
pub(super) fn which_case(lang: Lang, ids: &str) -> String {
    tr!(
        lang,
        "你同时在处理 {ids},请打开要回复的工单后再回复。",
        "You hold {ids}; open the case you mean and reply there.",
        "{ids} を同時に担当しています。返信する案件を開いてから返信してください。"
    )
}

/// A chat that quoted the case sent too many wrong codes.
pub(super) fn link_dropped(lang: Lang, id: &str, endpoint: &str, wrong: u8) -> String {
    tr!(
        lang,
        "会话 {endpoint} 为 {id} 连续输错 {wrong} 次验证码,已取消关联。",
        "Chat {endpoint} sent {wrong} wrong codes for {id}; it is no longer linked.",
        "会話 {endpoint} が {id} の確認コードを {wrong} 回続けて誤ったため、関連付けを取り消しました。"
    )
}

/// A conversation was linked to the case.
pub(super) fn linked(lang: Lang, id: &str, endpoint: &str, verified: bool) -> String {
    if verified {
        tr!(
            lang,
            "会话 {endpoint} 已关联到 {id}(已验证),你的回复也会发到那里。",
            "Chat {endpoint} is now linked to {id} (verified): your replies go there too.",
            "会話 {endpoint} を {id} に関連付けました(確認済み)。返信はそちらにも届きます。"
        )
    } else {
        tr!(
            lang,
            "会话 {endpoint} 引用了 {id}(未验证),你的回复不会发到那里。",
            "Chat {endpoint} quoted {id} (not verified): your replies do not go there.",
            "会話 {endpoint} が {id} を引用しました(未確認)。返信はそちらには届きません。"
        )
    }
}

/// A message could not be delivered.
pub(super) fn delivery_failed(lang: Lang, id: &str, target: &str, reason: &str) -> String {
    tr!(
        lang,
        "{id} 中发给 {target} 的消息无法送达({reason})。请换个方式联系用户。",
        "A message in {id} to {target} could not be delivered ({reason}). Please reach the user another way.",
        "{id} で {target} へのメッセージを届けられませんでした({reason})。別の方法でユーザーに連絡してください。"
    )
}

/// The user withdrew the case.
pub(super) fn withdrawn(lang: Lang, id: &str) -> String {
    tr!(
        lang,
        "用户撤销了 {id},工单已关闭。",
        "The user withdrew {id}; the case is closed.",
        "ユーザーが {id} を取り下げたため、案件を終了しました。"
    )
}

/// The user rated the case.
pub(super) fn rated(lang: Lang, id: &str, rating: u8) -> String {
    tr!(
        lang,
        "用户为 {id} 评分:{rating}/5。",
        "The user rated {id} {rating}/5.",
        "ユーザーが {id} を {rating}/5 と評価しました。"
    )
}

/// The inbox taught the FAQ from a case being closed.
pub fn taught(lang: Lang, question: &str, case: &str, faq: &str, file: &str) -> String {
    tr!(
        lang,
        "{case} 中的“{question}”已成为 FAQ {faq} 的新问法({file}),下次 FAQ 重新加载后生效。",
        "\"{question}\" from {case} is now a question of {faq} ({file}); it applies at the next FAQ reload.",
        "{case} の「{question}」を FAQ {faq} の新しい質問にしました({file})。次の FAQ 再読み込みで反映されます。"
    )
}

/// Why closing a case taught the FAQ nothing.
pub enum NotTaught<'a> {
    /// No such case.
    NoCase,
    /// The operator does not hold the case.
    NotHolder,
    /// The case has no question line.
    NoQuestion,
    /// The bot runs on its built-in FAQ (no directory to write to).
    BuiltIn(&'a str),
    /// The FAQ refused the new question (`file:line: problem`).
    Refused(&'a str),
}

/// Closing a case taught the FAQ nothing, and why.
pub fn not_taught(lang: Lang, case: &str, why: NotTaught<'_>) -> String {
    match why {
        NotTaught::NoCase => tr!(
            lang,
            "没有工单 {case},未写入 FAQ。",
            "There is no case {case}; nothing was taught.",
            "案件 {case} はありません。FAQ には何も追加していません。"
        ),
        NotTaught::NotHolder => tr!(
            lang,
            "只有处理 {case} 的客服才能用它补充 FAQ。",
            "Only the operator holding {case} can teach the FAQ from it.",
            "{case} から FAQ に追加できるのは、その案件の担当者だけです。"
        ),
        NotTaught::NoQuestion => tr!(
            lang,
            "{case} 没有可写入 FAQ 的问题。",
            "{case} has no question to teach.",
            "{case} には FAQ に追加できる質問がありません。"
        ),
        NotTaught::BuiltIn(dir) => tr!(
            lang,
            "FAQ 目录 {dir} 不存在(正在使用内置 FAQ),无法写入。",
            "The FAQ directory {dir} does not exist (the built-in FAQ is in use), so nothing can be taught.",
            "FAQ ディレクトリ {dir} がありません(組み込みの FAQ を使用中)。追加できません。"
        ),
        NotTaught::Refused(problem) => tr!(
            lang,
            "FAQ 未接受这个问法,未写入:{problem}",
            "The FAQ did not take the question, so nothing was taught: {problem}",
            "FAQ がこの質問を受け付けなかったため、追加していません:{problem}"
        ),
    }
}
