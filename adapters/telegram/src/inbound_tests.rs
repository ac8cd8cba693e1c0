//! Tests of update normalisation on messages as Telegram sends them (JSON).

use serde_json::{json, Value};
use supportbot_chat::AttachmentKind;
use teloxide::types::{CallbackQuery, Message, UserId};

use super::*;

fn me() -> BotIdentity {
    BotIdentity {
        id: UserId(999),
        username: "qq_support_bot".into(),
    }
}

fn user(id: i64) -> Value {
    json!({"id": id, "is_bot": false, "first_name": "Li", "last_name": "Lei"})
}

fn group_message(text: &str, entities: Value) -> Value {
    json!({
        "message_id": 17, "date": 1_764_036_000,
        "chat": {"id": -100200, "type": "supergroup", "title": "Users"},
        "from": user(42), "text": text, "entities": entities,
    })
}

fn parse(v: Value) -> Message {
    serde_json::from_value(v).expect("a valid Telegram message")
}

#[test]
fn private_message_is_addressed_and_keyed_by_chat() {
    let msg = parse(json!({
        "message_id": 5, "date": 1_764_036_000, "chat": {"id": 42, "type": "private", "first_name": "Li"},
        "from": user(42), "text": "554 DT:SPM 怎么办",
    }));
    let inbound = from_message(&msg, &me(), None).expect("kept");
    assert_eq!(inbound.platform, "telegram");
    assert_eq!(inbound.chat, "42");
    assert_eq!(inbound.user, "42");
    assert_eq!(inbound.name, "Li Lei");
    assert_eq!(inbound.id, "42:5");
    assert!(inbound.mention && !inbound.group);
    assert_eq!(inbound.text, "554 DT:SPM 怎么办");
    assert_eq!(inbound.ts.unwrap().timestamp(), 1_764_036_000);
}

#[test]
fn group_message_without_address_is_ignored() {
    let msg = parse(group_message(
        "hello everyone @someone_else",
        json!([
            {"type": "mention", "offset": 15, "length": 13}
        ]),
    ));
    assert!(from_message(&msg, &me(), None).is_none());
}

#[test]
fn group_mention_is_addressed_and_removed_from_text() {
    // "你好 @qq_support_bot 554": the mention starts at UTF-16 offset 3.
    let msg = parse(group_message(
        "你好 @qq_support_bot 554",
        json!([
            {"type": "mention", "offset": 3, "length": 15}
        ]),
    ));
    let inbound = from_message(&msg, &me(), None).expect("addressed");
    assert!(inbound.group && inbound.mention);
    assert_eq!(inbound.chat, "-100200");
    assert_eq!(inbound.id, "-100200:17");
    assert_eq!(inbound.text, "你好 554");
}

#[test]
fn mention_matching_ignores_case() {
    let msg = parse(group_message(
        "@QQ_Support_Bot help",
        json!([
            {"type": "mention", "offset": 0, "length": 15}
        ]),
    ));
    assert_eq!(from_message(&msg, &me(), None).unwrap().text, "help");
}

#[test]
fn commands_for_this_bot_and_others() {
    let ours = parse(group_message(
        "/take@qq_support_bot C-1001",
        json!([
            {"type": "bot_command", "offset": 0, "length": 20}
        ]),
    ));
    let inbound = from_message(&ours, &me(), None).expect("addressed");
    assert_eq!(inbound.text, "/take C-1001");
    let theirs = parse(group_message(
        "/take@other_bot C-1001",
        json!([
            {"type": "bot_command", "offset": 0, "length": 15}
        ]),
    ));
    assert!(from_message(&theirs, &me(), None).is_none());
    let bare = parse(group_message(
        "/status",
        json!([{"type": "bot_command", "offset": 0, "length": 7}]),
    ));
    assert_eq!(from_message(&bare, &me(), None).unwrap().text, "/status");
}

#[test]
fn reply_to_the_bot_is_addressed() {
    let mut v = group_message("the fix did not work", json!([]));
    v["reply_to_message"] = json!({
        "message_id": 9, "date": 1_764_035_000, "chat": {"id": -100200, "type": "supergroup", "title": "Users"},
        "from": {"id": 999, "is_bot": true, "first_name": "Support", "username": "qq_support_bot"}, "text": "card",
    });
    let inbound = from_message(&parse(v), &me(), None).expect("addressed");
    assert_eq!(inbound.reply_to.as_deref(), Some("-100200:9"));
    assert_eq!(inbound.text, "the fix did not work");
}

