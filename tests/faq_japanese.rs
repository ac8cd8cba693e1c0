//! Japanese in the knowledge base: `questions.ja` / `answer.ja` are checked like the other languages, a
//! Japanese question is matched and answered in Japanese, and an entry without Japanese answers in English
//! (with `lang` saying so in `ask --json`).

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use supportbot::faq::{Action, Faq, FaqSource, Lang};

/// One entry with Japanese, one without.
const TWO_ENTRIES: &str = r#"
[[faq]]
id = "bounce"
category = "mail"
questions.zh = ["邮件被退回", "发信被退信了"]
questions.en = ["mail bounced", "my message was returned"]
questions.ja = ["メールが返送された", "送ったメールが戻ってくる"]
answer.zh = "检查敏感词。"
answer.en = "Check for sensitive words."
answer.ja = "禁止語が含まれていないか確認してください。"

[[faq]]
id = "filter"
category = "features"
questions.zh = ["无法设置过滤规则", "分类规则保存不了"]
questions.en = ["filter rules won't save", "cannot create a sorting rule"]
answer.zh = "请升级浏览器。"
answer.en = "Update your browser."
"#;

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_supportbot"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run supportbot");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn faq_dir(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("faq.toml"), text).unwrap();
    dir
}

fn has_kana(text: &str) -> bool {
    text.chars().any(|c| ('\u{3041}'..='\u{30fa}').contains(&c))
}

#[test]
fn a_japanese_question_gets_the_japanese_answer_of_the_builtin_faq() {
    let faq = Faq::builtin();
    let d = faq.decide("QQメールのアカウントが乗っ取られたかもしれない");
    assert_eq!(d.action, Action::Answer, "{d:?}");
    assert_eq!(d.lang, Lang::Ja);
    assert_eq!(d.faq.as_deref(), Some("account-stolen"));
    let answer = d.answer.unwrap();
    assert!(
        has_kana(&answer) && answer.contains("aq.qq.com"),
        "{answer}"
    );
    // The same entry in Chinese and English is still reached as before.
    assert_eq!(faq.decide("QQ邮箱被盗了怎么办").faq, d.faq);
    // `/lang ja` forces Japanese for an English question.
    let forced = faq.decide_in("my mail bounced with 554 DT:SPM", Lang::Ja);
    assert_eq!(forced.lang, Lang::Ja);
    assert!(forced.answer.unwrap().contains("ssl.smtp.qq.com に"));
}

#[test]
fn every_builtin_entry_has_japanese_questions_and_answer() {
    for e in Faq::builtin().entries() {
        let questions = e.questions.ja.as_ref().expect("questions.ja");
        if e.handoff {
            // A handoff entry marks a topic left to people with a few questions, and has no answer.
            assert!(
                !questions.is_empty() && questions.iter().all(|q| has_kana(q)),
                "{}",
                e.id
            );
            assert!(e.answer.ja.is_none(), "{}", e.id);
            continue;
        }
        assert!(
            questions.len() >= 5,
            "{}: {} variants",
            e.id,
            questions.len()
        );
        assert!(questions.iter().all(|q| has_kana(q)), "{}", e.id);
        assert!(has_kana(e.answer.ja.as_deref().expect("answer.ja")));
    }
}

#[test]
fn japanese_requests_for_a_person_and_small_talk_are_not_answered_from_an_entry() {
    let faq = Faq::builtin();
    for q in [
        "オペレーターにつないでください",
        "人間と話したい",
        "担当者と話す",
    ] {
        assert!(faq.is_human_request(q), "{q}");
        assert_eq!(faq.decide(q).action, Action::Handoff, "{q}");
    }
    // 人工知能 (artificial intelligence) is not the Chinese request 人工.
    assert!(!faq.is_human_request("人工知能で自動回答できますか"));
    let thanks = faq.decide("ありがとうございました");
    assert_eq!((thanks.action, thanks.lang), (Action::Smalltalk, Lang::Ja));
    assert!(has_kana(&thanks.answer.unwrap()));
    assert_eq!(
        faq.decide("弁護士に相談して訴えます").action,
        Action::Handoff
    );
}

