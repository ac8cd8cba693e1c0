//! A team in the inbox, in real browsers (headless Chromium over the DevTools protocol, one profile per
//! operator) against the real engine: a wrong password is refused, Wang and Lee sign in with their own names,
//! both see a new case, Wang takes it, Lee sees it taken by Wang, the user is told Wang joined, an FAQ suggestion
//! fills the reply box with its answer in the user's language, a canned reply found with `/` reaches the user
//! with its placeholders filled in, the cookie is out of the page's reach, and signing out ends the sign-in.
//!
//! Without a browser the test says so and passes, unless `SUPPORTBOT_REQUIRE_BROWSER=1`.
#![cfg(feature = "web")]

mod web_support;

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use serde_json::json;
use web_support::cdp::{find_browser, Browser, Page};
use web_support::*;

fn hash(password: &str) -> String {
    let salt = SaltString::encode_b64(b"browser-test-salt").unwrap();
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

const CANNED: &str = r#"
[[reply]]
id = "greeting"
title = "Greeting"
zh = "{user} 您好,我是 {operator},正在处理 {case}。"
en = "Hello {user}, this is {operator} from support. I'm looking at your case {case} now."

[[reply]]
id = "smtp-settings"
title = "SMTP settings"
en = "Use smtp.qq.com, port 465."
"#;

/// The test config with two operators who sign in to the inbox, and the canned replies file.
pub fn team_config(canned: &std::path::Path) -> String {
    let config = CONFIG.replace("[bot]\n", "[bot]\noperator_lang = \"en\"\n");
    assert_ne!(config, CONFIG);
    format!(
        "{config}canned_replies = {:?}\n\n[[teams]]\nname = \"mail\"\n\n[[operators]]\nname = \"Wang\"\nteams = [\"mail\"]\nweb_password = \"{}\"\n\n[[operators]]\nname = \"Lee\"\nteams = [\"mail\"]\nweb_password = \"{}\"\n",
        canned.display().to_string(),
        hash("wang-password-1"),
        hash("lee-password-22"),
    )
}

async fn sign_in(page: &mut Page, name: &str, password: &str) {
    page.eval("document.getElementById('name').value = ''; document.getElementById('password').value = ''")
        .await;
    page.type_into("#name", name).await;
    page.type_into("#password", password).await;
    page.click("#signin-btn").await;
}

/// Asks for a human and answers the intake's three questions; returns the case number.
async fn describe_case(ws: &mut Ws, answers: &[&str; 3]) -> String {
    send(ws, json!({"type": "message", "text": "/human"})).await;
    for answer in answers {
        next_of(ws, "message").await;
        send(ws, json!({"type": "message", "text": answer})).await;
    }
    let opened = next_where(ws, "message", |m| m.get("case").is_some()).await;
    opened["case"].as_str().unwrap().to_string()
}

fn save_png(name: &str, png: &[u8], scratch: &std::path::Path) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is not a PNG");
    assert!(
        png.len() > 10_000,
        "{name} looks empty ({} bytes)",
        png.len()
    );
    let dir = std::env::var_os("SUPPORTBOT_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| scratch.to_path_buf());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

fn queue_row(case: &str) -> String {
    format!("document.querySelector('#cases li[data-case=\"{case}\"]')")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_operators_share_the_queue() {
    let Some(binary) = find_browser() else {
        let required = std::env::var("SUPPORTBOT_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "SUPPORTBOT_REQUIRE_BROWSER=1 but no Chromium was found"
        );
        eprintln!("SKIPPED: no Chromium/Chrome found; the browser test did not run");
        return;
    };
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let canned = dir.path().join("canned.toml");
    std::fs::write(&canned, CANNED).unwrap();
    // A copy of the FAQ the inbox may teach (never the repository's own faq/).
    let faq_dir = dir.path().join("faq");
    std::fs::create_dir_all(&faq_dir).unwrap();
    for (name, text) in supportbot::faq::FaqSource::builtin().files() {
        let name = std::path::Path::new(name).file_name().unwrap();
        std::fs::write(faq_dir.join(name), text).unwrap();
    }
    let taught_dir = faq_dir.clone();
    let stack = Stack::start_with(dir, &team_config(&canned), move |c| {
        c.bot.faq_dir = taught_dir
    })
    .await;
    let wang_browser = Browser::launch(&binary, "en-US").await;
    let lee_browser = Browser::launch(&binary, "en-US").await;

    let mut wang = wang_browser.open(&stack.http("/inbox"), 1280, 820).await;
    sign_in(&mut wang, "wang", "not-the-password").await;
    let refusal = wang
        .wait_for(
            "!document.getElementById('signin-error').hidden && document.getElementById('signin-error').textContent",
            "the refusal of a wrong password",
        )
        .await;
    assert_eq!(refusal, "Wrong name or password.");
    sign_in(&mut wang, "Wang", "wang-password-1").await;
    wang.wait_for(
        "document.getElementById('live').textContent === 'live'",
        "Wang's inbox socket",
    )
    .await;
    // The page names who is signed in once its socket says so (that may come just after `live`).
    wang.wait_for(
        "document.getElementById('who').textContent === 'Wang (web:wang)'",
        "Wang's name on the page",
    )
    .await;
    // The sign-in cookie is HttpOnly: the page's scripts cannot read it.
    assert_eq!(wang.eval("document.cookie").await, "");

    let mut lee = lee_browser.open(&stack.http("/inbox"), 1280, 820).await;
    sign_in(&mut lee, "lee", "lee-password-22").await;
    lee.wait_for(
        "document.getElementById('live').textContent === 'live'",
        "Lee's inbox socket",
    )
    .await;

    // A visitor asks for a human: both inboxes show the new case, with the count in the title.
    let (mut user, _) = stack.chat().await;
    let case = describe_case(
        &mut user,
        &[
            "My mail bounced with 554 DT:SPM",
            "I sent a newsletter to 200 people",
            "554 DT:SPM",
        ],
    )
    .await;
    for page in [&mut wang, &mut lee] {
        page.wait_for(
            &format!("!!{}", queue_row(&case)),
            "the new case in the queue",
        )
        .await;
    }
    let title = wang.eval("document.title").await;
    assert!(title.as_str().unwrap().starts_with("(1) "), "{title}");
    // ... and a line in the notifications, with a Take button.
    let new_case = lee
        .wait_for(
            &format!("(document.querySelector('#feed li.new-case button.take-case[data-case=\"{case}\"]') || {{}}).parentNode && document.querySelector('#feed li.new-case .text').textContent"),
            "the new case in Lee's notifications",
        )
        .await;
    assert!(
        new_case
            .as_str()
            .unwrap()
            .starts_with(&format!("New case {case} for team ")),
        "{new_case}"
    );

    // Wang takes it with the keyboard: j opens the first case, t takes it.
    wang.call(
        "Input.dispatchKeyEvent",
        json!({"type": "keyDown", "key": "j", "text": "j"}),
    )
    .await;
    wang.wait_for(
        &format!("document.getElementById('case-id').textContent === '{case}'"),
        "the case opened by j",
    )
    .await;
    wang.call(
        "Input.dispatchKeyEvent",
        json!({"type": "keyDown", "key": "t", "text": "t"}),
    )
    .await;
    let joined = next_where(&mut user, "message", |m| {
        m["text"].as_str().is_some_and(|t| t.contains("has joined"))
    })
    .await;
    assert!(
        joined["text"]
            .as_str()
            .unwrap()
            .starts_with("Wang from support"),
        "{joined}"
    );
    // Wang's notifications say so in words for the page, the case number a link, no chat command in sight.
    let took = wang
        .wait_for(
            "[].map.call(document.querySelectorAll('#feed li.notice .text'), function (n) { return n.textContent; }).filter(function (t) { return t.indexOf('You took') === 0; })[0]",
            "Wang's notice of the take",
        )
        .await;
    let took = took.as_str().unwrap();
    assert!(
        took.starts_with(&format!("You took {case} ("))
            && took.ends_with("). Type your reply below."),
        "{took}"
    );
    let feed = wang
        .eval("document.getElementById('feed').textContent")
        .await;
    assert!(!feed.as_str().unwrap().contains("/reply"), "{feed}");
    assert_eq!(
        wang.eval(&format!("[].filter.call(document.querySelectorAll('#feed li.notice'), function (li) {{ return li.textContent.indexOf('You took') >= 0; }})[0].querySelectorAll('button.case-link[data-case=\"{case}\"]').length")).await,
        1,
        "the case number in the notice is a link"
    );
    // Lee sees the case taken, by Wang.
    lee.wait_for(
        &format!(
            "{0} && {0}.textContent.includes('web:wang') && {0}.querySelector('.badge.assigned')",
            queue_row(&case)
        ),
        "the case taken by Wang in Lee's queue",
    )
    .await;
    // Lee's Take on the new-case line comes too late: the page tells them who has it.
    lee.click(&format!("#feed button.take-case[data-case=\"{case}\"]"))
        .await;
    lee.wait_for(
        &format!("document.getElementById('feed').textContent.includes('{case} is already being handled by Wang.')"),
        "Lee told that Wang has the case",
    )
    .await;
    lee.click("#view-mine").await;
    lee.wait_for(
        &format!("!{}", queue_row(&case)),
        "Lee's own view without it",
    )
    .await;
    wang.click("#view-mine").await;
    wang.wait_for(
        &format!("!!{}", queue_row(&case)),
        "Wang's own view with it",
    )
    .await;

    // An FAQ suggestion puts its answer, in the user's language, into the reply box.
    let faq = wang
        .wait_for(
            "(document.querySelector('#suggestions button.answer') || {dataset: {}}).dataset.faq",
            "a suggested answer",
        )
        .await;
    let kb = stack.engine.faq();
    let entry = kb.entry(faq.as_str().unwrap()).unwrap();
    wang.click("#suggestions button.answer").await;
    assert_eq!(
        wang.eval("document.getElementById('reply').value").await,
        entry.answer.en.as_str()
    );
    wang.eval("document.getElementById('reply').value = ''")
        .await;

    // "/" lists the canned replies; typing narrows them, Enter inserts one with its placeholders filled.
    wang.type_into("#reply", "/").await;
    wang.wait_for(
        "document.querySelectorAll('#canned li[data-id]').length === 2",
        "the canned replies",
    )
    .await;
    wang.type_into("#reply", "greet").await;
    wang.wait_for(
        "document.querySelectorAll('#canned li[data-id]').length === 1",
        "the narrowed list",
    )
    .await;
    wang.call(
        "Input.dispatchKeyEvent",
        json!({"type": "keyDown", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}),
    )
    .await;
    let detail: serde_json::Value = stack
        .api(&format!("/api/cases/{case}"))
        .await
        .json()
        .await
        .unwrap();
    let expected = format!(
        "Hello {}, this is Wang from support. I'm looking at your case {case} now.",
        detail["user_name"].as_str().unwrap()
    );
    assert_eq!(
        wang.eval("document.getElementById('reply').value").await,
        expected.as_str()
    );
    wang.click("#send-reply").await;
    let got = next_where(&mut user, "message", |m| {
        m["text"]
            .as_str()
            .is_some_and(|t| t.contains("looking at your case"))
    })
    .await;
    assert_eq!(got["text"], expected.as_str());
    let detail: serde_json::Value = stack
        .api(&format!("/api/cases/{case}"))
        .await
        .json()
        .await
        .unwrap();
    let took = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "assigned")
        .unwrap();
    assert_eq!(
        (took["actor"].as_str(), took["actor_name"].as_str()),
        (Some("web:wang"), Some("Wang"))
    );
    assert_eq!(detail["assignee"], "web:wang");
    save_png("inbox-case.png", &wang.screenshot().await, stack.dir.path());

    // Wang closes the case, marking the suggested entry as the one that answered it: the user's question
    // becomes a new question of that entry in faq/taught.toml.
    wang.eval(&format!(
        "document.getElementById('answered-by').value = {}",
        json!(faq.as_str().unwrap())
    ))
    .await;
    wang.click("#close").await;
    wang.wait_for(
        "document.getElementById('feed').textContent.includes('is now a question of')",
        "the taught question",
    )
    .await;
    wang.wait_for(
        &format!("document.getElementById('feed').textContent.includes('{case} is closed; the user was asked for a rating.')"),
        "Wang's notice of the close",
    )
    .await;
    let taught = std::fs::read_to_string(faq_dir.join("taught.toml")).unwrap();
    assert!(
        taught.contains("question = \"My mail bounced with 554 DT:SPM\"")
            && taught.contains(&format!("faq = \"{}\"", faq.as_str().unwrap()))
            && taught.contains(&format!("case = \"{case}\"")),
        "{taught}"
    );
    assert!(supportbot::faq::Faq::load_dir(&faq_dir).is_ok());
    next_where(&mut user, "message", |m| {
        m["text"].as_str().is_some_and(|t| t.contains("closed"))
    })
    .await;
    let second = describe_case(&mut user, &["I cannot log in on my phone", "skip", "none"]).await;
    assert_ne!(second, case);

    // Lee finds the closed case by its error code, and sees it beside the user's new case.
    lee.type_into("#search", "DT:SPM status:closed").await;
    lee.eval("document.getElementById('search-form').requestSubmit()")
        .await;
    lee.wait_for(
        &format!("!document.getElementById('search-info').hidden && !!{} && document.querySelectorAll('#cases li').length === 1", queue_row(&case)),
        "the closed case found by its error code",
    )
    .await;
    save_png(
        "inbox-search.png",
        &lee.screenshot().await,
        stack.dir.path(),
    );
    lee.click("#search-clear").await;
    lee.click("#view-all").await;
    lee.wait_for(&format!("!!{}", queue_row(&second)), "the new case")
        .await;
    lee.click(&format!("#cases li[data-case=\"{second}\"]"))
        .await;
    lee.wait_for(
        &format!("!!document.querySelector('#earlier button[data-case=\"{case}\"]')"),
        "the earlier case beside the new one",
    )
    .await;

    // Signing out ends the sign-in: a reload shows the sign-in form again.
    wang.click("#signout").await;
    wang.wait_for(
        "!document.getElementById('signin').hidden",
        "the sign-in form",
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    wang.call("Page.reload", json!({})).await;
    wang.wait_for("document.readyState === 'complete'", "the reload")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        wang.eval("document.getElementById('app').hidden").await,
        true
    );
    // Lee, still signed in, keeps the inbox after a reload.
    lee.call("Page.reload", json!({})).await;
    lee.wait_for(
        "document.readyState === 'complete' && !!document.getElementById('live') && document.getElementById('live').textContent === 'live'",
        "Lee's inbox after a reload",
    )
    .await;
    drop(wang_browser);
    drop(lee_browser);
    stack.stop().await;
}