#[test]
fn bots_and_text_mentions() {
    let mut from_bot = group_message(
        "@qq_support_bot hi",
        json!([{"type": "mention", "offset": 0, "length": 15}]),
    );
    from_bot["from"]["is_bot"] = json!(true);
    assert!(from_message(&parse(from_bot), &me(), None).is_none());
    let text_mention = group_message(
        "Support help",
        json!([
            {"type": "text_mention", "offset": 0, "length": 7, "user": {"id": 999, "is_bot": true, "first_name": "Support"}}
        ]),
    );
    assert!(
        from_message(&parse(text_mention), &me(), None)
            .unwrap()
            .mention
    );
}

#[test]
fn photos_take_the_largest_size_with_a_signed_link() {
    let msg = parse(json!({
        "message_id": 6, "date": 1_764_036_000, "chat": {"id": 42, "type": "private", "first_name": "Li"},
        "from": user(42), "caption": "报错截图",
        "photo": [
            {"file_id": "small", "file_unique_id": "s", "file_size": 100, "width": 90, "height": 60},
            {"file_id": "big", "file_unique_id": "b", "file_size": 5000, "width": 1280, "height": 720}
        ],
    }));
    let links = FileLinks::new("http://127.0.0.1:8081", "1:T");
    let inbound = from_message(&msg, &me(), Some(&links)).expect("kept");
    assert_eq!(inbound.text, "报错截图");
    assert_eq!(inbound.attachments.len(), 1);
    let a = &inbound.attachments[0];
    assert_eq!(a.kind, AttachmentKind::Image);
    assert_eq!(a.size, 5000);
    assert!(
        a.url
            .starts_with("http://127.0.0.1:8081/telegram/file/big/photo-b.jpg?sig="),
        "{}",
        a.url
    );
}

#[test]
fn documents_keep_their_name_and_empty_messages_are_dropped() {
    let msg = parse(json!({
        "message_id": 7, "date": 1_764_036_000, "chat": {"id": 42, "type": "private", "first_name": "Li"},
        "from": user(42),
        "document": {"file_id": "doc", "file_unique_id": "d", "file_size": 42, "file_name": "smtp.log", "mime_type": "text/plain"},
    }));
    let inbound = from_message(&msg, &me(), None).expect("kept");
    assert_eq!(inbound.attachments[0].name, "smtp.log");
    assert_eq!(inbound.attachments[0].kind, AttachmentKind::File);
    assert_eq!(
        inbound.attachments[0].url, "",
        "no links without a listener"
    );
    let sticker_like = parse(json!({
        "message_id": 8, "date": 1_764_036_000, "chat": {"id": 42, "type": "private", "first_name": "Li"},
        "from": user(42), "text": "   ",
    }));
    assert!(from_message(&sticker_like, &me(), None).is_none());
}

#[test]
fn button_presses_carry_the_label() {
    let query: CallbackQuery = serde_json::from_value(json!({
        "id": "777", "from": user(42), "chat_instance": "ci", "data": "i:1",
        "message": {
            "message_id": 30, "date": 1_764_036_000, "chat": {"id": 42, "type": "private", "first_name": "Li"},
            "from": {"id": 999, "is_bot": true, "first_name": "Support", "username": "qq_support_bot"},
            "text": "请选择",
            "reply_markup": {"inline_keyboard": [
                [{"text": "是", "callback_data": "t:是"}],
                [{"text": "一个很长很长的问题", "callback_data": "i:1"}]
            ]}
        }
    }))
    .unwrap();
    let press = from_callback(&query);
    assert_eq!(press.query_id, "777");
    let inbound = press.inbound.expect("label found");
    assert_eq!(inbound.text, "一个很长很长的问题");
    assert_eq!(inbound.id, "cb:777");
    assert_eq!(inbound.chat, "42");
    assert_eq!(inbound.reply_to.as_deref(), Some("42:30"));
    assert!(inbound.mention && !inbound.group);
}
