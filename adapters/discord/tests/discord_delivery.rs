//! Delivery through the fake Discord: splitting, escaping, no pings, DMs by user id, failure classes, retries
//! without repeats, buttons and their acknowledgement, and case threads under operator rooms.

#[path = "support/fake_discord/mod.rs"]
mod fake_discord;
#[path = "support/harness.rs"]
mod harness;

use std::time::Duration;

use fake_discord::{Failure, FakeDiscord, UserMessage};
use harness::{envelope, outbound, start};
use serde_json::json;
use supportbot_chat::{Adapter, Outbound, SendError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_text_is_split_escaped_and_pings_nobody() {
    let fake = FakeDiscord::start().await;
    let general = fake.add_guild_channel("general");
    let run = start(&fake, &[]).await;
    let ask = UserMessage {
        mention_bot: true,
        ..UserMessage::new(general, 42, "help")
    };
    let asked = fake.user_writes(ask);
    let body = "step one of the fix is to open settings. ".repeat(110);
    let text = format!("@everyone **look** <@123> _x_\n# not a title\n{body}");
    let mut out = outbound(general, &text);
    out.buttons = vec!["Yes".into(), "No".into()];
    out.reply_to = Some(asked.to_string());
    run.adapter
        .deliver(&envelope("long-1", out))
        .await
        .expect("delivered");
    let sent = fake.sent_in(general);
    assert_eq!(
        sent.len(),
        3,
        "{} chars become three messages",
        text.chars().count()
    );
    for s in &sent {
        assert!(s.content().encode_utf16().count() <= 2000);
        assert_eq!(
            s.body["allowed_mentions"],
            json!({"parse": [], "users": [], "roles": [], "replied_user": false})
        );
    }
    let first = sent[0].content();
    assert!(
        first.starts_with("@\u{200B}everyone \\*\\*look\\*\\* \\<@123> \\_x\\_\n\\# not a title\n"),
        "{first}"
    );
    assert_eq!(sent[0].reply_to(), Some(asked.to_string()));
    assert_eq!(sent[1].reply_to(), None);
    assert!(sent[..2].iter().all(|s| s.buttons().is_empty()));
    assert_eq!(
        sent[2].buttons(),
        vec![
            ("0:Yes".to_string(), "Yes".to_string()),
            ("1:No".into(), "No".into())
        ]
    );
    let words = |s: &str| s.split_whitespace().filter(|w| *w == "settings.").count();
    let total: usize = sent.iter().map(|s| words(s.content())).sum();
    assert_eq!(total, 110, "nothing lost or cut inside a word");
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_id_as_chat_is_delivered_in_a_dm() {
    let fake = FakeDiscord::start().await;
    fake.add_user(55, "mei");
    let run = start(&fake, &[]).await;
    run.adapter
        .deliver(&envelope("dm-1", outbound(55, "Your case C-1001 is open")))
        .await
        .expect("delivered");
    let dm = fake.dm_channel(55);
    assert_eq!(fake.sent_in(dm)[0].content(), "Your case C-1001 is open");
    let unknown = run
        .adapter
        .deliver(&envelope("dm-2", outbound(66, "hi")))
        .await;
    assert!(
        matches!(unknown, Err(SendError::Permanent(_))),
        "{unknown:?}"
    );
    let bad = run
        .adapter
        .deliver(&envelope(
            "dm-3",
            Outbound {
                chat: "web-session".into(),
                ..outbound(1, "x")
            },
        ))
        .await;
    assert!(matches!(bad, Err(SendError::Permanent(_))), "{bad:?}");
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_classified_for_the_outbox() {
    let fake = FakeDiscord::start().await;
    let general = fake.add_guild_channel("general");
    let run = start(&fake, &[]).await;
    fake.fail_next_posts(&[
        Failure::RateLimited(1.5),
        Failure::Status(500),
        Failure::Status(403),
    ]);
    let e = envelope("f-1", outbound(general, "hello"));
    let r = run.adapter.deliver(&e).await;
    assert!(
        matches!(r, Err(SendError::RetryAfter(d)) if d == Duration::from_millis(1500)),
        "{r:?}"
    );
    assert!(matches!(
        run.adapter.deliver(&e).await,
        Err(SendError::Transient(_))
    ));
    assert!(matches!(
        run.adapter.deliver(&e).await,
        Err(SendError::Permanent(_))
    ));
    run.adapter.deliver(&e).await.expect("then it goes through");
    assert_eq!(fake.sent_in(general).len(), 1);
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_never_repeats_pieces_already_posted() {
    let fake = FakeDiscord::start().await;
    let general = fake.add_guild_channel("general");
    let run = start(&fake, &[]).await;
    let text = "word ".repeat(700);
    let e = envelope("r-1", outbound(general, &text));
    fake.fail_next_posts(&[Failure::Pass, Failure::Status(502)]);
    assert!(matches!(
        run.adapter.deliver(&e).await,
        Err(SendError::Transient(_))
    ));
    assert_eq!(fake.sent_in(general).len(), 1);
    run.adapter.deliver(&e).await.expect("retried");
    assert_eq!(fake.sent_in(general).len(), 2);
    run.stop().await;
    // A new process knows nothing of the first attempt: Discord's nonce check returns the messages made.
    let again = start(&fake, &[]).await;
    again.adapter.deliver(&e).await.expect("delivered again");
    assert_eq!(
        fake.sent_in(general).len(),
        2,
        "no duplicate after a restart"
    );
    assert_eq!(
        fake.message_posts(),
        5,
        "ok + 502, the retried piece, two nonce hits"
    );
    again.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pressed_button_is_a_message_and_is_acknowledged_in_time() {
    let fake = FakeDiscord::start().await;
    let run = start(&fake, &[]).await;
    fake.dm(42, "hello");
    run.sink.wait_new(1).await;
    let mut out = outbound(42, "Did this help?");
    out.buttons = vec!["有帮助".into(), "没有帮助".into()];
    run.adapter
        .deliver(&envelope("b-1", out))
        .await
        .expect("delivered");
    let question = fake.wait_sent_in(fake.dm_channel(42), 1).await[0].clone();
    let (custom_id, _) = question.buttons()[1].clone();
    let press = fake.press(42, question.id, &custom_id);
    let got = run.sink.wait_new(2).await;
    let m = &got[1];
    assert_eq!(m.text, "没有帮助");
    assert_eq!(m.id, format!("int:{press}"));
    assert_eq!(
        (m.chat.as_str(), m.user.as_str(), m.group),
        ("42", "42", false)
    );
    assert_eq!(m.reply_to, Some(question.id.to_string()));
    let ack = fake
        .wait_for("the acknowledgement", Duration::from_secs(5), |f| {
            f.acks().first().cloned()
        })
        .await;
    assert_eq!((ack.id, ack.kind), (press, 6));
    assert!(ack.after < Duration::from_secs(3), "{:?}", ack.after);
    run.stop().await;
}

fn case_out(room: u64, text: &str) -> Outbound {
    Outbound {
        case: Some("C-1001".into()),
        ..outbound(room, text)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_case_gets_a_thread_under_the_room_and_operators_answer_there() {
    let fake = FakeDiscord::start().await;
    let room = fake.add_guild_channel("mail-team");
    let run = start(&fake, &[room]).await;
    let card_text = "New case C-1001 · team mail · P1 · telegram · Li Lei (zh)\nProblem: 554 DT:SPM\nTake it: /take C-1001";
    run.adapter
        .deliver(&envelope("c-1", case_out(room, card_text)))
        .await
        .expect("card");
    let card = fake.sent_in(room)[0].clone();
    assert!(card.content().starts_with("New case C-1001"));
    assert_eq!(
        run.adapter.sent_message_id("c-1"),
        Some(card.id.to_string()),
        "the engine learns the card's id"
    );
    let (parent, name) = fake.thread(card.id).expect("a thread hangs from the card");
    assert_eq!(
        (parent, name.as_str()),
        (room, "C-1001 · team mail · P1 · telegram · Li Lei (zh)")
    );
    run.adapter
        .deliver(&envelope(
            "c-2",
            case_out(room, "[C-1001] Li Lei (telegram): still failing"),
        ))
        .await
        .expect("relay");
    assert_eq!(
        fake.sent_in(room).len(),
        1,
        "the relay went to the thread, not the room"
    );
    assert_eq!(
        fake.sent_in(card.id)[0].content(),
        "\\[C-1001\\] Li Lei (telegram): still failing"
    );

    fake.user_writes(UserMessage::new(
        card.id,
        7001,
        "please clear the spam folder",
    ));
    fake.user_writes(UserMessage::new(card.id, 7001, "/close fixed by settings"));
    fake.user_writes(UserMessage::new(room, 7002, "coffee anyone?"));
    fake.user_writes(UserMessage {
        reply_to: Some(card.id),
        ..UserMessage::new(room, 7002, "I can look at it")
    });
    let got = run.sink.wait_new(3).await;
    let in_chat = |chat: u64| -> Vec<String> {
        got.iter()
            .filter(|m| m.chat == chat.to_string())
            .map(|m| m.text.clone())
            .collect()
    };
    // Order holds within a chat; the thread and the room are different chats.
    assert_eq!(
        in_chat(card.id),
        vec![
            "/reply C-1001 please clear the spam folder",
            "/close C-1001 fixed by settings"
        ]
    );
    assert_eq!(in_chat(room), vec!["/reply C-1001 I can look at it"]);
    assert!(got.iter().all(|m| m.group && m.mention));
    run.stop().await;

    // After a restart the map is rebuilt from the thread's name.
    let again = start(&fake, &[room]).await;
    fake.user_writes(UserMessage::new(card.id, 7001, "back again"));
    let got = again.sink.wait_new(1).await;
    assert_eq!(got[0].text, "/reply C-1001 back again");
    again
        .adapter
        .deliver(&envelope("c-3", case_out(room, "[C-1001] Li Lei: thanks")))
        .await
        .expect("relay");
    assert_eq!(fake.sent_in(room).len(), 1, "no second card");
    assert_eq!(fake.sent_in(card.id).len(), 2);
    again.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_thread_start_is_retried_without_a_second_card() {
    let fake = FakeDiscord::start().await;
    let room = fake.add_guild_channel("mail-team");
    let run = start(&fake, &[room]).await;
    fake.fail_next_threads(&[Failure::Status(503)]);
    let card = envelope("t-1", case_out(room, "New case C-1001 · team mail"));
    let first = run.adapter.deliver(&card).await;
    assert!(matches!(first, Err(SendError::Transient(_))), "{first:?}");
    assert_eq!(fake.sent_in(room).len(), 1, "the card itself went out");
    run.adapter
        .deliver(&card)
        .await
        .expect("the retry starts the thread");
    assert_eq!(fake.sent_in(room).len(), 1, "no second card");
    let card_id = fake.sent_in(room)[0].id;
    assert_eq!(fake.thread(card_id).map(|t| t.0), Some(room));
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_thread_is_replaced_by_a_new_card_and_thread() {
    let fake = FakeDiscord::start().await;
    let room = fake.add_guild_channel("mail-team");
    let run = start(&fake, &[room]).await;
    run.adapter
        .deliver(&envelope("d-1", case_out(room, "New case C-1001")))
        .await
        .expect("card");
    let old = fake.sent_in(room)[0].id;
    fake.delete_channel(old);
    let relay = envelope("d-2", case_out(room, "[C-1001] user: hello?"));
    let gone = run.adapter.deliver(&relay).await;
    assert!(matches!(gone, Err(SendError::Transient(_))), "{gone:?}");
    run.adapter
        .deliver(&relay)
        .await
        .expect("delivered on retry");
    let cards = fake.sent_in(room);
    assert_eq!(cards.len(), 2, "a new card for the case");
    assert_eq!(cards[1].content(), "\\[C-1001\\] user: hello?");
    assert!(fake.thread(cards[1].id).is_some(), "with a new thread");
    run.stop().await;
}
