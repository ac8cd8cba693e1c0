//! The chat page and the operator inbox in a real browser (headless Chromium over the DevTools protocol) against
//! the real engine: ask and see the answer, ask for a human, sign in to the inbox, see the case, take it and
//! reply, the user sees the reply; markup typed by a user is shown as text on both pages.
//!
//! Without a browser the test says so and passes, unless `SUPPORTBOT_REQUIRE_BROWSER=1` (CI), where it fails.
//! `SUPPORTBOT_SCREENSHOTS=<dir>` keeps the screenshots there (the README's come from `docs/screenshots`).
#![cfg(feature = "web")]

mod web_support;

use serde_json::json;
use web_support::cdp::{find_browser, Browser};
use web_support::*;

const XSS: &str =
    "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\"> **bold**";

fn save_png(name: &str, png: &[u8], scratch: &std::path::Path) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is not a PNG");
    assert!(
        png.len() > 10_000,
        "{name} looks empty ({} bytes)",
        png.len()
    );
    let dir = std::env::var_os("SUPPORTBOT_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| scratch.to_path_buf());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
    eprintln!("screenshot: {}", dir.join(name).display());
}

/// Texts of the chat log's bubbles, `who: text`.
const CHAT_LOG: &str = "Array.from(document.querySelectorAll('#log .msg')).map(m => \
    (m.classList.contains('user') ? 'user: ' : 'bot: ') + m.querySelector('.bubble').textContent)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_and_inbox_in_a_real_browser() {
    let Some(binary) = find_browser() else {
        let required = std::env::var("SUPPORTBOT_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        assert!(!required, "SUPPORTBOT_REQUIRE_BROWSER=1 but no Chromium was found (install Debian's `chromium` package or set SUPPORTBOT_CHROMIUM)");
        eprintln!("SKIPPED: no Chromium/Chrome found in PATH (set SUPPORTBOT_CHROMIUM, or install Debian's `chromium`); the browser test did not run");
        return;
    };
    eprintln!("browser: {}", binary.display());
    let stack = Stack::start().await;
    let browser = Browser::launch(&binary, "en-US").await;

    // The visitor: ask a question, see the answer with its buttons.
    let mut chat = browser.open(&stack.http("/"), 420, 760).await;
    chat.wait_for(
        "document.getElementById('conn').textContent === 'online'",
        "the chat socket",
    )
    .await;
    assert_eq!(
        chat.eval("document.getElementById('human').textContent")
            .await,
        "Talk to a human"
    );
    chat.type_into("#input", "My mail bounced with 554 DT:SPM, what now?")
        .await;
    chat.click("#send").await;
    let log = chat
        .wait_for(
            &format!("{CHAT_LOG}.filter(t => t.startsWith('bot: ') && t.includes('smtp')).length"),
            "the FAQ answer",
        )
        .await;
    assert_eq!(log, json!(1));
    let buttons = chat
        .eval(
            "Array.from(document.querySelectorAll('#log .buttons button')).map(b => b.textContent)",
        )
        .await;
    assert_eq!(buttons, json!(["Yes, thanks", "No"]));

    // Markup typed by the user stays text.
    chat.type_into("#input", XSS).await;
    chat.click("#send").await;
    chat.wait_for(
        &format!("{CHAT_LOG}.filter(t => t.startsWith('bot: ')).length >= 2"),
        "the answer to the markup",
    )
    .await;
    let mine = chat
        .eval(&format!("{CHAT_LOG}.filter(t => t.startsWith('user: '))"))
        .await;
    assert_eq!(mine[1], json!(format!("user: {XSS}")));
    assert_eq!(
        chat.eval("document.querySelectorAll('#log img, #log script, #log strong').length")
            .await,
        json!(0)
    );
    assert_eq!(chat.eval("typeof window.__pwned").await, "undefined");

    // Ask for a human and go through the intake: symptom, steps (skipped), error message.
    let before = chat
        .eval("document.querySelectorAll('#log .msg.bot').length")
        .await
        .as_u64()
        .unwrap();
    chat.click("#human").await;
    let answers = [
        Some("Mails with a 15 MB attachment bounce"),
        None,
        Some("554 DT:SPM, see the screenshot"),
    ];
    for (step, answer) in answers.into_iter().enumerate() {
        let expr = format!(
            "Array.from(document.querySelectorAll('#log .msg.bot')).length >= {} && \
             document.querySelector('#log .msg.bot:last-child .buttons button:not(:disabled)')",
            before + 1 + step as u64
        );
        chat.wait_for(&format!("!!({expr})"), "an intake question")
            .await;
        match answer {
            Some(text) => {
                chat.type_into("#input", text).await;
                chat.click("#send").await;
            }
            None => chat.click("#log .msg.bot:last-child .buttons button").await,
        }
    }
    let banner = chat
        .wait_for(
            "(() => { const b = document.getElementById('case'); return !b.hidden && b.textContent; })()",
            "the case banner",
        )
        .await;
    let banner = banner.as_str().unwrap().to_string();
    assert!(banner.starts_with("Case C-"), "{banner}");
    let case = banner.split_whitespace().nth(1).unwrap().to_string();
    assert!(banner.contains("0 ahead of you"), "{banner}");

    // The operator: sign in, see the case, open it, take it, reply.
    let mut inbox = browser.open(&stack.http("/inbox"), 1280, 820).await;
    // The shared operator token (no [[operators]] sign-in here).
    inbox.click("#use-token").await;
    inbox.type_into("#token", "wrong-token-wrong-token").await;
    inbox.click("#signin-btn").await;
    inbox
        .wait_for(
            "!document.getElementById('signin-error').hidden",
            "the refusal of a wrong token",
        )
        .await;
    inbox
        .eval("document.getElementById('token').value = ''")
        .await;
    inbox.type_into("#token", TOKEN).await;
    inbox.click("#signin-btn").await;
    inbox
        .wait_for(
            "document.getElementById('live').textContent === 'live'",
            "the inbox socket",
        )
        .await;
    inbox
        .wait_for(
            &format!("!!document.querySelector('#cases li[data-case=\"{case}\"]')"),
            "the case in the queue",
        )
        .await;
    inbox
        .click(&format!("#cases li[data-case=\"{case}\"]"))
        .await;
    inbox
        .wait_for(
            &format!("document.getElementById('case-id').textContent === '{case}'"),
            "the case view",
        )
        .await;
    let transcript = inbox
        .wait_for(
            "document.getElementById('transcript').textContent",
            "the transcript",
        )
        .await;
    assert!(
        transcript.as_str().unwrap().contains("15 MB attachment"),
        "{transcript}"
    );
    let subject = inbox
        .eval("document.getElementById('case-subject').textContent")
        .await;
    assert_eq!(subject, "Mails with a 15 MB attachment bounce");
    let codes = inbox
        .eval("document.getElementById('codes').textContent")
        .await;
    assert!(codes.as_str().unwrap().contains("554 DT:SPM"), "{codes}");
    assert_eq!(
        inbox
            .eval(
                "document.querySelectorAll('#app img, #app script:not([src]), #app strong').length"
            )
            .await,
        json!(0)
    );
    assert_eq!(inbox.eval("typeof window.__pwned").await, "undefined");

    inbox.click("#take").await;
    chat.wait_for(
        "document.getElementById('case').classList.contains('assigned')",
        "the assigned banner",
    )
    .await;
    inbox
        .wait_for(
            "!document.getElementById('release').disabled",
            "the case shown as taken in the inbox",
        )
        .await;
    inbox
        .type_into(
            "#reply",
            "Hello, I'm Wang from support. Please try ssl.smtp.qq.com on port 465.",
        )
        .await;
    // While the operator types, the chat page shows it.
    let typing = chat
        .wait_for(
            "!document.getElementById('typing').hidden && document.getElementById('typing').textContent",
            "the typing indicator",
        )
        .await;
    assert!(
        typing.as_str().unwrap().ends_with(" is typing…"),
        "{typing}"
    );
    inbox.click("#send-reply").await;
    chat.wait_for(
        &format!("{CHAT_LOG}.some(t => t.startsWith('bot: Hello, I') && t.includes('port 465'))"),
        "the operator's reply",
    )
    .await;
    assert_eq!(
        chat.eval("document.getElementById('typing').hidden").await,
        true,
        "the reply replaces the typing indicator"
    );
    inbox
        .wait_for(
            "document.getElementById('transcript').textContent.includes('port 465')",
            "the reply in the case",
        )
        .await;
    save_png("chat.png", &chat.screenshot().await, stack.dir.path());

    // The user's markup reaches the operator as text.
    chat.type_into("#input", XSS).await;
    chat.click("#send").await;
    inbox
        .wait_for(
            "document.getElementById('feed').textContent.includes('window.__pwned')",
            "the relayed message",
        )
        .await;
    inbox
        .wait_for(
            "document.getElementById('transcript').textContent.includes('window.__pwned')",
            "the transcript update",
        )
        .await;
    assert_eq!(
        inbox
            .eval(
                "document.querySelectorAll('#app img, #app script:not([src]), #app strong').length"
            )
            .await,
        json!(0)
    );
    assert_eq!(inbox.eval("typeof window.__pwned").await, "undefined");

    save_png("inbox.png", &inbox.screenshot().await, stack.dir.path());

    // A reload continues the same conversation.
    chat.call("Page.reload", json!({})).await;
    chat.wait_for(
        "document.readyState === 'complete' && document.getElementById('conn').textContent === 'online'",
        "the reload",
    )
    .await;
    chat.wait_for(
        &format!("{CHAT_LOG}.some(t => t.includes('port 465'))"),
        "the history after a reload",
    )
    .await;
    drop(browser);

    // A browser set to Chinese gets the Chinese interface.
    let browser = Browser::launch(&binary, "zh-CN").await;
    let mut chat = browser
        .open_in(&stack.http("/"), 420, 760, Some("zh-CN"))
        .await;
    chat.wait_for(
        "document.getElementById('conn').textContent === '在线'",
        "the Chinese chat page",
    )
    .await;
    assert_eq!(
        chat.eval("document.getElementById('human').textContent")
            .await,
        "转人工客服"
    );
    let mut inbox = browser
        .open_in(&stack.http("/inbox"), 1280, 820, Some("zh-CN"))
        .await;
    assert_eq!(
        inbox
            .eval("document.getElementById('signin-btn').textContent")
            .await,
        "登录"
    );
    drop(browser);

    // And one set to Japanese, the Japanese inbox.
    let browser = Browser::launch(&binary, "ja-JP").await;
    let mut inbox = browser
        .open_in(&stack.http("/inbox"), 1280, 820, Some("ja-JP"))
        .await;
    assert_eq!(
        inbox
            .eval("[document.getElementById('signin-btn').textContent, document.documentElement.lang]")
            .await,
        json!(["サインイン", "ja"])
    );
    drop(browser);
    stack.stop().await;
}
