//! The user side of the engine on a real sled store: FAQ answers and buttons, misses and the handoff offer,
//! the intake and the case it opens, groups, languages, bad input and redelivered messages.

mod support;

use support::*;
use supportbot_chat::{Accepted, CaseDirectory};

#[tokio::test]
async fn answer_with_feedback_buttons_and_yes_ends_the_conversation() {
    let mut bot = Bot::start().await;
    bot.send(dm(
        "telegram",
        "42",
        "m1",
        "发送邮件被退回 554 DT:SPM 怎么办",
    ))
    .await;
    let out = bot.take();
    let answer = one(&out, "telegram", "42");
    assert!(answer.text.contains("ssl.smtp.qq.com"), "{}", answer.text);
    assert_eq!(answer.buttons, vec!["有帮助", "没帮助"]);
    assert_eq!(answer.reply_to.as_deref(), Some("m1"));
    assert_eq!(answer.case, None);

    bot.send(dm("telegram", "42", "m2", "有帮助")).await;
    let out = bot.take();
    assert!(one(&out, "telegram", "42").text.contains("很高兴"));
    let stats = supportbot::cases::stats::compute(bot.engine.store())
        .await
        .unwrap();
    assert_eq!((stats.conversations, stats.deflected), (1, 1));
}

#[tokio::test]
async fn english_question_gets_english_texts_and_buttons() {
    let mut bot = Bot::start().await;
    bot.send(dm("web", "s1", "w1", "my mail bounced with 554 DT:SPM"))
        .await;
    let out = bot.take();
    let answer = one(&out, "web", "s1");
    assert!(answer.text.ends_with("Did this help?"), "{}", answer.text);
    assert_eq!(answer.buttons, vec!["Yes, thanks", "No"]);
    bot.send(dm("web", "s1", "w2", "No")).await;
    let out = bot.take();
    let offer = one(&out, "web", "s1");
    assert_eq!(offer.buttons, vec!["Talk to a human", "No, thanks"]);
}

#[tokio::test]
async fn choose_offers_titles_and_a_pressed_title_is_answered() {
    let mut bot = Bot::start().await;
    bot.send(dm("telegram", "42", "m1", "邮箱")).await;
    let out = bot.take();
    let choose = one(&out, "telegram", "42");
    assert!(choose.buttons.len() >= 3, "{choose:?}");
    assert_eq!(choose.buttons.last().map(String::as_str), Some("都不是"));
    let faq = faq();
    let pick = choose.buttons[0].clone();
    let entry = faq
        .entries()
        .iter()
        .find(|e| e.title(supportbot::faq::Lang::Zh) == pick)
        .expect("a title");
    bot.send(dm("telegram", "42", "m2", &pick)).await;
    let out = bot.take();
    let answer = one(&out, "telegram", "42");
    assert!(
        answer.text.starts_with(entry.answer.zh.trim_end()),
        "{}",
        answer.text
    );
    assert_eq!(answer.buttons, vec!["有帮助", "没帮助"]);
}

#[tokio::test]
async fn two_misses_lead_to_the_handoff_offer_and_are_counted_as_unanswered() {
    let mut bot = Bot::start().await;
    bot.send(dm("telegram", "42", "m1", "天气怎么样")).await;
    let first = bot.take();
    assert_eq!(one(&first, "telegram", "42").buttons, vec!["转人工"]);
    bot.send(dm("telegram", "42", "m2", "天气怎么样")).await;
    let second = bot.take();
    let offer = one(&second, "telegram", "42");
    assert_eq!(offer.buttons, vec!["转人工", "不用了"]);
    bot.send(dm("telegram", "42", "m3", "不用了")).await;
    assert!(one(&bot.take(), "telegram", "42").text.contains("随时"));
    let stats = supportbot::cases::stats::compute(bot.engine.store())
        .await
        .unwrap();
    assert_eq!(stats.top_unanswered[0].question, "天气怎么样");
    assert_eq!(stats.top_unanswered[0].count, 2);
    assert_eq!(stats.deflected, 0);
}

