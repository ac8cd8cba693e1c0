//! `supportbot faq check|export` on good and broken FAQ directories: every problem is reported as
//! `file:line: problem` with exit code 2.

use std::path::Path;
use std::process::{Command, Output};

const GOOD: &str = r#"
[[faq]]
id = "bounce"
category = "mail"
questions.zh = ["邮件被退回"]
questions.en = ["mail bounced"]
patterns = ['554\s*dt:spm']
answer.zh = "检查敏感词。"
answer.en = "Check for sensitive words."
"#;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_supportbot"))
        .args(args)
        .output()
        .expect("run supportbot")
}

fn check_dir(files: &[(&str, &str)]) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let out = run(&["faq", "check", dir.path().to_str().unwrap()]);
    (out, dir)
}

/// Asserts a zero exit code, showing what the command printed to stderr otherwise.
fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Asserts exit code 2 and a `file:line: ...` message containing `needle`.
fn assert_reported(files: &[(&str, &str)], file: &str, line: usize, needle: &str) {
    let (out, dir) = check_dir(files);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    let prefix = format!("{}:{line}: ", Path::new(dir.path()).join(file).display());
    assert!(
        stderr.starts_with(&prefix),
        "expected prefix {prefix:?} in {stderr:?}"
    );
    assert!(stderr.contains(needle), "expected {needle:?} in {stderr:?}");
    assert_eq!(
        stderr.trim().lines().count(),
        1,
        "one clear sentence: {stderr:?}"
    );
}

#[test]
fn the_shipped_faq_is_valid() {
    let out = run(&["faq", "check", concat!(env!("CARGO_MANIFEST_DIR"), "/faq")]);
    assert_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok"));
}

#[test]
fn a_good_file_passes() {
    let (out, _dir) = check_dir(&[("mail.toml", GOOD)]);
    assert_ok(&out);
}

#[test]
fn toml_syntax_error() {
    assert_reported(
        &[("mail.toml", "[[faq]]\nid = \"x\nanswer.zh = 1\n")],
        "mail.toml",
        2,
        "",
    );
}

#[test]
fn missing_id() {
    let text = GOOD.replace("id = \"bounce\"\n", "");
    assert_reported(&[("mail.toml", &text)], "mail.toml", 2, "no `id`");
}

#[test]
fn missing_category() {
    let text = GOOD.replace("category = \"mail\"\n", "");
    assert_reported(&[("mail.toml", &text)], "mail.toml", 2, "no `category`");
}

#[test]
fn a_category_is_a_lowercase_name() {
    let text = GOOD.replace("category = \"mail\"", "category = \"Billing Team\"");
    assert_reported(&[("mail.toml", &text)], "mail.toml", 2, "lowercase letters");
}

#[test]
fn a_team_names_its_own_categories() {
    let text = GOOD.replace("category = \"mail\"", "category = \"billing-2\"");
    let (out, _dir) = check_dir(&[("billing.toml", &text)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_ok(&out);
    assert!(stdout.contains("(billing-2)"), "{stdout}");
}

#[test]
fn missing_question_in_either_language() {
    let zh = GOOD.replace("questions.zh = [\"邮件被退回\"]\n", "");
    assert_reported(&[("mail.toml", &zh)], "mail.toml", 2, "Chinese question");
    let en = GOOD.replace("questions.en = [\"mail bounced\"]", "questions.en = []");
    assert_reported(&[("mail.toml", &en)], "mail.toml", 2, "English question");
}

#[test]
fn missing_answer_in_either_language() {
    let zh = GOOD.replace("answer.zh = \"检查敏感词。\"\n", "");
    assert_reported(&[("mail.toml", &zh)], "mail.toml", 2, "Chinese answer");
    let en = GOOD.replace(
        "answer.en = \"Check for sensitive words.\"",
        "answer.en = \"  \"",
    );
    assert_reported(&[("mail.toml", &en)], "mail.toml", 2, "English answer");
}

#[test]
fn duplicate_id_across_files() {
    let other = format!("# another file\n\n{GOOD}");
    assert_reported(
        &[("a.toml", GOOD), ("b.toml", &other)],
        "b.toml",
        4,
        "duplicate id \"bounce\"",
    );
}

#[test]
fn invalid_regex_names_the_entry() {
    let text = GOOD.replace(r"554\s*dt:spm", r"554(dt");
    assert_reported(
        &[("mail.toml", &text)],
        "mail.toml",
        2,
        "entry \"bounce\" has an invalid pattern",
    );
}

#[test]
fn unknown_field_is_a_typo() {
    let text = GOOD.replace("patterns =", "patern =");
    assert_reported(
        &[("mail.toml", &text)],
        "mail.toml",
        7,
        "unknown field `patern`",
    );
}

#[test]
fn empty_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["faq", "check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no FAQ files"));
}

