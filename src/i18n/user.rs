//! Texts for users: answers' frames, buttons, intake questions, case notices, in Chinese, English and Japanese.

use crate::faq::Lang;
use crate::tr;

/// "Did this help?" yes button, in Chinese, English and Japanese (a press comes back as this text).
pub const YES: [&str; 3] = ["有帮助", "Yes, thanks", "役に立った"];
/// "Did this help?" no button.
pub const NO: [&str; 3] = ["没帮助", "No", "役に立たなかった"];
/// Skip an intake question.
pub const SKIP: [&str; 3] = ["跳过", "Skip", "スキップ"];
/// Ask for a human.
pub const HUMAN: [&str; 3] = ["转人工", "Talk to a human", "担当者と話す"];
/// Decline the handoff offer.
pub const NO_THANKS: [&str; 3] = ["不用了", "No, thanks", "結構です"];
/// None of the offered questions.
pub const NONE_OF_THESE: [&str; 3] = ["都不是", "None of these", "どれでもない"];

/// The label in one language.
pub fn label(labels: &[&str; 3], lang: Lang) -> String {
    match lang {
        Lang::Zh => labels[0].to_string(),
        Lang::En => labels[1].to_string(),
        Lang::Ja => labels[2].to_string(),
    }
}

/// `/start`.
pub fn welcome(lang: Lang, bot: &str) -> String {
    tr!(
        lang,
        "你好,我是{bot}。请直接描述你的问题,例如“发邮件被退回 554 DT:SPM”。需要人工客服请发送 /human 或“转人工”。发送 /help 查看全部命令。",
        "Hello, I am {bot}. Describe your problem, e.g. \"my mail bounced with 554 DT:SPM\". For a person, send /human. /help lists every command.",
        "こんにちは、{bot}です。お困りの内容をそのまま書いてください(例:「メールが554 DT:SPMで返送される」)。担当者との会話をご希望の場合は /human を送ってください。/help でコマンドの一覧を表示します。"
    )
}

/// `/help`.
pub fn help(lang: Lang) -> String {
    tr!(
        lang,
        "直接提问即可。命令:\n/human 转人工客服\n/status 查看工单进度\n/cancel 取消当前操作\n/lang zh|en|ja 切换语言\n在群里请 @我 提问。",
        "Just ask your question. Commands:\n/human talk to a person\n/status see your case\n/cancel stop what is going on\n/lang zh|en|ja switch language\nIn a group, mention me.",
        "ご質問をそのまま送ってください。コマンド:\n/human 担当者と話す\n/status お問い合わせ(案件)の状況を見る\n/cancel 進行中の操作をやめる\n/lang zh|en|ja 言語を切り替える\nグループでは私にメンションしてください。"
    )
}

/// A message over the length limit.
pub fn too_long(lang: Lang, max: usize, got: usize) -> String {
    tr!(
        lang,
        "消息太长了({got} 字),最多 {max} 字。请精简后重发;日志请作为文件发送。",
        "That message is too long ({got} characters; the limit is {max}). Please shorten it and send logs as a file.",
        "メッセージが長すぎます({got} 文字、上限は {max} 文字)。短くして送り直し、ログはファイルとして送ってください。"
    )
}

/// After an FAQ answer.
pub fn did_it_help(lang: Lang) -> String {
    tr!(
        lang,
        "这个回答有帮助吗?",
        "Did this help?",
        "この回答は役に立ちましたか?"
    )
}

/// Offering candidate questions.
pub fn choose(lang: Lang) -> String {
    tr!(
        lang,
        "你想问的是下面哪一个?",
        "Which of these is your question?",
        "お問い合わせの内容は次のどれですか?"
    )
}

/// The user said the answer helped.
pub fn glad(lang: Lang) -> String {
    tr!(
        lang,
        "很高兴帮到你!还有其他问题随时问我。",
        "Glad it helped! Ask me anything else any time.",
        "お役に立ててよかったです!ほかにもご質問があればいつでもどうぞ。"
    )
}

