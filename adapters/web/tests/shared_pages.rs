//! The web channel with shared mailboxes (several processes serving the same pages), against an in-test store
//! of mailboxes: the session key comes from the store, the bot's messages and the visitor's own lines are
//! posted there (only the former announced), pages get what is announced, a message posted while a
//! reconnecting page reads its history reaches that page once, and pages reconnect when listening starts
//! again.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::*;
use serde_json::{json, Value};
use supportbot_chat::{Letter, MailError, MailEvent, PageMail, Shutdown};
use supportbot_web::{chat_mailbox, SharedPages};
use tokio::sync::mpsc;

/// Mailboxes in memory, announcing live letters to every listener; `during_read` is posted (live) by the next
/// history read, before it returns, as another process delivering at that moment would.
#[derive(Default)]
struct Mailboxes {
    letters: Mutex<Vec<(Letter, bool)>>,
    next: AtomicU64,
    listeners: Mutex<Vec<mpsc::Sender<MailEvent>>>,
    during_read: Mutex<Option<String>>,
    key: Mutex<Option<String>>,
    sign_ins: Mutex<std::collections::HashMap<String, String>>,
}

impl Mailboxes {
    fn store(&self, mailbox: &str, body: &str, live: bool) -> u64 {
        let n = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let letter = Letter {
            mailbox: mailbox.to_string(),
            n,
            body: body.to_string(),
        };
        self.letters.lock().unwrap().push((letter.clone(), live));
        if live {
            for tx in self.listeners.lock().unwrap().iter() {
                tx.try_send(MailEvent::Posted(letter.clone())).unwrap();
            }
        }
        n
    }

    /// The letters of a mailbox: (text, announced).
    fn texts(&self, mailbox: &str) -> Vec<(String, bool)> {
        self.letters
            .lock()
            .unwrap()
            .iter()
            .filter(|(l, _)| l.mailbox == mailbox)
            .map(|(l, live)| {
                let v: Value = serde_json::from_str(&l.body).unwrap();
                (v["text"].as_str().unwrap().to_string(), *live)
            })
            .collect()
    }
}

#[async_trait]
impl PageMail for Mailboxes {
    async fn post(
        &self,
        mailbox: &str,
        body: &str,
        live: bool,
        _keep: usize,
    ) -> Result<u64, MailError> {
        Ok(self.store(mailbox, body, live))
    }

    async fn announce(&self, mailbox: &str, frame: &str) -> Result<(), MailError> {
        for tx in self.listeners.lock().unwrap().iter() {
            tx.try_send(MailEvent::Passing(mailbox.to_string(), frame.to_string()))
                .unwrap();
        }
        Ok(())
    }

    async fn recent(&self, mailbox: &str, limit: usize) -> Result<Vec<Letter>, MailError> {
        if let Some(body) = self.during_read.lock().unwrap().take() {
            self.store(mailbox, &body, true);
        }
        let mut all: Vec<Letter> = self
            .letters
            .lock()
            .unwrap()
            .iter()
            .filter(|(l, _)| l.mailbox == mailbox)
            .map(|(l, _)| l.clone())
            .collect();
        let start = all.len().saturating_sub(limit);
        Ok(all.split_off(start))
    }

    fn listen(&self, _shutdown: Shutdown) -> mpsc::Receiver<MailEvent> {
        let (tx, rx) = mpsc::channel(64);
        tx.try_send(MailEvent::Listening).unwrap();
        self.listeners.lock().unwrap().push(tx);
        rx
    }

    async fn session_key(&self, proposed: &str) -> Result<String, MailError> {
        let mut key = self.key.lock().unwrap();
        Ok(key.get_or_insert_with(|| proposed.to_string()).clone())
    }

    async fn save_sign_in(
        &self,
        key: &str,
        record: &str,
        _expires_ms: u64,
    ) -> Result<(), MailError> {
        self.sign_ins
            .lock()
            .unwrap()
            .insert(key.to_string(), record.to_string());
        Ok(())
    }

    async fn find_sign_in(&self, key: &str) -> Result<Option<String>, MailError> {
        Ok(self.sign_ins.lock().unwrap().get(key).cloned())
    }

    async fn end_sign_in(&self, key: &str) -> Result<(), MailError> {
        self.sign_ins.lock().unwrap().remove(key);
        Ok(())
    }

