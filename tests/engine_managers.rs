//! A managed customer's case on a real sled store with the engine's own clock: kept from the team's queue for
//! the grace time, then posted to the team's room by the engine without any new message.

mod support;

use std::time::Duration;

use support::*;
use supportbot_chat::Inbound;

/// A message on the engine's clock (no `ts`), so the grace time runs in real time.
fn now(mut m: Inbound) -> Inbound {
    m.ts = None;
    m
}

#[tokio::test]
async fn the_team_gets_a_managed_case_after_the_grace_time() {
    let config = CONFIG.replace(
        "[customers]\nenterprise = [\"telegram:900\"]",
        "[customers]\nenterprise = [\"telegram:900\"]\nmanager_grace_secs = 2\n\n\
         [[customers.managers]]\noperator = \"Wang\"\naccounts = [\"telegram:42\"]",
    );
    assert_ne!(config, CONFIG);
    let mut bot = Bot::with_config(&config).await;
    for (i, text) in ["转人工", "附件邮件发不出去", "跳过", "跳过"]
        .iter()
        .enumerate()
    {
        bot.send(now(dm("telegram", "42", &format!("i{i}"), text)))
            .await;
    }
    let out = bot.take();
    assert!(
        one(&out, "telegram", "5001").text.contains("C-1001"),
        "Wang's private chat first"
    );
    assert!(
        to(&out, "discord", "8001").is_empty(),
        "no card in the room yet"
    );
    // Zhao (web:zhao) does not see it in the queue yet.
    bot.send(now(dm("web", "zhao", "z1", "/queue"))).await;
    assert!(!one(&bot.take(), "web", "zhao").text.contains("C-1001"));

    // The engine posts the card by itself once the grace time is over.
    let mut out = Vec::new();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        out.extend(bot.take());
        if !to(&out, "discord", "8001").is_empty() {
            break;
        }
    }
    let card = one(&out, "discord", "8001");
    assert!(
        card.text.contains("C-1001") && card.buttons == vec!["/take C-1001"],
        "{card:?}"
    );
    bot.send(now(dm("web", "zhao", "z2", "/queue"))).await;
    assert!(one(&bot.take(), "web", "zhao").text.contains("C-1001"));
}