#[test]
fn export_prints_one_json_array() {
    let (_, dir) = check_dir(&[("mail.toml", GOOD)]);
    let out = run(&["faq", "export", dir.path().to_str().unwrap()]);
    assert_ok(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = json.as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["id"], "bounce");
    assert_eq!(entries[0]["answer"]["en"], "Check for sensitive words.");
}

#[test]
fn ask_works_from_any_directory_with_the_builtin_faq() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_supportbot"))
        .args(["ask", "--json", "发送邮件被退回，提示554 DT:SPM"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_ok(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["action"], "answer");
    assert_eq!(json["lang"], "zh");
    assert!(json["answer"].as_str().unwrap().contains("ssl.smtp.qq.com"));
    assert!(!json["candidates"].as_array().unwrap().is_empty());
}

#[test]
fn ask_explain_names_a_request_for_a_general_assistant() {
    let out = run(&["ask", "--explain", "明天天气预报怎么样"]);
    assert_ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "asks \"天气预报\", a request for a general assistant the FAQ never mentions"
        ),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("[handoff]"));
}

#[test]
fn an_always_human_phrase_in_an_entrys_questions_is_reported() {
    let entry = r#"
[[faq]]
id = "refund-progress"
category = "service"
questions.zh = ["退款多久到账", "退款进度怎么查"]
questions.en = ["where is my refund", "refund status"]
answer.zh = "5 个工作日内到账。"
answer.en = "Within 5 working days."
"#;
    let lexicon = "always_human = [\"退款\", \"投诉\"]\n";
    assert_reported(
        &[("billing.toml", entry), ("lexicon.toml", lexicon)],
        "billing.toml",
        2,
        "entry refund-progress can never be answered: its questions contain the always-human phrase 退款",
    );
    // Without the phrase in the lexicon the same entry is fine.
    let (out, _dir) = check_dir(&[
        ("billing.toml", entry),
        ("lexicon.toml", "always_human = [\"投诉\"]\n"),
    ]);
    assert_ok(&out);
}

