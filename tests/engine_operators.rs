//! Operators and cases on a real sled store: cards, the operator commands, relays across platforms, refusals
//! that leak nothing, close and rating, and one case across channels.

mod support;

use support::*;
use supportbot_chat::{CaseDirectory, CaseEventKind, Inbound};

/// Opens a case for `platform:user` through the intake; returns its id.
async fn open_case(bot: &mut Bot, platform: &str, user: &str) -> String {
    bot.send(dm(
        platform,
        user,
        &format!("{user}-q"),
        "发送邮件被退回 554 DT:SPM",
    ))
    .await;
    bot.send(dm(platform, user, &format!("{user}-h"), "转人工"))
        .await;
    for (i, text) in ["附件邮件发不出去", "跳过", "跳过"].iter().enumerate() {
        bot.send(dm(platform, user, &format!("{user}-{i}"), text))
            .await;
    }
    let out = bot.take();
    to(&out, platform, user)
        .last()
        .unwrap()
        .case
        .clone()
        .expect("case opened")
}

fn room(user: &str, id: &str, text: &str) -> Inbound {
    group("discord", "8001", user, id, text, true)
}

#[tokio::test]
async fn telegram_user_answered_by_discord_operator() {
    let mut bot = Bot::start().await;
    let id = open_case(&mut bot, "telegram", "42").await;
    assert_eq!(id, "C-1001");

    bot.send(room("7001", "d1", "/take@supportbot C-1001"))
        .await;
    let out = bot.take();
    let joined = one(&out, "telegram", "42");
    assert!(joined.text.contains("Wang"), "{}", joined.text);
    assert_eq!(joined.case.as_deref(), Some("C-1001"));
    let ack = one(&out, "discord", "8001");
    assert_eq!(ack.reply_to.as_deref(), Some("d1"));
    assert!(
        ack.text.contains("附件邮件发不出去"),
        "the ack shows the recent transcript: {}",
        ack.text
    );

    // User → operator, relayed; the bot itself says nothing to the user.
    bot.send(dm("telegram", "42", "u1", "还是不行 554 DT:SPM"))
        .await;
    let out = bot.take();
    assert!(to(&out, "telegram", "42").is_empty(), "{out:?}");
    let relay = one(&out, "discord", "8001");
    assert!(relay.text.contains("还是不行"));
    assert_eq!(relay.case.as_deref(), Some("C-1001"));

    // Operator → user with /reply (C- optional).
    bot.send(room(
        "7001",
        "d2",
        "/reply 1001 请把 SMTP 改成 ssl.smtp.qq.com",
    ))
    .await;
    let out = bot.take();
    assert_eq!(
        one(&out, "telegram", "42").text,
        "请把 SMTP 改成 ssl.smtp.qq.com"
    );
    assert!(
        to(&out, "discord", "8001").is_empty(),
        "a reply is not echoed"
    );

    // A reply to the relayed message (its platform message id) is a /reply too.
    let relay_envelope = bot
        .envelopes()
        .iter()
        .rev()
        .find(|e| e.order_key == "discord:8001")
        .unwrap()
        .id
        .clone();
    let platform_id = bot.platform("discord").message_id(&relay_envelope).unwrap();
    let mut answer = room("7001", "d3", "改好了吗?");
    answer.reply_to = Some(platform_id);
    bot.send(answer).await;
    assert_eq!(one(&bot.take(), "telegram", "42").text, "改好了吗?");

    let detail = bot.engine.get("C-1001").await.unwrap();
    assert_eq!(detail.summary.status, "assigned");
    assert_eq!(detail.summary.assignee.as_deref(), Some("discord:7001"));
    let roles: Vec<_> = detail.transcript.iter().map(|e| e.role.as_str()).collect();
    assert_eq!(&roles[roles.len() - 3..], ["user", "operator", "operator"]);
    let metrics = supportbot_chat::MetricsSource::prometheus(&bot.engine).await;
    assert!(
        metrics.contains("supportbot_operator_reply_latency_seconds_count 1"),
        "{metrics}"
    );
    assert!(metrics.contains("supportbot_handoffs_total{team=\"mail\"} 1"));
}

#[tokio::test]
async fn non_operators_are_refused_and_learn_nothing() {
    let mut bot = Bot::start().await;
    open_case(&mut bot, "telegram", "42").await;
    let before = bot.engine.get("C-1001").await.unwrap();

    let mut answers = Vec::new();
    for (i, text) in [
        "/take C-1001",
        "/case C-1001",
        "/case C-9999",
        "/reply C-1001 hi",
        "/queue",
        "/close 1001",
    ]
    .iter()
    .enumerate()
    {
        bot.send(dm("discord", "666", &format!("x{i}"), text)).await;
        let out = bot.take();
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].case, None);
        answers.push(out[0].text.clone());
    }
    assert!(
        answers.iter().all(|a| a == &answers[0]),
        "the same refusal for every case: {answers:?}"
    );
    assert!(!answers[0].contains("1001"));
    // In the operator room, too.
    bot.send(room("666", "x9", "/take C-1001")).await;
    assert_eq!(one(&bot.take(), "discord", "8001").text, answers[0]);
    assert_eq!(
        bot.engine.get("C-1001").await.unwrap(),
        before,
        "nothing changed"
    );
}