/// The first question the FAQ could not answer.
pub fn miss(lang: Lang) -> String {
    tr!(
        lang,
        "抱歉,我没有找到相关答案。可以换个说法,或附上错误提示(例如“554 DT:SPM”)再试一次;也可以直接转人工。",
        "Sorry, I found no answer to that. Try other words or include the error message (e.g. \"554 DT:SPM\"), or talk to a person.",
        "申し訳ありません、該当する回答が見つかりませんでした。言い方を変えるか、エラーメッセージ(例:「554 DT:SPM」)を添えてもう一度お試しください。担当者に切り替えることもできます。"
    )
}

/// The handoff offer.
pub fn offer(lang: Lang) -> String {
    tr!(
        lang,
        "要为你转接人工客服吗?",
        "Shall I pass you to a support person?",
        "サポート担当者におつなぎしましょうか?"
    )
}

/// The handoff offer declined.
pub fn offer_declined(lang: Lang) -> String {
    tr!(
        lang,
        "好的,有问题随时问我。",
        "All right, ask me any time.",
        "承知しました。いつでもご質問ください。"
    )
}

/// Intake question `step` (0 symptom, 1 steps, 2 error).
pub fn intake(lang: Lang, step: u8) -> String {
    match step {
        0 => tr!(
        lang,
        "好的,我来为你转人工。为了让客服更快处理,请先简单描述问题现象(例如“发送带附件的邮件时被退回”)。",
        "I'll pass you to a person. To speed things up, first describe what happens (e.g. \"mail with attachments bounces\").",
        "担当者におつなぎします。対応を早めるため、まず起きている現象を簡単に書いてください(例:「添付ファイル付きのメールが返送される」)。"
    ),
        1 => tr!(
        lang,
        "你做了哪些操作?已经尝试过什么?",
        "What did you do when it happened, and what have you tried?",
        "そのとき何を操作しましたか?すでに試したことはありますか?"
    ),
        _ => tr!(
        lang,
        "看到了什么错误提示?可以直接发送截图或日志文件。",
        "What error message did you see? You can send a screenshot or a log file.",
        "どのようなエラーメッセージが表示されましたか?スクリーンショットやログファイルをそのまま送っていただいてもかまいません。"
    ),
    }
}

/// Intake cancelled.
pub fn cancelled(lang: Lang) -> String {
    tr!(
        lang,
        "已取消。有问题随时问我。",
        "Cancelled. Ask me any time.",
        "キャンセルしました。いつでもご質問ください。"
    )
}

/// `/cancel` with nothing going on.
pub fn nothing_to_cancel(lang: Lang) -> String {
    tr!(
        lang,
        "当前没有需要取消的操作。",
        "There is nothing to cancel.",
        "キャンセルする操作はありません。"
    )
}

/// Said in a group when the conversation moves to a private chat.
pub fn moved_private(lang: Lang) -> String {
    tr!(
        lang,
        "我已私信你继续处理。请不要在群里发送账号、手机号等个人信息。",
        "I've sent you a private message to continue. Please don't post account details or other personal data in the group.",
        "続きは個別メッセージでご案内します。アカウント情報や電話番号などの個人情報はグループに書き込まないでください。"
    )
}

/// The case is open: number, place in the queue, expected wait.
pub fn case_opened(lang: Lang, id: &str, position: usize) -> String {
    tr!(
        lang,
        "已为你创建工单 {id},你目前排在第 {position} 位。在其他渠道咨询时请提供此工单号,避免重复处理。",
        "Your case number is {id}; you are number {position} in the queue. Quote this number on any other channel so the case is not handled twice.",
        "案件番号は {id} です。現在 {position} 番目にお待ちいただいています。ほかの窓口でお問い合わせになる際はこの案件番号をお伝えください(二重対応を防ぐため)。"
    )
}

/// A managed customer's case: their account manager was told.
pub fn manager_notified(lang: Lang, manager: &str) -> String {
    tr!(
        lang,
        "你的专属客户经理 {manager} 已收到通知。",
        "Your account manager, {manager}, has been notified.",
        "専任の担当マネージャー {manager} に通知しました。"
    )
}