/// Walks a user through the intake; returns the case number message.
async fn intake(
    bot: &mut Bot,
    platform: &str,
    user: &str,
    first: &str,
) -> supportbot_chat::Outbound {
    bot.send(dm(platform, user, &format!("{user}-h"), first))
        .await;
    let q1 = bot.take();
    assert_eq!(one(&q1, platform, user).buttons, vec!["跳过"], "{q1:?}");
    bot.send(dm(
        platform,
        user,
        &format!("{user}-1"),
        "带附件的邮件发不出去",
    ))
    .await;
    bot.take();
    bot.send(dm(platform, user, &format!("{user}-2"), "跳过"))
        .await;
    bot.take();
    let mut last = dm(platform, user, &format!("{user}-3"), "提示 554 DT:SPM");
    last.attachments = vec![image("bounce.png")];
    bot.send(last).await;
    let out = bot.take();
    one(&out, platform, user).clone()
}

#[tokio::test]
async fn a_topic_the_faq_leaves_to_people_offers_a_person_at_once_and_routes_the_case() {
    let mut bot = Bot::start().await;
    // The built-in FAQ marks forgotten passwords (category account) as a topic for people.
    bot.send(dm("telegram", "42", "m1", "我忘记邮箱密码了，怎么找回"))
        .await;
    let out = bot.take();
    let offer = one(&out, "telegram", "42");
    assert!(offer.text.contains("转接人工客服"), "{}", offer.text);
    assert_eq!(offer.buttons, vec!["转人工", "不用了"]);
    let opened = intake(&mut bot, "telegram", "42", "转人工").await;
    assert_eq!(opened.case.as_deref(), Some("C-1001"));
    // The account category belongs to the security team.
    let detail = bot.engine.get("C-1001").await.expect("case");
    assert_eq!(detail.summary.team, "security");
    // It is not counted as a question the FAQ failed to answer.
    let stats = supportbot::cases::stats::compute(bot.engine.store())
        .await
        .unwrap();
    assert!(
        stats.top_unanswered.is_empty(),
        "{:?}",
        stats.top_unanswered
    );
}

#[tokio::test]
async fn human_request_runs_the_intake_and_opens_a_routed_case() {
    let mut bot = Bot::start().await;
    bot.send(dm("telegram", "42", "m0", "发送邮件被退回 554 DT:SPM"))
        .await;
    bot.take();
    bot.send(dm("telegram", "42", "m1", "转人工")).await;
    let q1 = bot.take();
    assert!(one(&q1, "telegram", "42").text.contains("问题现象"));
    bot.send(dm("telegram", "42", "m2", "带附件的邮件发不出去"))
        .await;
    assert_eq!(one(&bot.take(), "telegram", "42").buttons, vec!["跳过"]);
    bot.send(dm("telegram", "42", "m3", "跳过")).await;
    bot.take();
    let mut last = dm("telegram", "42", "m4", "");
    last.attachments = vec![image("bounce.png")];
    bot.send(last).await;
    let out = bot.take();
    let opened = one(&out, "telegram", "42");
    assert_eq!(opened.case.as_deref(), Some("C-1001"));
    assert!(
        opened.text.contains("C-1001") && opened.text.contains("第 1 位"),
        "{}",
        opened.text
    );
    assert!(!opened.text.contains("高峰"), "13:30 is not a peak hour");
    // The card goes to the mail team's room (mail category, catch-all team).
    let card = one(&out, "discord", "8001");
    assert_eq!(card.case.as_deref(), Some("C-1001"));
    assert_eq!(card.buttons, vec!["/take C-1001"]);
    assert!(card.text.contains("554 DT:SPM"), "{}", card.text);

    let detail = bot.engine.get("C-1001").await.expect("case");
    assert_eq!(detail.summary.team, "mail");
    assert_eq!(detail.summary.priority, 1);
    assert_eq!(detail.summary.status, "open");
    assert_eq!(detail.summary.subject, "带附件的邮件发不出去");
    assert_eq!(detail.error_codes, vec!["554 DT:SPM"]);
    assert!(detail.suggestions.contains(&"mail-bounce-554".to_string()));
    assert!(detail
        .transcript
        .iter()
        .any(|e| e.attachments.iter().any(|a| a.name == "bounce.png")));
    assert!(detail
        .transcript
        .iter()
        .any(|e| e.text.contains("554 DT:SPM") && e.role == "user"));
    assert_eq!(
        detail.history[0].kind,
        supportbot_chat::CaseEventKind::Opened
    );
}

