//! Two `supportbot serve` processes on one PostgreSQL database, the signed webhook channel on each: every
//! message of 1,000 conversations sent alternately to both is answered exactly once and in order, case numbers
//! are unique across the processes, and a case opened through one and taken by an operator on the other is
//! relayed both ways.
#![cfg(all(feature = "webhook", feature = "web"))]

mod scale_support;
mod webhook_support;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use scale_support::*;
use webhook_support::*;

const CONVERSATIONS: usize = 1000;
/// Conversations posted at once.
const SENDERS: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_answer_each_message_once_in_order_and_share_cases() {
    let Some(cluster) = supportbot_pg_cluster::shared() else {
        return;
    };
    let url = cluster.database("two_instances");
    let rx = Receiver::start(&[("/cb", SECRET)], vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let callback = format!("{}/cb", rx.base);
    let a = start(dir.path(), "a", &url, &callback);
    let b = start(dir.path(), "b", &url, &callback);
    let bases = Arc::new([a.base.clone(), b.base.clone()]);

    // 1,000 conversations, two questions each: the first to one instance, the second to the other.
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        let bases = bases.clone();
        senders.push(tokio::spawn(async move {
            for c in (s..CONVERSATIONS).step_by(SENDERS) {
                let chat = format!("c{c}");
                let first = c % 2;
                say(
                    &bases[first],
                    &chat,
                    &format!("{chat}-q1"),
                    "554 DT:SPM 怎么办",
                )
                .await;
                say(
                    &bases[1 - first],
                    &chat,
                    &format!("{chat}-q2"),
                    "怎么设置邮件自动回复",
                )
                .await;
            }
        }));
    }
    for s in senders {
        s.await.unwrap();
    }
    wait_until("every question answered", Duration::from_secs(180), || {
        let replies = rx.accepted("/cb");
        replies
            .iter()
            .filter(|a| {
                a.body["reply_to"]
                    .as_str()
                    .is_some_and(|r| r.contains("-q"))
            })
            .count()
            >= 2 * CONVERSATIONS
    })
    .await;
    // Let anything sent twice arrive before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let replies = rx.accepted("/cb");
    let keys: HashSet<&str> = replies.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys.len(), replies.len(), "an outbox item was sent twice");
    let mut per_chat: HashMap<String, Vec<String>> = HashMap::new();
    for a in &replies {
        if let (Some(chat), Some(to)) = (a.body["chat"].as_str(), a.body["reply_to"].as_str()) {
            per_chat
                .entry(chat.to_string())
                .or_default()
                .push(to.to_string());
        }
    }
    assert_eq!(per_chat.len(), CONVERSATIONS);
    for (chat, answered) in &per_chat {
        let expected = vec![format!("{chat}-q1"), format!("{chat}-q2")];
        assert_eq!(
            answered, &expected,
            "{chat}: each question answered once, in order"
        );
    }

    // Cases opened through both instances: numbers unique across them.
    for u in 0..6 {
        let chat = format!("h{u}");
        let steps = ["/human", "邮件发不出去, 554", "Skip", "Skip"];
        for (i, text) in steps.iter().enumerate() {
            say(&bases[(u + i) % 2], &chat, &format!("{chat}-{i}"), text).await;
        }
    }
    wait_until("six cases opened", Duration::from_secs(60), || {
        (0..6).all(|u| {
            to_chat(&rx, &format!("h{u}"))
                .iter()
                .any(|b| b["case"].is_string())
        })
    })
    .await;
    let numbers: HashSet<String> = (0..6)
        .filter_map(|u| {
            to_chat(&rx, &format!("h{u}"))
                .iter()
                .find_map(|b| b["case"].as_str().map(String::from))
        })
        .collect();
    assert_eq!(numbers.len(), 6, "case numbers are unique: {numbers:?}");

    // A case opened through A... (h0's first message went to A) is taken on B; the user's next message, to
    // A, reaches the operator, and the operator's answer, to A, reaches the user.
    let case = to_chat(&rx, "h0")
        .iter()
        .find_map(|b| b["case"].as_str().map(String::from))
        .unwrap();
    say(&bases[1], "op1", "op1-take", &format!("/take {case}")).await;
    wait_until("the user told who joined", Duration::from_secs(30), || {
        to_chat(&rx, "h0")
            .iter()
            .any(|b| b["text"].as_str().is_some_and(|t| t.contains("Wang")))
    })
    .await;
    say(&bases[0], "h0", "h0-after", "还是收不到 554").await;
    wait_until("relayed to the operator", Duration::from_secs(30), || {
        to_chat(&rx, "op1").iter().any(|b| {
            b["text"]
                .as_str()
                .is_some_and(|t| t.contains("还是收不到 554"))
        })
    })
    .await;
    say(&bases[0], "op1", "op1-reply", "请检查 SPF 记录").await;
    wait_until("relayed to the user", Duration::from_secs(30), || {
        to_chat(&rx, "h0").iter().any(|b| {
            b["text"]
                .as_str()
                .is_some_and(|t| t.contains("请检查 SPF 记录"))
        })
    })
    .await;
    drop((a, b));
}
