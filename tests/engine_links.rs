//! Case numbers quoted from chats that did not open the case, on a real sled store: the verification code
//! cannot be guessed (few wrong codes per attempt, few codes per case and hour, one line in the case for a
//! failed attempt), an unknown number and someone else's case read the same, and a group is never linked.

mod support;

use support::*;
use supportbot_chat::CaseDirectory;

/// Opens a case for web session `s1` (the intake: question, handoff, three answers) and has Wang take it.
async fn taken_case(bot: &mut Bot) {
    bot.send(dm("web", "s1", "q", "发送邮件被退回 554 DT:SPM"))
        .await;
    request_case(bot, "web", "s1").await;
    bot.send(group(
        "discord",
        "8001",
        "7001",
        "take",
        "/take C-1001",
        true,
    ))
    .await;
    bot.take();
}

/// The 6-digit code in a message.
fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("a 6-digit code in {text}"))
        .to_string()
}

/// A six-digit guess that is not `code`.
fn wrong(code: &str, i: u32) -> String {
    let guess = format!("{:06}", (code.parse::<u32>().unwrap() + 1 + i) % 1_000_000);
    assert_ne!(guess, code);
    guess
}

#[tokio::test]
async fn five_wrong_codes_drop_the_attempt_and_the_right_code_then_does_not_link() {
    let mut bot = Bot::start().await;
    taken_case(&mut bot).await;
    bot.send(dm("telegram", "66", "a1", "C-1001")).await;
    let out = bot.take();
    let code = code_in(&one(&out, "web", "s1").text);

    for i in 0..4 {
        bot.send(dm("telegram", "66", &format!("g{i}"), &wrong(&code, i)))
            .await;
        let reply = bot.take();
        assert!(one(&reply, "telegram", "66").text.contains("验证码不正确"));
        assert!(
            to(&reply, "discord", "8001").is_empty(),
            "a guess is not relayed to the operator"
        );
    }
    bot.send(dm("telegram", "66", "g4", &wrong(&code, 4))).await;
    let out = bot.take();
    assert!(one(&out, "telegram", "66").text.contains("已取消"));
    assert!(one(&out, "discord", "8001").text.contains("telegram:66"));

    // The attempt is over: the right code now is just a message, and links nothing.
    bot.send(dm("telegram", "66", "late", &code)).await;
    let out = bot.take();
    assert!(!one(&out, "telegram", "66").text.contains("验证成功"));
    bot.send(group(
        "discord",
        "8001",
        "7001",
        "r1",
        "/reply C-1001 临时密码 Qx7",
        true,
    ))
    .await;
    let out = bot.take();
    assert!(
        to(&out, "telegram", "66").is_empty(),
        "the guesser gets no operator reply"
    );

    let detail = bot.engine.get("C-1001").await.unwrap();
    let guesses = detail
        .transcript
        .iter()
        .filter(|e| e.text.len() == 6 && e.text.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(guesses.count(), 0, "wrong codes do not fill the transcript");
    let dropped: Vec<_> = detail
        .history
        .iter()
        .filter(|e| e.text.contains("wrong codes"))
        .collect();
    assert_eq!(
        dropped.len(),
        1,
        "one line for the failed attempt: {:?}",
        detail.history
    );
    assert!(!detail.conversations.contains(&"telegram:66".to_string()));
}

#[tokio::test]
async fn the_right_code_within_the_allowed_tries_links_the_chat() {
    let mut bot = Bot::start().await;
    taken_case(&mut bot).await;
    bot.send(dm("telegram", "77", "a1", "我的工单 C-1001"))
        .await;
    let code = code_in(&one(&bot.take(), "web", "s1").text);
    for i in 0..4 {
        bot.send(dm("telegram", "77", &format!("g{i}"), &wrong(&code, i)))
            .await;
    }
    bot.take();
    bot.send(dm("telegram", "77", "ok", &code)).await;
    assert!(one(&bot.take(), "telegram", "77").text.contains("验证成功"));
    bot.send(group(
        "discord",
        "8001",
        "7001",
        "r1",
        "/reply C-1001 好的",
        true,
    ))
    .await;
    assert_eq!(one(&bot.take(), "telegram", "77").text, "好的");
}

#[tokio::test]
async fn a_case_sends_at_most_three_codes_an_hour() {
    let mut bot = Bot::start().await;
    taken_case(&mut bot).await;
    let mut codes = 0;
    for user in ["61", "62", "63", "64", "65"] {
        bot.send(dm("telegram", user, &format!("q{user}"), "C-1001"))
            .await;
        let out = bot.take();
        codes += to(&out, "web", "s1").len();
        assert!(one(&out, "telegram", user).text.contains("6 位验证码"));
    }
    assert_eq!(codes, 3, "link_codes_per_hour defaults to 3");
    let detail = bot.engine.get("C-1001").await.unwrap();
    assert!(detail
        .history
        .iter()
        .any(|e| e.text.contains("no code sent")));
}

#[tokio::test]
async fn an_unknown_number_and_someone_elses_case_read_the_same() {
    let mut bot = Bot::start().await;
    taken_case(&mut bot).await;
    // The same steps for an existing case (C-1001) and one that does not exist (C-1002).
    let mut seen = Vec::new();
    for (user, number) in [("71", "1001"), ("72", "1002")] {
        let mut replies = Vec::new();
        for (i, text) in [
            format!("C-{number}"),
            "还有截图".into(),
            "/status".into(),
            "123456".into(),
        ]
        .iter()
        .enumerate()
        {
            bot.send(dm("telegram", user, &format!("{user}-{i}"), text))
                .await;
            let out = bot.take();
            let reply = one(&out, "telegram", user);
            assert_eq!(
                reply.case, None,
                "no case field before verification: {reply:?}"
            );
            replies.push(reply.text.replace(number, "N"));
        }
        seen.push(replies);
    }
    assert_eq!(seen[0], seen[1]);
}

#[tokio::test]
async fn quoting_ones_own_case_in_a_group_continues_in_private_and_never_links_the_group() {
    let mut bot = Bot::start().await;
    // A Telegram user's case, taken by Wang.
    bot.send(dm("telegram", "42", "q", "发送邮件被退回 554 DT:SPM"))
        .await;
    request_case(&bot, "telegram", "42").await;
    bot.send(group(
        "discord",
        "8001",
        "7001",
        "take",
        "/take C-1001",
        true,
    ))
    .await;
    bot.take();
    // The same account quotes it in a group.
    bot.send(group(
        "telegram",
        "-100200",
        "42",
        "g1",
        "@bot 我的工单 C-1001 怎么样了",
        true,
    ))
    .await;
    let out = bot.take();
    assert!(one(&out, "telegram", "-100200").text.contains("私信"));
    assert!(to(&out, "telegram", "-100200")
        .iter()
        .all(|m| m.case.is_none()));

    bot.send(group(
        "discord",
        "8001",
        "7001",
        "r1",
        "/reply C-1001 临时密码 Qx7",
        true,
    ))
    .await;
    let out = bot.take();
    assert_eq!(one(&out, "telegram", "42").text, "临时密码 Qx7");
    assert!(
        to(&out, "telegram", "-100200").is_empty(),
        "nothing of the case reaches the group"
    );
    let detail = bot.engine.get("C-1001").await.unwrap();
    assert!(
        detail.conversations.iter().all(|c| !c.contains("-100200")),
        "{:?}",
        detail.conversations
    );
}

#[tokio::test]
async fn someone_else_quoting_a_case_in_a_group_gets_the_code_prompt_in_private() {
    let mut bot = Bot::start().await;
    taken_case(&mut bot).await;
    bot.send(group(
        "telegram",
        "-100200",
        "88",
        "g1",
        "@bot C-1001",
        true,
    ))
    .await;
    let out = bot.take();
    assert!(!one(&out, "telegram", "-100200").text.contains("验证码"));
    assert!(one(&out, "telegram", "88").text.contains("6 位验证码"));
    let code = code_in(&one(&out, "web", "s1").text);
    bot.send(dm("telegram", "88", "c", &code)).await;
    assert!(one(&bot.take(), "telegram", "88").text.contains("验证成功"));
    let detail = bot.engine.get("C-1001").await.unwrap();
    assert!(detail.conversations.iter().all(|c| !c.contains("-100200")));
}
