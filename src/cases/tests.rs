//! Cases on the in-memory store: the queue, transcript lines and events, case messages and cards.

use supportbot_chat::{CaseEventKind, Delivery};

use super::*;
use crate::store::fixtures::case;

fn open(ch: &mut Changes, number: u64, team: &str) -> CaseRecord {
    let mut c = case(number, team, &format!("web:u{number}"));
    c.opened_at = ch.now + chrono::Duration::seconds(number as i64);
    enqueue(ch, &c);
    save(ch, &c);
    c
}

#[tokio::test]
async fn the_queue_position_counts_waiting_cases_of_the_same_team_only() {
    let mut ch = Changes::scratch().await;
    let first = open(&mut ch, 1001, "mail");
    open(&mut ch, 1002, "security");
    let third = open(&mut ch, 1003, "mail");
    assert_eq!(waiting_numbers(&ch).await.unwrap(), vec![1001, 1002, 1003]);
    assert_eq!(queue_position(&ch, &first).await.unwrap(), 1);
    assert_eq!(queue_position(&ch, &third).await.unwrap(), 2);
    dequeue(&mut ch, &first);
    assert_eq!(queue_position(&ch, &third).await.unwrap(), 1);
    assert_eq!(load(&ch, 1003).await.unwrap().unwrap().team, "mail");
    assert!(load(&ch, 1004).await.unwrap().is_none());
}

#[tokio::test]
async fn user_messages_become_transcript_lines_and_events_and_notes_stay_internal() {
    let mut ch = Changes::scratch().await;
    let mut c = open(&mut ch, 1001, "mail");
    user_message(&mut ch, &mut c, "web:u1", "Li Lei", "still 554", &[]);
    entry(&mut ch, &mut c, "note", "Wang", "check the SPF record", &[]);
    entry(&mut ch, &mut c, "operator", "Wang", "please retry", &[]);
    assert_eq!(c.log_len, 4, "an entry and an event, then two entries");
    let tail = transcript_tail(&ch, &c, 10).await.unwrap();
    assert!(tail.contains("Li Lei: still 554"), "{tail}");
    assert!(tail.contains("Wang: please retry"), "{tail}");
    assert!(
        !tail.contains("SPF"),
        "notes are not in the user-facing tail: {tail}"
    );
    assert_eq!(
        transcript_tail(&ch, &c, 1).await.unwrap().lines().count(),
        1
    );
    let events = ch.into_parts().events;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, CaseEventKind::Message);
    assert_eq!(events[0].case, "C-1001");
}

#[tokio::test]
async fn a_reply_finds_its_case_by_envelope_by_platform_message_or_by_number() {
    let store = crate::store::Store::memory();
    let mut commit = crate::store::Commit::default();
    commit
        .writes
        .case_messages
        .insert("telegram:m1#0".into(), "C-1001".into());
    commit
        .writes
        .case_messages
        .insert("pm:telegram:-100:77".into(), "C-1002".into());
    crate::store::fixtures::commit(&store, commit).await;
    let step = store.begin_step("t").await.unwrap();
    let ch = Changes::new(step, crate::store::fixtures::now(), "t".into(), None);
    for (reply_to, expected) in [
        ("telegram:m1#0", Some(1001)),
        ("77", Some(1002)),
        ("c-1003", Some(1003)),
        ("78", None),
    ] {
        let found = case_of_message(&ch, "telegram", "-100", reply_to).await;
        assert_eq!(found.unwrap(), expected, "{reply_to}");
    }
}

#[tokio::test]
async fn a_card_goes_to_every_room_of_the_team_with_a_take_button() {
    let config = crate::config::Config::parse(
        "[[teams]]\nname = \"mail\"\ncategories = [\"mail\"]\nrooms = [\"telegram:-100\", \"discord:55\"]\n",
        "t.toml",
    )
    .unwrap();
    let mut ch = Changes::scratch().await;
    let c = open(&mut ch, 1001, "mail");
    post_card(&mut ch, &config, Lang::En, &c, 2);
    let sends = ch.into_parts().sends;
    let rooms: Vec<_> = sends
        .iter()
        .map(|(e, case_message)| {
            assert!(*case_message, "a card stands for its case");
            match &e.delivery {
                Delivery::Message(m) => {
                    assert_eq!(m.buttons, vec!["/take C-1001".to_string()]);
                    assert_eq!(m.case.as_deref(), Some("C-1001"));
                    format!("{}:{}", m.platform, m.chat)
                }
                Delivery::Event(_) => panic!("a card is a message"),
            }
        })
        .collect();
    assert_eq!(rooms, vec!["telegram:-100", "discord:55"]);
}