#[tokio::test]
async fn enterprise_cases_go_first_and_positions_follow_the_queue() {
    let mut bot = Bot::start().await;
    let a = intake(&mut bot, "telegram", "41", "/human").await;
    assert!(a.text.contains("第 1 位"));
    let b = intake(&mut bot, "telegram", "43", "/human").await;
    assert!(b.text.contains("第 2 位"));
    let vip = intake(&mut bot, "telegram", "900", "/human").await;
    assert!(vip.text.contains("第 1 位"), "{}", vip.text);
    let list = bot.engine.list(false).await;
    let order: Vec<_> = list.iter().map(|c| (c.id.as_str(), c.priority)).collect();
    assert_eq!(order, vec![("C-1003", 0), ("C-1001", 1), ("C-1002", 1)]);
}

#[tokio::test]
async fn peak_hours_and_after_hours_notices() {
    let mut bot = Bot::start().await;
    bot.send(at(
        dm("web", "p", "p1", "/human"),
        "2026-11-25T10:30:00+08:00",
    ))
    .await;
    for (i, t) in ["a", "b"].iter().enumerate() {
        bot.send(at(
            dm("web", "p", &format!("p{}", i + 2), t),
            "2026-11-25T10:31:00+08:00",
        ))
        .await;
    }
    bot.take();
    bot.send(at(dm("web", "p", "p9", "c"), "2026-11-25T10:32:00+08:00"))
        .await;
    let peak = bot.take();
    let text = &one(&peak, "web", "p").text;
    assert!(
        text.contains("10:00-12:00")
            && text.contains("09:00-10:00")
            && text.contains("14:00-15:00"),
        "{text}"
    );

    bot.send(at(
        dm("web", "n", "n1", "/human"),
        "2026-11-25T23:30:00+08:00",
    ))
    .await;
    for id in ["n2", "n3", "n4"] {
        bot.send(at(dm("web", "n", id, "跳过"), "2026-11-25T23:31:00+08:00"))
            .await;
    }
    let night = bot.take();
    let text = &to(&night, "web", "n").last().unwrap().text;
    assert!(text.contains("明天 09:00"), "{text}");
    assert_eq!(
        bot.engine.list(false).await.len(),
        2,
        "a case is opened even with nobody online"
    );
}

#[tokio::test]
async fn groups_speak_only_when_addressed_and_move_handoffs_to_private() {
    let mut bot = Bot::start().await;
    bot.send(group(
        "telegram",
        "-100200",
        "42",
        "g1",
        "554 DT:SPM 怎么办",
        false,
    ))
    .await;
    assert!(bot.take().is_empty(), "not addressed: silent");
    bot.send(group(
        "telegram",
        "-100200",
        "42",
        "g2",
        "@bot 554 DT:SPM 怎么办",
        true,
    ))
    .await;
    let out = bot.take();
    assert!(one(&out, "telegram", "-100200")
        .text
        .contains("ssl.smtp.qq.com"));

    bot.send(group(
        "telegram",
        "-100200",
        "42",
        "g3",
        "@bot 转人工",
        true,
    ))
    .await;
    let out = bot.take();
    let notice = one(&out, "telegram", "-100200");
    assert!(notice.text.contains("私信"), "{}", notice.text);
    let private = one(&out, "telegram", "42");
    assert!(private.text.contains("问题现象"));
    assert_eq!(private.reply_to, None);
    // The intake continues in the private chat.
    for id in ["p1", "p2", "p3"] {
        bot.send(dm("telegram", "42", id, "跳过")).await;
    }
    let out = bot.take();
    assert_eq!(
        to(&out, "telegram", "42").last().unwrap().case.as_deref(),
        Some("C-1001")
    );
    assert!(to(&out, "telegram", "-100200").is_empty());
}

#[tokio::test]
async fn account_security_answers_asked_in_a_group_go_private() {
    let mut bot = Bot::start().await;
    bot.send(group(
        "discord",
        "g9",
        "77",
        "g1",
        "@bot 账号被盗了无法登录",
        true,
    ))
    .await;
    let out = bot.take();
    assert!(one(&out, "discord", "g9").text.contains("私信"));
    let private = one(&out, "discord", "77");
    assert!(private.text.contains("aq.qq.com"), "{}", private.text);
    assert_eq!(private.buttons, vec!["有帮助", "没帮助"]);
}