#[tokio::test]
async fn unknown_case_numbers_and_bad_usage_change_nothing() {
    let mut bot = Bot::start().await;
    open_case(&mut bot, "telegram", "42").await;
    let before = bot.engine.get("C-1001").await.unwrap();
    bot.send(room("7001", "d1", "/take C-9999")).await;
    assert!(one(&bot.take(), "discord", "8001").text.contains("C-9999"));
    bot.send(room("7001", "d2", "/take")).await;
    assert!(one(&bot.take(), "discord", "8001")
        .text
        .contains("/take C-1001"));
    bot.send(room("7001", "d3", "/transfer C-1001 nosuchteam"))
        .await;
    assert!(one(&bot.take(), "discord", "8001")
        .text
        .contains("security"));
    assert_eq!(bot.engine.get("C-1001").await.unwrap(), before);
}

#[tokio::test]
async fn note_transfer_release_and_history() {
    let mut bot = Bot::start().await;
    open_case(&mut bot, "telegram", "42").await;
    bot.send(room("7001", "d1", "/take C-1001")).await;
    bot.send(room("7001", "d2", "/note C-1001 用户是老客户"))
        .await;
    let out = bot.take();
    assert!(
        to(&out, "telegram", "42")
            .iter()
            .all(|m| !m.text.contains("老客户")),
        "notes are internal"
    );

    // Another operator cannot take or answer a held case.
    bot.send(dm("web", "zhao", "z1", "/take C-1001")).await;
    assert!(one(&bot.take(), "web", "zhao").text.contains("Wang"));
    bot.send(dm("web", "zhao", "z2", "/reply C-1001 hello"))
        .await;
    let out = bot.take();
    assert!(to(&out, "telegram", "42").is_empty());

    bot.send(room("7001", "d3", "/transfer C-1001 security"))
        .await;
    let out = bot.take();
    let card = one(&out, "telegram", "-100999");
    assert_eq!(card.buttons, vec!["/take C-1001"]);
    assert!(one(&out, "telegram", "42").text.contains("security"));
    let d = bot.engine.get("C-1001").await.unwrap();
    assert_eq!(
        (d.summary.team.as_str(), d.summary.status.as_str()),
        ("security", "open")
    );

    bot.send(dm("web", "zhao", "z3", "/take C-1001")).await;
    bot.send(dm("web", "zhao", "z4", "/release C-1001")).await;
    let out = bot.take();
    assert!(to(&out, "telegram", "42")
        .last()
        .unwrap()
        .text
        .contains("重新排队"));
    assert_eq!(
        to(&out, "telegram", "-100999").len(),
        1,
        "the card is posted again"
    );
    assert_eq!(bot.engine.list(false).await[0].status, "open");

    let kinds: Vec<_> = bot
        .engine
        .get("C-1001")
        .await
        .unwrap()
        .history
        .iter()
        .map(|e| e.kind)
        .collect();
    use CaseEventKind::*;
    assert_eq!(
        kinds,
        vec![Opened, Assigned, Note, Transferred, Assigned, Released]
    );
    let history = bot.engine.get("C-1001").await.unwrap().history;
    assert_eq!(history[4].actor, "web:zhao");
    assert_eq!(history[2].text, "用户是老客户");
}

#[tokio::test]
async fn close_asks_for_a_rating_and_the_bot_returns_with_the_old_case_linked() {
    let mut bot = Bot::start().await;
    open_case(&mut bot, "telegram", "42").await;
    bot.send(room("7001", "d1", "/take C-1001")).await;
    bot.take();
    bot.send(room("7001", "d2", "/close C-1001 换服务器后解决"))
        .await;
    let out = bot.take();
    let closing = one(&out, "telegram", "42");
    assert_eq!(closing.buttons, vec!["1", "2", "3", "4", "5"]);
    assert!(closing.text.contains("换服务器后解决"));
    bot.send(dm("telegram", "42", "r", "4")).await;
    assert!(one(&bot.take(), "telegram", "42").text.contains("4/5"));

    bot.send(dm("telegram", "42", "again", "发送邮件被退回 554 DT:SPM"))
        .await;
    let out = bot.take();
    let answer = one(&out, "telegram", "42");
    assert_eq!(answer.case, None, "the bot answers again");
    assert_eq!(answer.buttons, vec!["有帮助", "没帮助"]);

    bot.send(dm("telegram", "42", "h2", "/human")).await;
    for id in ["s1", "s2", "s3"] {
        bot.send(dm("telegram", "42", id, "跳过")).await;
    }
    let out = bot.take();
    assert!(
        one(&out, "discord", "8001").text.contains("C-1001"),
        "the new card names the previous case"
    );
    let all = supportbot::cases::view::all(bot.engine.store())
        .await
        .unwrap();
    assert_eq!(all[0].rating, Some(4));
    assert_eq!(all[1].previous.as_deref(), Some("C-1001"));
    let stats = supportbot::cases::stats::compute(bot.engine.store())
        .await
        .unwrap();
    assert_eq!(stats.average_rating, Some(4.0));
    assert_eq!(stats.handoffs_by_team["mail"], 2);
}

