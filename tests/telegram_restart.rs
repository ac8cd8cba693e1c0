//! Telegram restarts end to end: updates handled before a crash come again (Telegram never got the
//! acknowledgement) and are not answered twice; a clean stop acknowledges them; a refused token stops the start
//! with a clear configuration error.
#![cfg(all(feature = "telegram", feature = "web"))]

mod telegram_support;

use supportbot::config::Config;
use supportbot::engine::Engine;
use supportbot::faq::Faq;
use supportbot_chat::Shutdown;
use telegram_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_does_not_answer_handled_updates_again() {
    let fake = FakeTelegram::start(TOKEN).await;
    let stack = Stack::start(&fake).await;
    fake.private_text(42, "Li", "发送邮件被退回 554 DT:SPM 怎么办");
    wait_text(&fake, 42, "ssl.smtp.qq.com").await;
    let last = fake.private_text(42, "Li", "/help");
    wait_count(&fake, 42, 2).await;
    stack.engine.settle().await;
    let answered = fake.sent().len();

    // Crash: the bot dies before telling Telegram; Telegram sends both updates again to the next process.
    let dir = stack.crash().await;
    fake.redeliver_all();
    assert!(fake.pending_updates() >= 2);
    let stack = Stack::start_in(&fake, dir).await;
    fake.wait(WAIT, "the redelivered updates handled", || {
        (fake.highest_offset() > last).then_some(())
    })
    .await;
    stack.engine.settle().await;
    assert_eq!(
        fake.sent().len(),
        answered,
        "nothing answered twice: {:#?}",
        texts_to(&fake, 42)
    );

    // The conversation goes on where it was.
    fake.private_text(42, "Li", "有帮助");
    wait_count(&fake, 42, answered + 1).await;

    // A clean stop confirms everything, so the next start receives nothing old.
    let dir = stack.stop().await;
    assert_eq!(fake.pending_updates(), 0);
    let stack = Stack::start_in(&fake, dir).await;
    let fresh = fake.private_text(42, "Li", "/help");
    fake.wait(WAIT, "the new update handled", || {
        (fake.highest_offset() > fresh).then_some(())
    })
    .await;
    wait_count(&fake, 42, answered + 2).await;
    stack.engine.settle().await;
    assert_eq!(fake.sent().len(), answered + 2);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_a_clear_configuration_error() {
    let fake = FakeTelegram::start(TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(&fake, &free_addr()).replace(TOKEN, "424242:WRONG");
    let mut config = Config::parse(&text, "t.toml").unwrap();
    config.bot.data_dir = dir.path().join("data");
    let engine = Engine::open(&config, Faq::builtin()).await.unwrap();
    let err = match supportbot::channels::telegram::start(&config, &engine, Shutdown::new()).await {
        Ok(_) => panic!("a refused token must stop the start"),
        Err(err) => err,
    };
    assert!(supportbot::channels::telegram::is_config_error(&err));
    let text = format!("{err:#}");
    assert!(
        text.contains("refused the bot token") && text.contains("TELEGRAM_BOT_TOKEN"),
        "{text}"
    );
    assert!(
        !text.contains("WRONG"),
        "the token is never printed: {text}"
    );

    // No token at all: nothing starts, nothing fails.
    config.telegram = None;
    let idle = supportbot::channels::telegram::start(&config, &engine, Shutdown::new())
        .await
        .unwrap();
    assert!(idle.bot.is_none() && idle.tasks.is_empty());
}