/// The enterprise phone line, with the case number to quote.
pub fn enterprise_phone(lang: Lang, phone: &str, id: &str) -> String {
    tr!(
        lang,
        "企业客户 7×24 小时电话:{phone},来电时请报工单号 {id}。",
        "Enterprise line, 24/7: {phone}; quote case {id} when you call.",
        "法人のお客様専用ダイヤル(7×24時間):{phone}。お電話の際は案件番号 {id} をお伝えください。"
    )
}

/// The queue's estimate while operators are in.
pub fn expected_wait(lang: Lang, minutes: u32) -> String {
    tr!(
        lang,
        "预计等待约 {minutes} 分钟。",
        "Expected wait: about {minutes} minutes.",
        "待ち時間の目安は約 {minutes} 分です。"
    )
}

/// Peak-hour notice with the quieter times.
pub fn peak(lang: Lang, peaks: &str, off_peak: &str) -> String {
    tr!(
        lang,
        "现在是咨询高峰时段({peaks}),回复可能较慢;{off_peak} 等非高峰时段响应更快。",
        "This is a peak time ({peaks}), so replies may be slower; {off_peak} are quieter times.",
        "現在はお問い合わせが集中する時間帯({peaks})のため、返信が遅くなることがあります。{off_peak} などの時間帯は比較的すいています。"
    )
}

/// Outside working hours: when operators are back.
pub fn after_hours(lang: Lang, open: &str, back: &str, tomorrow: bool) -> String {
    match (lang, tomorrow) {
        (Lang::Zh, true) => format!("人工客服工作时间为 {open},现在不在工作时间。工单已记录,客服将于明天 {back} 上线后处理。"),
        (Lang::Zh, false) => format!("人工客服工作时间为 {open},现在不在工作时间。工单已记录,客服将于今天 {back} 上线后处理。"),
        (Lang::En, true) => format!("Operators work {open}; they are away now. Your case is recorded and will be picked up from {back} tomorrow."),
        (Lang::En, false) => format!("Operators work {open}; they are away now. Your case is recorded and will be picked up from {back} today."),
        (Lang::Ja, true) => format!("担当者の対応時間は {open} で、現在は時間外です。案件は記録済みで、明日 {back} 以降に担当者が対応します。"),
        (Lang::Ja, false) => format!("担当者の対応時間は {open} で、現在は時間外です。案件は記録済みで、本日 {back} 以降に担当者が対応します。"),
    }
}

/// A user with an open case asks for a human again.
pub fn already_open(lang: Lang, id: &str) -> String {
    tr!(
        lang,
        "你已有进行中的工单 {id},客服会在这里回复你。补充信息可以直接发送。",
        "You already have case {id} open; a person will answer here. Just send anything you want to add.",
        "対応中の案件 {id} がすでにあります。担当者がここで返信します。補足があればそのまま送ってください。"
    )
}

/// A message added to a waiting case.
pub fn added_to_case(lang: Lang, id: &str) -> String {
    tr!(
        lang,
        "已添加到工单 {id},客服接入后会回复你。",
        "Added to case {id}; a person will answer here.",
        "案件 {id} に追加しました。担当者が対応を始めたらここで返信します。"
    )
}

/// An operator joined.
pub fn operator_joined(lang: Lang, name: &str, id: &str) -> String {
    tr!(
        lang,
        "客服 {name} 已接入工单 {id},接下来由人工为你服务。",
        "{name} from support has joined case {id} and will help you from here.",
        "サポート担当の {name} が案件 {id} を引き継ぎました。ここからは担当者が対応します。"
    )
}

/// The operator put the case back in the queue.
pub fn released(lang: Lang, id: &str) -> String {
    tr!(
        lang,
        "工单 {id} 已重新排队,稍后会有客服接入。",
        "Case {id} is back in the queue; another person will join soon.",
        "案件 {id} は順番待ちに戻りました。まもなく別の担当者が対応します。"
    )
}

/// The case moved to another team.
pub fn transferred(lang: Lang, id: &str, team: &str) -> String {
    tr!(
        lang,
        "工单 {id} 已转给 {team} 组处理。",
        "Case {id} was passed to the {team} team.",
        "案件 {id} を {team} チームに引き継ぎました。"
    )
}

