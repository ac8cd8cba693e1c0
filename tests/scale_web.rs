//! Web chat and the inbox behind a plain load balancer: two `supportbot serve` processes on one PostgreSQL
//! database, a visitor's page connected to one and an operator working on the other. The visitor gets the
//! bot's answers, the operator's typing and reply live, each once and in order; reconnecting to the other
//! process gives the same history; an inbox page on either process sees the notices steps on the other one
//! produce; an inbox sign-in made on one process holds on the other until signed out on either.
#![cfg(all(feature = "webhook", feature = "web"))]

mod scale_support;
mod webhook_support;
#[path = "../adapters/web/tests/common/ws.rs"]
#[allow(dead_code)]
mod ws;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;
use webhook_support::{wait_until, Receiver, Serve};

const TOKEN: &str = "test-operator-token";

/// A page: its socket's frames as they arrive, and the socket to send on.
struct Page {
    frames: Arc<Mutex<Vec<Value>>>,
    out: SplitSink<ws::Ws, Message>,
    reader: tokio::task::JoinHandle<()>,
}

impl Page {
    fn new(socket: ws::Ws) -> Page {
        let (out, mut read) = socket.split();
        let frames = Arc::new(Mutex::new(Vec::new()));
        let seen = frames.clone();
        let reader = tokio::spawn(async move {
            while let Some(Ok(msg)) = read.next().await {
                let frame = match msg {
                    Message::Text(text) => serde_json::from_str(text.as_str()).unwrap(),
                    // Kept so that a failure shows why a socket closed.
                    Message::Close(close) => {
                        json!({"type": "closed", "code": close.map(|c| u16::from(c.code))})
                    }
                    _ => continue,
                };
                seen.lock().unwrap().push(frame);
            }
        });
        Page {
            frames,
            out,
            reader,
        }
    }

    /// The chat page of a visitor on `base`, continuing `session` when given.
    async fn chat(base: &str, session: Option<&str>) -> Page {
        let mut url = format!("{}/ws?lang=en", base.replacen("http", "ws", 1));
        if let Some(token) = session {
            url.push_str(&format!("&session={token}"));
        }
        Page::new(ws::connect(&url).await)
    }

    /// The inbox page of the operator token's operator on `base`.
    async fn inbox(base: &str) -> Page {
        let url = format!("{}/inbox/ws", base.replacen("http", "ws", 1));
        let bearer = format!("Bearer {TOKEN}");
        Page::new(
            ws::connect_with(&url, &[("authorization", &bearer)])
                .await
                .expect("the inbox socket opens"),
        )
    }

    async fn send(&mut self, frame: Value) {
        let sent = self.out.send(Message::Text(frame.to_string().into())).await;
        assert!(sent.is_ok(), "{sent:?}; frames: {:#?}", self.frames());
    }

    fn frames(&self) -> Vec<Value> {
        self.frames.lock().unwrap().clone()
    }

    /// Waits for a frame matching `pred`; returns the first one.
    async fn wait(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.wait_after(0, what, pred).await.1
    }