#[tokio::test]
async fn operator_private_chat_relays_while_holding_one_case() {
    let mut bot = Bot::start().await;
    open_case(&mut bot, "web", "s1").await;
    bot.send(dm("telegram", "5001", "o1", "/take 1001")).await;
    bot.take();
    bot.send(dm("web", "s1", "u1", "你好?")).await;
    assert!(one(&bot.take(), "telegram", "5001").text.contains("你好?"));
    bot.send(dm("telegram", "5001", "o2", "你好,我来处理"))
        .await;
    assert_eq!(one(&bot.take(), "web", "s1").text, "你好,我来处理");
    open_case(&mut bot, "web", "s2").await;
    bot.send(dm("telegram", "5001", "o3", "/take C-1002")).await;
    bot.take();
    bot.send(dm("telegram", "5001", "o4", "在吗")).await;
    let out = bot.take();
    assert!(one(&out, "telegram", "5001")
        .text
        .contains("C-1001, C-1002"));
    assert!(to(&out, "web", "s1").is_empty() && to(&out, "web", "s2").is_empty());
}

#[tokio::test]
async fn a_user_with_an_open_case_gets_that_case() {
    let mut bot = Bot::start().await;
    open_case(&mut bot, "telegram", "42").await;
    bot.send(dm("telegram", "42", "again", "转人工")).await;
    let out = bot.take();
    assert!(one(&out, "telegram", "42").text.contains("C-1001"));
    // From a group, the same account is pointed to the same case in private.
    bot.send(group(
        "telegram",
        "-100200",
        "42",
        "g1",
        "@bot /human",
        true,
    ))
    .await;
    let out = bot.take();
    assert!(one(&out, "telegram", "42").text.contains("C-1001"));
    assert_eq!(bot.engine.list(true).await.len(), 1);
}

#[tokio::test]
async fn quoting_a_case_from_another_platform_links_it_without_showing_it() {
    let mut bot = Bot::start().await;
    open_case(&mut bot, "web", "s1").await;
    bot.send(room("7001", "d1", "/take C-1001")).await;
    bot.take();

    // Someone on Telegram quotes the number.
    bot.send(dm(
        "telegram",
        "77",
        "t1",
        "我在网页上提交过工单 C-1001,还没解决",
    ))
    .await;
    let out = bot.take();
    let linked = one(&out, "telegram", "77");
    assert!(!linked.text.contains("附件邮件发不出去") && !linked.text.contains("Wang"));
    let code_msg = one(&out, "web", "s1");
    let code = code_msg
        .text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("a 6-digit code in {}", code_msg.text))
        .to_string();
    let note = one(&out, "discord", "8001");
    assert!(
        note.text.contains("telegram:77"),
        "operators see the linked chat: {}",
        note.text
    );

    // Until verified, the operator's replies go to the original chat only, and /status shows nothing.
    bot.send(room("7001", "d2", "/reply C-1001 请稍等")).await;
    let out = bot.take();
    assert_eq!(one(&out, "web", "s1").text, "请稍等");
    assert!(to(&out, "telegram", "77").is_empty());
    bot.send(dm("telegram", "77", "t2", "/status")).await;
    let status = bot.take();
    assert!(!one(&status, "telegram", "77").text.contains("Wang"));
    bot.send(dm("telegram", "77", "t3", "还有截图")).await;
    let out = bot.take();
    assert!(
        one(&out, "discord", "8001").text.contains("还有截图"),
        "the linked chat's messages reach the operator"
    );

    bot.send(dm("telegram", "77", "t4", &code)).await;
    assert!(one(&bot.take(), "telegram", "77").text.contains("验证成功"));
    bot.send(room("7001", "d3", "/reply C-1001 好的")).await;
    let out = bot.take();
    assert_eq!(one(&out, "telegram", "77").text, "好的");
    assert_eq!(one(&out, "web", "s1").text, "好的");
    let detail = bot.engine.get("C-1001").await.unwrap();
    assert_eq!(detail.conversations, vec!["web:s1", "telegram:77"]);
    assert_eq!(bot.engine.list(true).await.len(), 1, "no second case");
}

#[tokio::test]
async fn quoting_an_unknown_case_is_answered_clearly() {
    let mut bot = Bot::start().await;
    bot.send(dm("telegram", "77", "t1", "工单 C-4242 怎么样了"))
        .await;
    let out = bot.take();
    assert!(one(&out, "telegram", "77").text.contains("C-4242"));
    assert!(bot.engine.list(true).await.is_empty());
}