#[tokio::test]
async fn lang_command_switches_every_bot_text() {
    let mut bot = Bot::start().await;
    bot.send(dm("telegram", "42", "m1", "/lang en")).await;
    assert!(one(&bot.take(), "telegram", "42").text.contains("English"));
    bot.send(dm("telegram", "42", "m2", "发送邮件被退回 554 DT:SPM"))
        .await;
    let out = bot.take();
    let answer = one(&out, "telegram", "42");
    assert!(answer.text.ends_with("Did this help?"), "{}", answer.text);
    bot.send(dm("telegram", "42", "m3", "/lang fr")).await;
    assert!(one(&bot.take(), "telegram", "42").text.contains("/lang zh"));
}

#[tokio::test]
async fn oversized_text_gets_a_clear_answer_and_is_not_stored() {
    let mut bot = Bot::start().await;
    intake(&mut bot, "telegram", "42", "/human").await;
    let before = bot.engine.get("C-1001").await.unwrap().transcript.len();
    let long = "长".repeat(5000);
    bot.send(dm("telegram", "42", "big", &long)).await;
    let out = bot.take();
    assert!(one(&out, "telegram", "42").text.contains("5000"), "{out:?}");
    let detail = bot.engine.get("C-1001").await.unwrap();
    assert!(detail
        .transcript
        .iter()
        .all(|e| e.text.chars().count() < 4000));
    assert_eq!(
        detail.transcript.len(),
        before,
        "no line was added for the oversized message"
    );
    bot.send(dm("telegram", "42", "small", "补充一句")).await;
    assert_eq!(
        bot.engine.get("C-1001").await.unwrap().transcript.len(),
        before + 1
    );
}

#[tokio::test]
async fn the_same_update_delivered_twice_is_handled_once() {
    let mut bot = Bot::start().await;
    let m = dm("telegram", "42", "m1", "发送邮件被退回 554 DT:SPM");
    assert_eq!(bot.send(m.clone()).await, Accepted::New);
    assert_eq!(bot.send(m.clone()).await, Accepted::Duplicate);
    assert_eq!(bot.take().len(), 1);
    let metrics = supportbot_chat::MetricsSource::prometheus(&bot.engine).await;
    assert!(
        metrics.contains("supportbot_duplicates_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains("supportbot_messages_in_total{platform=\"telegram\"} 1"));
}

#[tokio::test]
async fn status_cancel_and_help() {
    let mut bot = Bot::start().await;
    bot.send(dm("web", "u", "1", "/status")).await;
    assert!(one(&bot.take(), "web", "u")
        .text
        .contains("没有进行中的工单"));
    bot.send(dm("web", "u", "2", "/human")).await;
    bot.send(dm("web", "u", "3", "/cancel")).await;
    assert!(to(&bot.take(), "web", "u")
        .last()
        .unwrap()
        .text
        .contains("已取消"));
    intake(&mut bot, "web", "u", "/human").await;
    bot.send(dm("web", "u", "4", "/status")).await;
    assert!(one(&bot.take(), "web", "u").text.contains("C-1001"));
    bot.send(dm("web", "u", "5", "/cancel")).await;
    assert!(one(&bot.take(), "web", "u").text.contains("撤销"));
    assert_eq!(
        bot.engine.get("C-1001").await.unwrap().summary.status,
        "closed"
    );
    bot.send(dm("web", "u", "6", "/help")).await;
    assert!(one(&bot.take(), "web", "u").text.contains("/human"));
}

#[tokio::test]
async fn small_talk_gets_a_friendly_reply_and_never_a_case() {
    let mut bot = Bot::start().await;
    for (i, text) in ["你好", "谢谢", "你是机器人吗"].iter().enumerate() {
        bot.send(dm("telegram", "42", &format!("m{i}"), text)).await;
        let reply = bot.take();
        let reply = one(&reply, "telegram", "42");
        assert!(reply.buttons.is_empty(), "{text}: {:?}", reply.buttons);
        assert_eq!(reply.case, None, "{text}");
        assert!(
            reply
                .text
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{text}: {}",
            reply.text
        );
    }
    bot.send(dm("web", "s1", "w1", "hello!")).await;
    let reply = bot.take();
    assert!(one(&reply, "web", "s1").text.starts_with("Hello"));
    let stats = supportbot::cases::stats::compute(bot.engine.store())
        .await
        .unwrap();
    // Small talk is neither an unanswered question nor a handoff.
    assert!(
        stats.top_unanswered.is_empty(),
        "{:?}",
        stats.top_unanswered
    );
    assert_eq!(stats.cases, 0);
}