#[test]
fn an_entry_without_japanese_answers_a_japanese_user_in_english() {
    let faq = Faq::from_source(FaqSource::from_files(vec![(
        "faq.toml".into(),
        TWO_ENTRIES.into(),
    )]))
    .unwrap();
    let ja = faq.decide("送ったメールが返送されてしまう");
    assert_eq!(
        (ja.action, ja.lang, ja.faq.as_deref()),
        (Action::Answer, Lang::Ja, Some("bounce"))
    );
    assert_eq!(
        ja.answer.as_deref(),
        Some("禁止語が含まれていないか確認してください。")
    );
    let fallback = faq.decide_in("filter rules won't save", Lang::Ja);
    assert_eq!(
        (fallback.action, fallback.lang, fallback.faq.as_deref()),
        (Action::Answer, Lang::En, Some("filter"))
    );
    assert_eq!(fallback.answer.as_deref(), Some("Update your browser."));
}

#[test]
fn ask_json_reports_the_language_of_the_answer() {
    let dir = faq_dir(TWO_ENTRIES);
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("supportbot.toml");
    std::fs::write(
        &config,
        format!("[bot]\nfaq_dir = {:?}\n", dir.path().display().to_string()),
    )
    .unwrap();
    let out = run(
        &["ask", "--json", "--config", config.to_str().unwrap()],
        "送ったメールが返送されてしまう\nfilter rules won't save\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["lang"], "ja", "{}", lines[0]);
    assert_eq!(lines[0]["faq"], "bounce");
    assert_eq!(lines[1]["lang"], "en");
    // The built-in FAQ.
    let out = run(&["ask", "--json", "アカウントを凍結する方法を知りたい"], "");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["lang"].as_str(), v["action"].as_str()),
        (Some("ja"), Some("answer")),
        "{v}"
    );
}

/// `faq check` on one file: exit code and stderr.
fn check(text: &str) -> (Option<i32>, String, tempfile::TempDir) {
    let dir = faq_dir(text);
    let out = run(&["faq", "check", dir.path().to_str().unwrap()], "");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
        dir,
    )
}

#[test]
fn faq_check_validates_the_japanese_fields() {
    let (code, stderr, _dir) = check(TWO_ENTRIES);
    assert_eq!(code, Some(0), "{stderr}");
    let cases = [
        (
            TWO_ENTRIES.replace(
                "answer.ja = \"禁止語が含まれていないか確認してください。\"",
                "",
            ),
            2,
            "has `questions.ja` but no `answer.ja`",
        ),
        (
            TWO_ENTRIES.replace(
                "questions.ja = [\"メールが返送された\", \"送ったメールが戻ってくる\"]",
                "",
            ),
            2,
            "has `answer.ja` but no `questions.ja`",
        ),
        (
            TWO_ENTRIES.replace(
                "questions.ja = [\"メールが返送された\", \"送ったメールが戻ってくる\"]",
                "questions.ja = [\" \"]",
            ),
            2,
            "empty Japanese question list (`questions.ja`)",
        ),
        (
            TWO_ENTRIES.replace("禁止語が含まれていないか確認してください。", "  "),
            2,
            "empty Japanese answer (`answer.ja`)",
        ),
        (
            TWO_ENTRIES.replace("answer.ja =", "answer.jp ="),
            10,
            "unknown field `jp`",
        ),
    ];
    for (text, line, needle) in cases {
        let (code, stderr, dir) = check(&text);
        assert_eq!(code, Some(2), "{stderr}");
        let prefix = format!(
            "{}:{line}: ",
            Path::new(dir.path()).join("faq.toml").display()
        );
        assert!(
            stderr.starts_with(&prefix) && stderr.contains(needle),
            "expected {prefix}…{needle} in {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}