/// The case was closed; asks for a rating.
pub fn closed(lang: Lang, id: &str, summary: Option<&str>) -> String {
    let summary = summary.map(|s| s.trim()).filter(|s| !s.is_empty());
    match (lang, summary) {
        (Lang::Zh, Some(s)) => format!("工单 {id} 已处理完毕:{s}\n请为本次服务打分(1–5)。"),
        (Lang::Zh, None) => format!("工单 {id} 已处理完毕。\n请为本次服务打分(1–5)。"),
        (Lang::En, Some(s)) => {
            format!("Case {id} is closed: {s}\nPlease rate our help from 1 to 5.")
        }
        (Lang::En, None) => format!("Case {id} is closed.\nPlease rate our help from 1 to 5."),
        (Lang::Ja, Some(s)) => {
            format!("案件 {id} の対応が完了しました:{s}\n今回の対応を1〜5で評価してください。")
        }
        (Lang::Ja, None) => {
            format!("案件 {id} の対応が完了しました。\n今回の対応を1〜5で評価してください。")
        }
    }
}

/// Thanks for a rating.
pub fn rated(lang: Lang, rating: u8) -> String {
    tr!(
        lang,
        "感谢你的评分({rating}/5)!",
        "Thank you for your rating ({rating}/5)!",
        "評価をありがとうございました({rating}/5)!"
    )
}

/// `/status` with no case.
pub fn no_case(lang: Lang) -> String {
    tr!(
        lang,
        "你当前没有进行中的工单。",
        "You have no open case.",
        "現在対応中の案件はありません。"
    )
}

/// `/status` of a waiting case.
pub fn status_waiting(lang: Lang, id: &str, position: usize, wait: &str) -> String {
    tr!(
        lang,
        "工单 {id}:排队中,第 {position} 位。{wait}",
        "Case {id}: waiting, number {position} in the queue. {wait}",
        "案件 {id}:順番待ち、{position} 番目です。{wait}"
    )
}

/// `/status` of a case an operator holds.
pub fn status_assigned(lang: Lang, id: &str, name: &str) -> String {
    tr!(
        lang,
        "工单 {id}:客服 {name} 正在处理。",
        "Case {id}: {name} is working on it.",
        "案件 {id}:{name} が対応中です。"
    )
}

/// `/lang` done.
pub fn lang_set(lang: Lang) -> String {
    tr!(
        lang,
        "好的,接下来我用中文回复。",
        "OK, I'll answer in English from now on.",
        "承知しました。これからは日本語でお答えします。"
    )
}

/// `/lang` without a valid argument.
pub fn lang_usage(lang: Lang) -> String {
    tr!(
        lang,
        "用法:/lang zh、/lang en 或 /lang ja",
        "Usage: /lang zh, /lang en or /lang ja",
        "使い方:/lang zh、/lang en または /lang ja"
    )
}

/// The user withdrew their waiting case.
pub fn case_withdrawn(lang: Lang, id: &str) -> String {
    tr!(
        lang,
        "工单 {id} 已撤销。有问题随时问我。",
        "Case {id} is withdrawn. Ask me any time.",
        "案件 {id} を取り下げました。いつでもご質問ください。"
    )
}

/// An operator command from someone who is not an operator.
pub fn operators_only(lang: Lang) -> String {
    tr!(
        lang,
        "抱歉,这个命令仅供客服人员使用。",
        "Sorry, that command is for support staff only.",
        "申し訳ありません、このコマンドはサポート担当者専用です。"
    )
}

/// A quoted case number that is not an open case.
pub fn unknown_case(lang: Lang, id: &str) -> String {
    tr!(
        lang,
        "没有找到进行中的工单 {id},请核对工单号。",
        "I can't find an open case {id}; please check the number.",
        "対応中の案件 {id} が見つかりません。番号をご確認ください。"
    )
}

