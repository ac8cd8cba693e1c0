//! The Discord channel against the fake Discord: real serenity gateway and REST, the real adapter, and a
//! recording sink in place of the engine.

#[path = "support/fake_discord/mod.rs"]
mod fake_discord;
#[path = "support/harness.rs"]
mod harness;

use std::sync::Arc;
use std::time::Duration;

use fake_discord::{FakeDiscord, UserMessage};
use harness::{envelope, outbound, settings, start, Recorder};
use supportbot_chat::{Accepted, Adapter, Inbound};
use supportbot_discord::{connect, DiscordSettings, StartError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_a_clear_error_at_start() {
    let fake = FakeDiscord::start().await;
    let mut s = settings(&fake, &[]);
    s.token = "not-the-token".into();
    let err = connect(s, Arc::new(Recorder::default()))
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, StartError::BadToken), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.contains("DISCORD_BOT_TOKEN") && !shown.contains("not-the-token"),
        "{shown}"
    );
    let empty = connect(DiscordSettings::new(" "), Arc::new(Recorder::default()))
        .await
        .err()
        .expect("no token");
    assert!(matches!(empty, StartError::NoToken));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dms_reach_the_sink_keyed_by_the_user_and_bots_are_ignored() {
    let fake = FakeDiscord::start().await;
    let run = start(&fake, &[]).await;
    let mut from_bot = UserMessage::new(fake.dm_channel(77), 77, "I am a bot");
    from_bot.author_is_bot = true;
    fake.user_writes(from_bot);
    let id = fake.dm(42, "收不到邮件 554 DT:SPM");
    let got = run.sink.wait_new(1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        run.sink.new_messages().len(),
        1,
        "the bot's message was ignored"
    );
    let m = &got[0];
    assert_eq!(
        (m.platform.as_str(), m.chat.as_str(), m.user.as_str()),
        ("discord", "42", "42")
    );
    assert_eq!(m.id, id.to_string());
    assert!(!m.group && m.mention);
    assert_eq!(m.text, "收不到邮件 554 DT:SPM");
    assert!(m.ts.is_some());
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guild_messages_count_only_when_they_address_the_bot() {
    let fake = FakeDiscord::start().await;
    let general = fake.add_guild_channel("general");
    let run = start(&fake, &[]).await;
    fake.user_writes(UserMessage::new(general, 42, "just chatting, bot"));
    let mut mention = UserMessage::new(general, 42, "how do I set up IMAP?");
    mention.mention_bot = true;
    let mention_id = fake.user_writes(mention);
    let command_id = fake.user_writes(UserMessage::new(general, 43, "/human"));
    let got = run.sink.wait_new(2).await;
    assert_eq!(got[0].id, mention_id.to_string());
    assert_eq!(
        got[0].text, "how do I set up IMAP?",
        "the bot's own mention is removed"
    );
    assert_eq!(
        (got[0].chat.as_str(), got[0].group, got[0].mention),
        (general.to_string().as_str(), true, true)
    );
    assert_eq!(got[1].id, command_id.to_string());
    // A reply to one of the bot's messages addresses it too.
    run.adapter
        .deliver(&envelope("e-1", outbound(general, "answer")))
        .await
        .expect("delivered");
    let answer = fake.wait_sent_in(general, 1).await[0].id;
    let mut reply = UserMessage::new(general, 42, "that did not work");
    reply.reply_to = Some(answer);
    let reply_id = fake.user_writes(reply);
    let got = run.sink.wait_new(3).await;
    assert_eq!(got[2].id, reply_id.to_string());
    assert_eq!(got[2].reply_to, Some(answer.to_string()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        run.sink.new_messages().len(),
        3,
        "plain chatter never reaches the engine"
    );
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_from_one_user_arrives_in_order() {
    let fake = FakeDiscord::start().await;
    let run = start(&fake, &[]).await;
    let ids: Vec<String> = (0..100)
        .map(|i| fake.dm(42, &format!("message {i}")).to_string())
        .collect();
    let got = run.sink.wait_new(100).await;
    let order: Vec<String> = got.iter().map(|m| m.id.clone()).collect();
    assert_eq!(order, ids);
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_disconnect_the_session_resumes_and_every_event_counts_once() {
    let fake = FakeDiscord::start().await;
    let run = start(&fake, &[]).await;
    let first = fake.dm(42, "before the drop");
    run.sink.wait_new(1).await;
    fake.set_resume_overlap(1);
    fake.drop_gateway(4000);
    // Written while the bot is away: Discord keeps them for the RESUME.
    let missed: Vec<u64> = (0..3)
        .map(|i| fake.dm(42, &format!("while away {i}")))
        .collect();
    let got = run.sink.wait_new(4).await;
    let ids: Vec<String> = got.iter().map(|m| m.id.clone()).collect();
    let expected: Vec<String> = std::iter::once(first)
        .chain(missed)
        .map(|i| i.to_string())
        .collect();
    assert_eq!(ids, expected);
    assert_eq!(fake.sessions(), (1, 1), "one IDENTIFY, then a RESUME");
    let after = fake.dm(42, "after the resume");
    let got = run.sink.wait_new(5).await;
    assert_eq!(got[4].id, after.to_string());
    // The replayed event carried its original id, so the engine's dedupe sees it as a duplicate.
    let all = run.sink.all();
    let dups: Vec<&Inbound> = all
        .iter()
        .filter(|(_, a)| *a == Accepted::Duplicate)
        .map(|(m, _)| m)
        .collect();
    let dup_ids: Vec<String> = dups.iter().map(|m| m.id.clone()).collect();
    assert_eq!(
        dup_ids,
        vec![first.to_string()],
        "the one replayed event came back with its id"
    );
    run.stop().await;
}
