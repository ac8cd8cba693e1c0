//! Japanese users through `supportbot replay` (the engine that `serve` runs): a question with kana is answered
//! in Japanese with Japanese buttons, `/lang ja` switches a conversation to Japanese, a Japanese locale sets the
//! language of a first command, and an entry without Japanese answers in English inside Japanese texts.

mod support;

use serde_json::Value;
use support::*;
use supportbot_chat::Inbound;

fn field<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn buttons(v: &Value) -> Vec<&str> {
    v["buttons"]
        .as_array()
        .map(|b| b.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn run_replay(config: &str, events: &[Inbound]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let input: String = events.iter().map(|e| line(e) + "\n").collect();
    let (out, stderr, status) = replay(&dir.path().join("data"), Some(&path), &input);
    assert!(status.status.success(), "{stderr}");
    out
}

fn to_chat<'a>(out: &'a [Value], chat: &str) -> Vec<&'a Value> {
    out.iter().filter(|v| field(v, "chat") == chat).collect()
}

fn has_kana(text: &str) -> bool {
    text.chars().any(|c| ('\u{3041}'..='\u{30fa}').contains(&c))
}

#[test]
fn a_japanese_question_is_answered_in_japanese_and_lang_ja_switches_a_conversation() {
    let events = [
        dm(
            "telegram",
            "61",
            "a1",
            "QQメールのアカウントが乗っ取られたかもしれない",
        ),
        dm("telegram", "61", "a2", "役に立った"),
        dm("telegram", "62", "b1", "my mail bounced with 554 DT:SPM"),
        dm("telegram", "62", "b2", "/lang ja"),
        dm("telegram", "62", "b3", "554 DT:SPM"),
        dm("telegram", "62", "b4", "/lang fr"),
        dm("telegram", "62", "b5", "/help"),
    ];
    let out = run_replay(CONFIG, &events);

    let a = to_chat(&out, "61");
    assert_eq!(a.len(), 2, "{a:#?}");
    let answer = field(a[0], "text");
    assert!(
        answer.contains("aq.qq.com") && answer.contains("この回答は役に立ちましたか"),
        "{answer}"
    );
    assert_eq!(buttons(a[0]), ["役に立った", "役に立たなかった"]);
    assert!(
        field(a[1], "text").contains("お役に立ててよかった"),
        "{a:#?}"
    );

    let b = to_chat(&out, "62");
    assert_eq!(b.len(), 5, "{b:#?}");
    assert!(field(b[0], "text").contains("Did this help"), "{b:#?}");
    assert!(
        field(b[1], "text").contains("日本語でお答えします"),
        "{b:#?}"
    );
    let after = field(b[2], "text");
    assert!(
        has_kana(after) && after.contains("ssl.smtp.qq.com"),
        "a message without words keeps the chosen language: {after}"
    );
    assert!(
        field(b[3], "text").contains("/lang ja") && has_kana(field(b[3], "text")),
        "{b:#?}"
    );
    assert!(field(b[4], "text").contains("/lang zh|en|ja"), "{b:#?}");
}

#[test]
fn lang_ja_holds_against_the_words_of_later_messages() {
    let events = [
        dm("telegram", "64", "c1", "/lang ja"),
        dm("telegram", "64", "c2", "my mail bounced with 554 DT:SPM"),
        dm("telegram", "64", "c3", "/lang en"),
        dm("telegram", "64", "c4", "メールが554で戻ってくる"),
    ];
    let out = run_replay(CONFIG, &events);
    let c = to_chat(&out, "64");
    assert_eq!(c.len(), 4, "{c:#?}");
    assert!(has_kana(field(c[1], "text")), "{c:#?}");
    assert!(field(c[1], "text").contains("ssl.smtp.qq.com"));
    assert!(field(c[2], "text").contains("English"), "{c:#?}");
    assert!(!has_kana(field(c[3], "text")), "{c:#?}");
}

#[test]
fn a_japanese_locale_sets_the_language_of_a_first_command() {
    let mut m = dm("telegram", "63", "d1", "/human");
    m.locale = Some("ja".into());
    let out = run_replay(CONFIG, &[m]);
    let d = to_chat(&out, "63");
    assert!(
        field(d[0], "text").contains("担当者におつなぎします"),
        "{d:#?}"
    );
    assert_eq!(buttons(d[0]), ["スキップ"]);
    // The words of the message win over the locale.
    let mut m = dm("telegram", "65", "e1", "my mail bounced with 554 DT:SPM");
    m.locale = Some("ja-JP".into());
    let out = run_replay(CONFIG, &[m]);
    assert!(field(to_chat(&out, "65")[0], "text").contains("Did this help"));
}

#[test]
fn an_entry_without_japanese_is_answered_in_english_inside_japanese_texts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("faq.toml"),
        r#"
[[faq]]
id = "filter"
category = "features"
questions.zh = ["无法设置过滤规则", "分类规则保存不了"]
questions.en = ["filter rules won't save", "cannot create a sorting rule"]
answer.zh = "请升级浏览器。"
answer.en = "Update your browser to Chrome 70 or later."
"#,
    )
    .unwrap();
    let config = format!(
        "{CONFIG}\n[bot]\nfaq_dir = {:?}\n",
        dir.path().display().to_string()
    );
    let events = [
        dm("telegram", "66", "f1", "/lang ja"),
        dm("telegram", "66", "f2", "filter rules won't save"),
    ];
    let out = run_replay(&config, &events);
    let f = to_chat(&out, "66");
    let answer = field(f[1], "text");
    assert!(
        answer.starts_with("Update your browser to Chrome 70")
            && answer.contains("この回答は役に立ちましたか"),
        "{answer}"
    );
    assert_eq!(buttons(f[1]), ["役に立った", "役に立たなかった"]);
}
