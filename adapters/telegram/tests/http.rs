//! The channel's listener: webhook mode with its secret token, and attachment links that download through
//! the bot without revealing the token.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use support::fake_api::FakeTelegram;
use support::MemorySink;
use supportbot_chat::{InboundSink, Shutdown};
use supportbot_telegram::{connect, expected_webhook_secret, FileLinks, Settings, SECRET_HEADER};

const TOKEN: &str = "123456:HTTP-token";
const WAIT: Duration = Duration::from_secs(10);

fn free_addr() -> SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    probe.local_addr().expect("addr")
}

async fn start(
    fake: &FakeTelegram,
    sink: Arc<MemorySink>,
    webhook: bool,
) -> (SocketAddr, Shutdown, Vec<tokio::task::JoinHandle<()>>) {
    let addr = free_addr();
    let mut s = Settings::new(&fake.token);
    s.api_url = Some(fake.url.clone());
    s.poll_timeout = Duration::from_secs(1);
    s.listen = Some(addr);
    if webhook {
        s.webhook_url = Some("https://bot.example.com/telegram/webhook".into());
    }
    let shutdown = Shutdown::new();
    let telegram = connect(s).await.expect("connects");
    let tasks = telegram
        .start(sink as Arc<dyn InboundSink>, shutdown.clone())
        .await
        .expect("starts")
        .tasks;
    (addr, shutdown, tasks)
}

fn update(id: i64, text: &str) -> serde_json::Value {
    json!({"update_id": id, "message": {
        "message_id": id, "date": 1_764_036_000, "chat": {"id": 42, "type": "private", "first_name": "Li"},
        "from": {"id": 42, "is_bot": false, "first_name": "Li"}, "text": text,
    }})
}

#[tokio::test]
async fn webhook_checks_the_secret_and_answers_after_storing() {
    let fake = FakeTelegram::start(TOKEN).await;
    let sink = MemorySink::new();
    let (addr, shutdown, tasks) = start(&fake, Arc::clone(&sink), true).await;
    let set = fake.calls("setwebhook");
    assert_eq!(set.len(), 1);
    let secret = expected_webhook_secret(TOKEN);
    assert_eq!(set[0].body["secret_token"], json!(secret));
    assert_eq!(
        set[0].body["url"],
        json!("https://bot.example.com/telegram/webhook")
    );
    assert!(
        fake.calls("getupdates").is_empty(),
        "no polling in webhook mode"
    );

    let client = reqwest::Client::new();
    let url = format!("http://{addr}/telegram/webhook");
    let post = |secret: Option<&str>, body: String| {
        let mut req = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(s) = secret {
            req = req.header(SECRET_HEADER, s);
        }
        req.send()
    };
    let body = update(1, "hello").to_string();
    assert_eq!(post(None, body.clone()).await.unwrap().status(), 401);
    assert_eq!(
        post(Some("guess"), body.clone()).await.unwrap().status(),
        401
    );
    assert!(sink.accepted().is_empty());

    assert_eq!(
        post(Some(&secret), body.clone()).await.unwrap().status(),
        200
    );
    assert_eq!(sink.accepted()[0].text, "hello", "stored before the 200");
    assert_eq!(
        post(Some(&secret), body).await.unwrap().status(),
        200,
        "a redelivery is fine"
    );
    assert_eq!(sink.accepted().len(), 1);

    sink.fail_next(1);
    assert_eq!(
        post(Some(&secret), update(2, "later").to_string())
            .await
            .unwrap()
            .status(),
        503
    );
    assert_eq!(
        post(Some(&secret), "{not json".into())
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        post(Some(&secret), update(2, "later").to_string())
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(sink.accepted().len(), 2);

    shutdown.cancel();
    for t in tasks {
        tokio::time::timeout(WAIT, t)
            .await
            .expect("stops")
            .expect("no panic");
    }
}

#[tokio::test]
async fn attachment_links_download_through_the_listener() {
    let fake = FakeTelegram::start(TOKEN).await;
    let sink = MemorySink::new();
    let (addr, shutdown, tasks) = start(&fake, Arc::clone(&sink), false).await;
    let picture = b"\xFF\xD8\xFFfake-jpeg-bytes".to_vec();
    fake.private_photo(42, "Li", "PHOTO1", "登录报错截图", &picture);
    fake.private_document(42, "Li", "DOC1", "smtp 日志.log", b"550 5.7.1 rejected");
    let got = sink.wait_for(2, WAIT).await;
    assert_eq!(got[0].text, "登录报错截图");
    let photo = &got[0].attachments[0];
    assert_eq!(photo.size, picture.len() as u64);
    assert!(
        photo
            .url
            .starts_with(&format!("http://{addr}/telegram/file/PHOTO1/")),
        "{}",
        photo.url
    );
    assert!(!photo.url.contains("HTTP-token"));

    let client = reqwest::Client::new();
    let res = client.get(&photo.url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.bytes().await.unwrap().as_ref(), picture.as_slice());

    let doc = &got[1].attachments[0];
    assert_eq!(doc.name, "smtp 日志.log");
    let res = client.get(&doc.url).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/octet-stream");
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("UTF-8''smtp%20"),
        "{disposition}"
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"550 5.7.1 rejected");

    let tampered = photo.url.replace("PHOTO1", "DOC1");
    assert_eq!(client.get(&tampered).send().await.unwrap().status(), 403);
    let unsigned = photo.url.split('?').next().unwrap().to_string();
    assert_eq!(client.get(&unsigned).send().await.unwrap().status(), 403);
    let gone = FileLinks::new(format!("http://{addr}"), TOKEN).link("NO-SUCH-FILE", "x.png");
    assert_eq!(client.get(&gone).send().await.unwrap().status(), 404);
    assert_eq!(
        client
            .post(format!("http://{addr}/telegram/webhook"))
            .body("{}")
            .send()
            .await
            .unwrap()
            .status(),
        404,
        "no webhook endpoint while polling"
    );

    shutdown.cancel();
    for t in tasks {
        tokio::time::timeout(WAIT, t)
            .await
            .expect("stops")
            .expect("no panic");
    }
}