/// A case number quoted by someone who did not open it, or that is not an open case: the same answer either way.
pub fn link_pending(lang: Lang, id: &str) -> String {
    tr!(
        lang,
        "如果 {id} 是你进行中的工单,我们已把 6 位验证码发到当初开单的会话,请在这里发送该验证码以关联此会话。验证前这里不会显示工单的任何信息。发送 /cancel 可取消。",
        "If {id} is an open case of yours, we have sent a 6-digit code to the chat where it was opened: send that code here to link this chat. Until then nothing of the case is shown here. Send /cancel to stop.",
        "{id} がお客様の対応中の案件であれば、案件を作成した会話に6桁の確認コードを送りました。そのコードをここに送ると、この会話が案件に関連付けられます。確認が済むまで、案件の内容はここには表示されません。/cancel で中止できます。"
    )
}

/// A wrong verification code.
pub fn wrong_code(lang: Lang, left: u8) -> String {
    tr!(
        lang,
        "验证码不正确,还可以再试 {left} 次。",
        "That code is not right; {left} more tries.",
        "確認コードが正しくありません。あと {left} 回試せます。"
    )
}

/// Too many wrong codes: the link attempt is over.
pub fn link_dropped(lang: Lang, id: &str) -> String {
    tr!(
        lang,
        "验证码错误次数过多,本次关联已取消。如需关联 {id},请稍后重新发送工单号以获取新的验证码。",
        "Too many wrong codes: this link attempt is cancelled. To link {id}, send the case number again later for a new code.",
        "確認コードの誤りが多すぎるため、今回の関連付けを中止しました。{id} を関連付けるには、しばらくしてから案件番号をもう一度送り、新しいコードを受け取ってください。"
    )
}

/// A message in a chat waiting for its verification code.
pub fn waiting_for_code(lang: Lang, id: &str) -> String {
    tr!(
        lang,
        "请发送 6 位验证码以关联 {id},或发送 /cancel 取消。",
        "Send the 6-digit code to link {id}, or /cancel.",
        "{id} を関連付けるには6桁の確認コードを送ってください。中止するには /cancel を送ってください。"
    )
}

/// The account sends messages faster than its rate: the rest are kept but not answered for a moment.
pub fn slow_down(lang: Lang) -> String {
    tr!(
        lang,
        "你发送得太快了,请稍等片刻再发。这段时间的消息已记录,但我暂时不会逐条回复。",
        "You are sending messages too fast; please wait a moment. What you send meanwhile is kept, but I won't answer each message.",
        "送信のペースが速すぎます。少し時間をおいてください。その間のメッセージは記録されますが、1件ずつの返信はしばらく控えます。"
    )
}

/// Sent to the case's original chat when it is quoted elsewhere.
pub fn verify_code(lang: Lang, id: &str, platform: &str, code: &str) -> String {
    tr!(
        lang,
        "有人在 {platform} 上引用了你的工单 {id}。如果是你本人,请在那边发送验证码 {code};如果不是,请忽略此消息。",
        "Someone quoted your case {id} on {platform}. If that was you, send the code {code} there; otherwise ignore this message.",
        "{platform} でお客様の案件 {id} が引用されました。ご本人の場合は、そちらで確認コード {code} を送ってください。心当たりがなければこのメッセージは無視してください。"
    )
}

/// A linked chat verified.
pub fn verified(lang: Lang, id: &str) -> String {
    tr!(
        lang,
        "验证成功,工单 {id} 的回复也会发到这里。",
        "Verified: replies in case {id} will come here too.",
        "確認できました。案件 {id} の返信はここにも届きます。"
    )
}

/// A linked chat joined by the same account.
pub fn linked_same_user(lang: Lang, id: &str) -> String {
    tr!(
        lang,
        "已将这里关联到你的工单 {id},客服的回复也会发到这里。",
        "This chat is now linked to your case {id}; replies will come here too.",
        "この会話をお客様の案件 {id} に関連付けました。担当者の返信はここにも届きます。"
    )
}

/// A message passed on from a linked (unverified) chat.
pub fn passed_on(lang: Lang) -> String {
    tr!(
        lang,
        "已转给客服。",
        "Passed on to support.",
        "サポート担当者に伝えました。"
    )
}
