//! The engine's texts to operators by where the operator reads them: an operator signed in to the web inbox
//! (`web:` account) gets sentences written for the page, an operator on a chat platform the command hints.
//! Real engine on the test store, `[bot] operator_lang = "en"`.

mod support;

use support::*;
use supportbot_chat::Outbound;

/// Argon2id hash of "correct horse battery" (any valid hash makes `web:zhao` Zhao's inbox sign-in).
const HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$W7ACZ5+Ggk1xfZqjNUcYEwl5G6oMXmbuvAsqJhcYtyA";

fn english(config: &str) -> String {
    format!("[bot]\noperator_lang = \"en\"\n{config}")
}

fn room(user: &str, id: &str, text: &str) -> supportbot_chat::Inbound {
    group("discord", "8001", user, id, text, true)
}

/// The one message to Zhao's inbox, which must carry no command hint.
fn page(out: &[Outbound]) -> String {
    let text = one(out, "web", "zhao").text.clone();
    assert!(
        !text.contains("/take") && !text.contains("/reply"),
        "{text}"
    );
    text
}

#[tokio::test]
async fn the_inbox_gets_page_texts_and_chat_operators_keep_their_commands() {
    let mut bot = Bot::with_config(&english(CONFIG)).await;
    request_case(&bot, "telegram", "42").await;
    bot.take();

    bot.send(dm("web", "zhao", "z1", "/take C-1001")).await;
    assert_eq!(
        page(&bot.take()),
        "You took C-1001 (user42, telegram). Type your reply below."
    );

    bot.send(dm("telegram", "42", "u1", "still bouncing")).await;
    assert_eq!(
        page(&bot.take()),
        "user42 (telegram) wrote in C-1001: still bouncing"
    );

    bot.send(dm("web", "zhao", "z2", "/note C-1001 long-time customer"))
        .await;
    assert_eq!(
        page(&bot.take()),
        "Internal note added to C-1001; the user does not see it."
    );
    bot.send(dm("web", "zhao", "z3", "/reply C-1001")).await;
    assert_eq!(page(&bot.take()), "Write the reply in the box first.");

    // Wang, on Discord, is refused with the chat wording.
    bot.send(room("7001", "d1", "/reply C-1001 hello")).await;
    assert_eq!(
        one(&bot.take(), "discord", "8001").text,
        "C-1001 is held by Zhao; /take it first or ask them."
    );

    bot.send(dm("web", "zhao", "z4", "/release C-1001")).await;
    assert_eq!(page(&bot.take()), "C-1001 is back in the queue.");
    bot.send(room("7001", "d2", "/take C-1001")).await;
    let ack = one(&bot.take(), "discord", "8001").text.clone();
    assert!(
        ack.starts_with("You took C-1001 (user42, telegram). Answer with /reply C-1001 text"),
        "{ack}"
    );
    bot.send(dm("web", "zhao", "z5", "/reply C-1001 hi")).await;
    assert_eq!(
        page(&bot.take()),
        "C-1001 is held by Wang; press Take first or ask them."
    );
    bot.send(room("7001", "d3", "/release C-1001")).await;
    bot.take();

    bot.send(dm("web", "zhao", "z6", "/take C-1001")).await;
    bot.send(dm("web", "zhao", "z7", "/transfer C-1001 security"))
        .await;
    let out = bot.take();
    let to_zhao: Vec<&str> = to(&out, "web", "zhao")
        .iter()
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(
        to_zhao,
        [
            "You took C-1001 (user42, telegram). Type your reply below.",
            "C-1001 moved to team security."
        ]
    );
    let card = one(&out, "telegram", "-100999");
    assert!(
        card.text.ends_with("Take it: /take C-1001"),
        "{}",
        card.text
    );

    bot.send(dm("web", "zhao", "z8", "/take C-1001")).await;
    bot.send(dm("web", "zhao", "z9", "/close C-1001")).await;
    let out = bot.take();
    assert_eq!(
        to(&out, "web", "zhao").last().unwrap().text,
        "C-1001 is closed; the user was asked for a rating."
    );
    bot.send(dm("telegram", "42", "u2", "5")).await;
    assert_eq!(page(&bot.take()), "The user rated C-1001 5/5.");
}

#[tokio::test]
async fn a_manager_signed_in_to_the_inbox_gets_the_new_case_there() {
    let config = CONFIG
        .replace(
            "accounts = [\"web:zhao\"]",
            &format!("accounts = [\"web:zhao\"]\nweb_password = \"{HASH}\""),
        )
        .replace(
            "[customers]\nenterprise = [\"telegram:900\"]",
            "[customers]\nenterprise = [\"telegram:900\"]\nmanager_grace_secs = 300\n\n\
             [[customers.managers]]\noperator = \"Zhao\"\naccounts = [\"telegram:42\"]",
        );
    let mut bot = Bot::with_config(&english(&config)).await;
    request_case(&bot, "telegram", "42").await;
    let out = bot.take();
    let notice = one(&out, "web", "zhao");
    assert_eq!(notice.case.as_deref(), Some("C-1001"));
    assert_eq!(notice.buttons, ["/take C-1001"]);
    assert_eq!(
        notice.text,
        "Your customer user42 just opened case C-1001. For 5 minutes only you can take it; then it goes to \
         the team's queue.\nNew case C-1001 for team mail (enterprise customer): user42 (telegram) asks \"附件邮件发不出去\". It is \
         waiting in the queue."
    );

    // Without a web sign-in, a `web:` account is no inbox page: nothing is sent there.
    let config = config.replace(&format!("\nweb_password = \"{HASH}\""), "");
    let mut bot = Bot::with_config(&english(&config)).await;
    request_case(&bot, "telegram", "42").await;
    assert!(to(&bot.take(), "web", "zhao").is_empty());
}