    /// Waits for a frame matching `pred` at or after position `from`; returns the first one and its position.
    async fn wait_after(
        &self,
        from: usize,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> (usize, Value) {
        let found = || {
            self.frames()
                .into_iter()
                .enumerate()
                .skip(from)
                .find(|(_, f)| pred(f))
        };
        wait_until(what, Duration::from_secs(30), || found().is_some()).await;
        found().unwrap()
    }

    /// The texts of the `message` frames from history or live, from the user or to them, as asked.
    fn texts(&self, history: bool, from_user: bool) -> Vec<String> {
        self.frames()
            .iter()
            .filter(|f| {
                f["type"] == "message"
                    && f["history"].as_bool().unwrap_or(false) == history
                    && (f["from"] == "user") == from_user
            })
            .map(|f| f["text"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The texts of the `message` frames sent to the page, live or from history as asked.
    fn messages(&self, history: bool) -> Vec<String> {
        self.texts(history, false)
    }

    async fn close(mut self) {
        let _ = self.out.send(Message::Close(None)).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.reader).await;
    }
}

fn is_message(f: &Value, text: &str) -> bool {
    f["type"] == "message" && f["text"].as_str().is_some_and(|t| t.contains(text))
}

/// How often each text occurs.
fn count(texts: &[String], text: &str) -> usize {
    texts.iter().filter(|t| t.contains(text)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_get_their_messages_from_either_process() {
    let Some(cluster) = supportbot_pg_cluster::shared() else {
        return;
    };
    let url = cluster.database("scale_web");
    let rx = Receiver::start(&[("/cb", scale_support::SECRET)], vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let callback = format!("{}/cb", rx.base);
    let a: Serve = scale_support::start(dir.path(), "a", &url, &callback);
    let b: Serve = scale_support::start(dir.path(), "b", &url, &callback);

    // Inbox pages on both processes, and a visitor on A.
    let inbox_a = Page::inbox(&a.base).await;
    let inbox_b = Page::inbox(&b.base).await;
    inbox_a
        .wait("inbox A ready", |f| f["type"] == "ready")
        .await;
    inbox_b
        .wait("inbox B ready", |f| f["type"] == "ready")
        .await;
    let mut visitor = Page::chat(&a.base, None).await;
    let session = visitor.wait("a session", |f| f["type"] == "session").await["session"]
        .as_str()
        .unwrap()
        .to_string();

    // The bot's answer, from A's own step, reaches the page on A.
    visitor
        .send(json!({"type": "message", "text": "554 DT:SPM 怎么办", "id": "q1"}))
        .await;
    visitor
        .wait("the bot's answer", |f| {
            f["type"] == "message" && f["reply_to"] == "q1"
        })
        .await;

    // A case, opened on A: `/human`, then the three intake questions skipped.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut from = visitor.frames().len();
    visitor
        .send(json!({"type": "message", "text": "/human", "id": "h1"}))
        .await;
    for i in 0..3 {
        let (at, asked) = visitor
            .wait_after(from, &format!("intake question {i}"), |f| {
                f["type"] == "message" && f["buttons"].as_array().is_some_and(|b| !b.is_empty())
            })
            .await;
        from = at + 1;
        let skip = asked["buttons"][0].as_str().unwrap().to_string();
        visitor
            .send(json!({"type": "button", "value": skip, "id": format!("s{i}")}))
            .await;
    }
    let case = visitor
        .wait("the case opened", |f| {
            f["type"] == "message" && f["case"].is_string()
        })
        .await["case"]
        .as_str()
        .unwrap()
        .to_string();

    // The operator takes it and replies on B: the visitor on A gets both live.
    let mut operator = inbox_b;
    operator
        .send(json!({"type": "action", "action": "take", "case": case}))
        .await;
    // The take's confirmation to the operator is a step of B: it reaches the inbox page on A too.
    inbox_a
        .wait("B's notice on A's inbox page", |f| {
            f["type"] == "message"
                && f["history"] != true
                && f["text"].as_str().is_some_and(|t| t.contains(&case))
        })
        .await;
    // The operator types on B: the page on A shows it (passed on, not stored).
    operator.send(json!({"type": "typing", "case": case})).await;
    visitor
        .wait("the operator typing, on A", |f| f["type"] == "typing")
        .await;
    operator
        .send(json!({"type": "action", "action": "reply", "case": case, "text": "请检查 SPF 记录"}))
        .await;
    visitor
        .wait("the operator's reply on A", |f| {
            is_message(f, "请检查 SPF 记录")
        })
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let live = visitor.messages(false);
    assert_eq!(count(&live, "请检查 SPF 记录"), 1, "once: {live:#?}");
    visitor.close().await;

    // The visitor's page reconnects to B: the same conversation, each message once, in order.
    let mut again = Page::chat(&b.base, Some(&session)).await;
    again
        .wait("the history", |f| is_message(f, "请检查 SPF 记录"))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        again.messages(true),
        live,
        "the history on B holds what the page on A was sent, once each, in order"
    );
    let asked = again.texts(true, true);
    assert_eq!(asked.len(), 5, "the visitor's own lines: {asked:#?}");
    assert_eq!(asked[0], "554 DT:SPM 怎么办");
    assert_eq!(asked[1], "/human");
    assert!(again.messages(false).is_empty(), "nothing pushed twice");

    // The visitor, now on B, writes in the case: the relay is a step of B, and the inbox page on A shows it
    // once.
    again
        .send(json!({"type": "message", "text": "还是收不到 554", "id": "q2"}))
        .await;
    inbox_a
        .wait("the visitor's message on A's inbox page", |f| {
            is_message(f, "还是收不到 554")
        })
        .await;
    operator
        .wait("the visitor's message on B's inbox page", |f| {
            is_message(f, "还是收不到 554")
        })
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (name, page) in [("A", &inbox_a), ("B", &operator)] {
        let notices = page.messages(false);
        assert_eq!(
            count(&notices, "还是收不到 554"),
            1,
            "inbox {name}: {notices:#?}"
        );
    }
    assert_eq!(
        inbox_a.messages(false),
        operator.messages(false),
        "both inbox pages show the same notices, in order"
    );

    // An inbox page opened later on A gets the notices as history.
    let later = Page::inbox(&a.base).await;
    later
        .wait("the notices as history", |f| {
            is_message(f, "还是收不到 554") && f["history"] == true
        })
        .await;
    assert_eq!(later.messages(true), inbox_a.messages(false));
    drop((a, b));
}

/// Argon2id hash of `password` (a fixed salt: the test needs no secrecy).
fn password_hash(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(b"scale-web-test-salt").unwrap();
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbox_sign_in_holds_on_every_process_until_signed_out() {
    let Some(cluster) = supportbot_pg_cluster::shared() else {
        return;
    };
    let url = cluster.database("scale_web_sign_in");
    let dir = tempfile::tempdir().unwrap();
    let callback = "http://127.0.0.1:9/cb";
    let zhao = format!(
        "[[operators]]\nname = \"Zhao\"\naccounts = [\"web:zhao\"]\nweb_password = \"{}\"\n",
        password_hash("zhao-password-123")
    );
    let start = |name: &str| {
        let config = scale_support::instance_config_with(dir.path(), name, &url, callback, &zhao);
        Serve::start(&config, &dir.path().join(format!("{name}.log")))
    };
    let (a, b) = (start("a"), start("b"));
    let http = reqwest::Client::new();

    // Signed in on A.
    let resp = http
        .post(format!("{}/inbox/login", a.base))
        .json(&json!({"name": "zhao", "password": "zhao-password-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cookie = resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = resp.json::<Value>().await.unwrap()["csrf"]
        .as_str()
        .unwrap()
        .to_string();

    // The cookie works on B: the API, and the inbox socket with its CSRF token.
    let me = |base: &str| {
        http.get(format!("{base}/inbox/me"))
            .header("cookie", &cookie)
            .send()
    };
    let on_b = me(&b.base).await.unwrap();
    assert_eq!(on_b.status(), 200);
    assert_eq!(on_b.json::<Value>().await.unwrap()["operator"], "web:zhao");
    let socket_url = format!("{}/inbox/ws", b.base.replacen("http", "ws", 1));
    let protocols = format!("supportbot.inbox, csrf.{csrf}");
    let socket = ws::connect_with(
        &socket_url,
        &[("cookie", &cookie), ("sec-websocket-protocol", &protocols)],
    )
    .await
    .expect("the inbox socket opens on B with a sign-in made on A");
    let page = Page::new(socket);
    let ready = page.wait("ready on B", |f| f["type"] == "ready").await;
    assert_eq!(ready["operator"], "web:zhao");

    // Signed out on B: over on A too, and B's open socket closes at its next check.
    let out = http
        .post(format!("{}/inbox/logout", b.base))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    assert_eq!(me(&a.base).await.unwrap().status(), 401);
    assert_eq!(me(&b.base).await.unwrap().status(), 401);
    drop((a, b));
}
