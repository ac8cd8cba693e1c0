//! Records for tests: the unit tests of the store's backends, the cases and the outbox, and the integration tests
//! of the PostgreSQL store (hidden from the documentation; nothing of the product uses them).

use supportbot_chat::{Delivery, Envelope, Inbound, Outbound};

use super::records::{CaseRecord, Conversation, Line, OutboxRecord, StoredInbound};

/// Stores `commit` with a step of its own.
pub async fn commit(store: &super::Store, commit: super::Commit) -> super::Stored {
    let step = store.begin_step("test").await.unwrap();
    step.commit(commit).await.unwrap()
}

/// 2026-11-26 10:00 at +08:00.
pub fn now() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00+08:00").unwrap()
}

/// A private web conversation.
pub fn conversation(key: &str, name: &str) -> Conversation {
    serde_json::from_value(serde_json::json!({
        "key": key, "platform": "web", "chat": key, "user": key, "name": name, "group": false,
        "lang": "zh", "updated_at": "2026-11-26T10:00:00+08:00",
    }))
    .unwrap()
}

/// A waiting case of `team` opened by `account` on the web.
pub fn case(number: u64, team: &str, account: &str) -> CaseRecord {
    serde_json::from_value(serde_json::json!({
        "number": number, "status": "open", "team": team, "priority": 1, "lang": "zh",
        "account": account, "user_name": "Li Lei",
        "origin": {"platform": "web", "chat": "u1", "conversation": "web:u1"},
        "opened_at": "2026-11-26T10:00:00+08:00", "subject": "554 DT:SPM",
    }))
    .unwrap()
}

/// A user line of recent history.
pub fn line(text: &str) -> Line {
    Line {
        at: now(),
        role: "user".into(),
        text: text.into(),
        attachments: vec![],
        seq: None,
    }
}

/// An outbox item for a web chat.
pub fn outbox_item(seq: u64, chat: &str, text: &str) -> OutboxRecord {
    OutboxRecord {
        seq,
        created_ms: 0,
        envelope: Envelope {
            id: format!("web:m{seq}#0"),
            destination: "web".into(),
            order_key: format!("web:{chat}"),
            delivery: Delivery::Message(Outbound {
                platform: "web".into(),
                chat: chat.into(),
                text: text.into(),
                buttons: vec![],
                reply_to: None,
                case: None,
            }),
        },
    }
}

/// A received Telegram message.
pub fn inbound(id: &str) -> StoredInbound {
    StoredInbound {
        seq: 0,
        inbound: Inbound::direct("telegram", "42", "Li Lei", id, "你好"),
        oversized: None,
        throttled: false,
    }
}