#[test]
fn a_not_human_phrase_keeps_an_entry_whose_questions_contain_an_always_human_phrase() {
    // 报警器 (an alarm) contains the always-human 报警 (calling the police); the general lexicon lists it as an
    // exception, so a gas utility's entry about alarms is answered while a threat to call the police is not.
    let entry = r#"
[[faq]]
id = "gas-alarm"
category = "gas"
questions.zh = ["燃气报警器响了怎么办", "家里报警器一直叫"]
questions.en = ["the gas alarm is beeping", "gas detector keeps going off"]
answer.zh = "关闭燃气总阀，开窗通风，离开后拨打 96677。"
answer.en = "Close the main gas valve, open the windows, leave and call 96677."

[[faq]]
id = "bill-pay"
category = "billing"
questions.zh = ["怎么交燃气费", "燃气费在哪缴"]
questions.en = ["how do I pay my gas bill", "pay gas bill"]
answer.zh = "在 App 首页点“缴费”。"
answer.en = "Tap Pay on the app's home screen."
"#;
    let lexicon =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/faq/lexicon.toml")).unwrap();
    let (out, dir) = check_dir(&[("faq.toml", entry), ("lexicon.toml", &lexicon)]);
    assert_ok(&out);
    // The configuration lives outside the FAQ directory, whose every *.toml file is read as FAQ.
    let elsewhere = tempfile::tempdir().unwrap();
    let config = elsewhere.path().join("bot.toml");
    std::fs::write(
        &config,
        format!("[bot]\nfaq_dir = {:?}\n", dir.path().display().to_string()),
    )
    .unwrap();
    let ask = |query: &str| -> serde_json::Value {
        let out = run(&["ask", "--config", config.to_str().unwrap(), "--json", query]);
        assert_ok(&out);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let alarm = ask("燃气报警器一直在响");
    assert_eq!(alarm["action"], "answer");
    assert_eq!(alarm["faq"], "gas-alarm");
    assert_eq!(ask("再不修好我就报警")["action"], "handoff");
}

#[test]
fn lint_warns_about_thin_and_confusable_entries_and_exits_zero() {
    let faq = r#"
[[faq]]
id = "card-lost"
category = "account"
questions.zh = ["银行卡丢了怎么挂失"]
questions.en = ["lost my card", "I lost my card"]
answer.zh = "请致电热线。"
answer.en = "Call the hotline to block it."

[[faq]]
id = "card-stolen"
category = "account"
questions.zh = ["银行卡丢了或者被偷了怎么挂失"]
questions.en = ["card stolen", "my card was stolen"]
answer.zh = "请致电热线并报警。"
answer.en = "Call the hotline and the police."
"#;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("faq.toml"), faq).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/faq/lexicon.toml"),
        dir.path().join("lexicon.toml"),
    )
    .unwrap();
    let out = run(&["faq", "lint", dir.path().to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("entry card-lost has only 1 zh question(s)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("questions \"lost my card\" and \"I lost my card\" use the same words"),
        "{stdout}"
    );
    assert!(
        stdout.contains("entry card-lost is confusable with card-stolen"),
        "{stdout}"
    );
    assert!(stdout.contains("2 entries"), "{stdout}");
}

#[test]
fn the_general_lexicon_cancels_no_entry_of_other_products() {
    let root = env!("CARGO_MANIFEST_DIR");
    let lexicon = std::fs::read_to_string(format!("{root}/faq/lexicon.toml")).unwrap();
    for set in [
        "bankcard",
        "saas",
        "game",
        "govservice",
        "parcel",
        "telecom",
        "fooddelivery",
        "travel",
        "appliance",
        "courses",
        "ride",
        "insurance",
        "streaming",
        "clouddrive",
        "utility",
        "brokerage",
        "evcharging",
        "property",
        "hospital",
        "jobs",
        "airline",
        "tickets",
        "fitness",
        "shop",
        "bikeshare",
        "secondhand",
        "carrental",
        "campus",
    ] {
        let faq = std::fs::read_to_string(format!("{root}/tests/eval/{set}/faq.toml")).unwrap();
        let (out, _dir) = check_dir(&[("faq.toml", &faq), ("lexicon.toml", &lexicon)]);
        assert!(
            out.status.success(),
            "{set}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn lint_names_unanswered_questions_that_come_near_an_entry() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let event = |id: &str, text: &str| {
        serde_json::json!({"platform": "telegram", "chat": "42", "user": "42", "id": id, "text": text}).to_string()
    };
    let input = [
        event("m1", "邮件被打回来了，看不懂上面写的是啥意思"),
        event("m2", "邮件被打回来了，看不懂上面写的是啥意思"),
        event("m3", "王者荣耀账号被封了"),
    ]
    .join("\n");
    let mut replay = Command::new(env!("CARGO_BIN_EXE_supportbot"))
        .args(["replay", "--data", data.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut replay.stdin.take().unwrap(), input.as_bytes()).unwrap();
    assert!(replay.wait().unwrap().success());

    let faq = concat!(env!("CARGO_MANIFEST_DIR"), "/faq");
    let out = run(&["faq", "lint", faq, "--data", data.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let close: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("unanswered question"))
        .collect();
    assert_eq!(close.len(), 1, "{stdout}");
    assert!(
        close[0].contains("asked 2 time(s) is close to entry mail-bounce-554")
            && close[0].contains("邮件被打回来了，看不懂上面写的是啥意思")
            && close[0].contains("mail.toml:"),
        "{}",
        close[0]
    );
    // Without a data directory there is nothing to compare.
    let plain = run(&["faq", "lint", faq]);
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("unanswered question"));
}