    async fn prune(&self, _age: Duration) -> Result<u64, MailError> {
        Ok(0)
    }
}

/// A channel whose pages go through `mail`, as one of several processes.
async fn start(mail: Arc<Mailboxes>) -> Server {
    let pages = SharedPages::open(mail).await.unwrap();
    start_with(Arc::new(tempfile::tempdir().unwrap()), Some(pages), |_| {}).await
}

/// The `message` frames' texts until (and with) the first one containing `last`.
async fn texts_until(ws: &mut Ws, last: &str) -> Vec<(String, bool)> {
    let mut texts = Vec::new();
    loop {
        let f = next_of(ws, "message").await;
        let text = f["text"].as_str().unwrap().to_string();
        let done = text.contains(last);
        texts.push((text, f["history"] == true));
        if done {
            return texts;
        }
    }
}

#[tokio::test]
async fn pages_get_mailbox_messages_once() {
    let mail = Arc::new(Mailboxes::default());
    mail.key
        .lock()
        .unwrap()
        .replace("a-key-another-process-made-0123".into());
    let web = start(mail.clone()).await;

    let mut ws = connect(&format!("ws://{}/ws?lang=en", web.addr)).await;
    let token = next_of(&mut ws, "session").await["session"]
        .as_str()
        .unwrap()
        .to_string();
    send(
        &mut ws,
        json!({"type": "message", "text": "hello", "id": "m1"}),
    )
    .await;
    let got = texts_until(&mut ws, "echo: hello").await;
    assert_eq!(got, [("echo: hello".to_string(), false)]);
    let session = web.core.inbound()[0].chat.clone();
    assert_eq!(
        mail.texts(&chat_mailbox(&session)),
        [
            ("hello".to_string(), false),
            ("echo: hello".to_string(), true)
        ],
        "the visitor's line is kept, the answer kept and announced"
    );
    drop(ws);

    // A token signed with the shared key is good on any process: a second channel on the same mailboxes
    // continues the session. A message posted while it reads the history reaches the page once.
    let other = start(mail.clone()).await;
    mail.during_read
        .lock()
        .unwrap()
        .replace(json!({"text": "posted meanwhile", "buttons": [], "attachments": []}).to_string());
    let mut again = connect(&format!("ws://{}/ws?lang=en&session={token}", other.addr)).await;
    assert_eq!(
        next_of(&mut again, "session").await["session"],
        token.as_str()
    );
    send(
        &mut again,
        json!({"type": "message", "text": "later", "id": "m2"}),
    )
    .await;
    let got = texts_until(&mut again, "echo: later").await;
    assert_eq!(
        got,
        [
            ("hello".to_string(), true),
            ("echo: hello".to_string(), true),
            ("posted meanwhile".to_string(), true),
            ("echo: later".to_string(), false),
        ],
        "history once, then live"
    );
    web.shutdown.cancel();
    other.shutdown.cancel();
}

#[tokio::test]
async fn pages_reconnect_when_listening_starts_again() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let mail = Arc::new(Mailboxes::default());
    let web = start(mail.clone()).await;
    let mut ws = connect(&format!("ws://{}/ws?lang=en", web.addr)).await;
    let token = next_of(&mut ws, "session").await["session"]
        .as_str()
        .unwrap()
        .to_string();
    send(
        &mut ws,
        json!({"type": "message", "text": "hello", "id": "m1"}),
    )
    .await;
    texts_until(&mut ws, "echo: hello").await;

    // The listener lost its connection and listens again: what was announced meanwhile was missed, so the
    // page is closed with 1012 and reconnects to read its mailbox.
    for tx in mail.listeners.lock().unwrap().iter() {
        tx.try_send(MailEvent::Listening).unwrap();
    }
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("closed within 5 s")
        {
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => continue,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(closed, Some(1012));
    let mut again = connect(&format!("ws://{}/ws?lang=en&session={token}", web.addr)).await;
    next_of(&mut again, "session").await;
    let history = texts_until(&mut again, "echo: hello").await;
    assert_eq!(
        history,
        [
            ("hello".to_string(), true),
            ("echo: hello".to_string(), true)
        ]
    );
    web.shutdown.cancel();
}
