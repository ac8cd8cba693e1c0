//! The mailboxes of web pages on PostgreSQL (table `page_mail`): a letter is numbered from one sequence while
//! its transaction holds an advisory lock of its mailbox, so within a mailbox numbers increase in commit order;
//! a live letter is announced with `NOTIFY` in the same transaction (so only once it is stored), and every
//! process listens on a connection of its own.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use supportbot_chat::{Letter, MailError, MailEvent, PageMail, Shutdown};
use tokio::sync::mpsc;

use super::{big, db_error, unbig, PgStore};
use crate::store::StoreError;

/// The `LISTEN` / `NOTIFY` channel of live letters.
const CHANNEL: &str = "supportbot_page_mail";
/// Advisory-lock namespace of mailboxes (transaction locks); the second key is `hashtext(mailbox)`.
const LOCK_MAILBOX: i32 = 0x5342_0010;
/// A letter whose notice would be longer than this is announced without its body (listeners read it).
const MAX_PAYLOAD: usize = 7_000;
/// How long to wait before listening again after the connection failed.
const RETRY: Duration = Duration::from_secs(2);
/// Events waiting for the web channel.
const QUEUE: usize = 1024;

/// What goes over the channel.
#[derive(Serialize, Deserialize)]
struct Notice {
    #[serde(rename = "m")]
    mailbox: String,
    n: i64,
    /// The body, when it fits in a notice.
    #[serde(rename = "b", default, skip_serializing_if = "Option::is_none")]
    body: Option<String>,
}

/// The notice of a letter: with its body when that fits.
fn payload(mailbox: &str, n: i64, body: &str) -> String {
    let mut notice = Notice {
        mailbox: mailbox.to_string(),
        n,
        body: Some(body.to_string()),
    };
    let text = serde_json::to_string(&notice).expect("notices serialise to JSON");
    if text.len() < MAX_PAYLOAD {
        return text;
    }
    notice.body = None;
    serde_json::to_string(&notice).expect("notices serialise to JSON")
}

#[async_trait]
impl PageMail for PgStore {
    async fn post(
        &self,
        mailbox: &str,
        body: &str,
        live: bool,
        keep: usize,
    ) -> Result<u64, MailError> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(db_error)?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&LOCK_MAILBOX, &mailbox],
        )
        .await
        .map_err(db_error)?;
        let row = tx
            .query_one(
                "INSERT INTO page_mail (mailbox, n, body) VALUES ($1, nextval('page_mail_n'), $2) RETURNING n",
                &[&mailbox, &body],
            )
            .await
            .map_err(db_error)?;
        let n: i64 = row.get(0);
        // Keep the last `keep`: the letters below the keep-th newest go.
        tx.execute(
            "DELETE FROM page_mail WHERE mailbox = $1 AND n < \
             (SELECT min(n) FROM (SELECT n FROM page_mail WHERE mailbox = $1 ORDER BY n DESC LIMIT $2) AS kept)",
            &[&mailbox, &big(keep.max(1) as u64)],
        )
        .await
        .map_err(db_error)?;
        if live {
            tx.execute(
                "SELECT pg_notify($1, $2)",
                &[&CHANNEL, &payload(mailbox, n, body)],
            )
            .await
            .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(unbig(n))
    }

    async fn announce(&self, mailbox: &str, body: &str) -> Result<(), MailError> {
        // Number 0: a passing notice, with its body (one too long for a notice is dropped: it is stored nowhere
        // to be read from).
        let notice = Notice {
            mailbox: mailbox.to_string(),
            n: 0,
            body: Some(body.to_string()),
        };
        let text = serde_json::to_string(&notice).expect("notices serialise to JSON");
        if text.len() >= MAX_PAYLOAD {
            tracing::debug!(
                mailbox,
                bytes = text.len(),
                "a passing notice too long to announce was dropped"
            );
            return Ok(());
        }
        let conn = self.conn().await?;
        conn.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &text])
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn recent(&self, mailbox: &str, limit: usize) -> Result<Vec<Letter>, MailError> {
        let conn = self.conn().await?;
        let rows = conn
            .query(
                "SELECT n, body FROM (SELECT n, body FROM page_mail WHERE mailbox = $1 ORDER BY n DESC LIMIT $2) \
                 AS last ORDER BY n",
                &[&mailbox, &big(limit as u64)],
            )
            .await
            .map_err(db_error)?;
        Ok(rows
            .iter()
            .map(|row| Letter {
                mailbox: mailbox.to_string(),
                n: unbig(row.get(0)),
                body: row.get(1),
            })
            .collect())
    }

    fn listen(&self, shutdown: Shutdown) -> mpsc::Receiver<MailEvent> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let store = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    done = store.pass_letters(&tx) => if let Err(err) = done {
                        tracing::warn!(error = %err, "listening for letters to web pages failed; listening again");
                    },
                }
                if tx.is_closed() {
                    return;
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(RETRY) => {}
                }
            }
        });
        rx
    }

    async fn session_key(&self, proposed: &str) -> Result<String, MailError> {
        let conn = self.conn().await?;
        conn.execute(
            "INSERT INTO page_keys (name, value) VALUES ('session', $1) ON CONFLICT (name) DO NOTHING",
            &[&proposed],
        )
        .await
        .map_err(db_error)?;
        let row = conn
            .query_one("SELECT value FROM page_keys WHERE name = 'session'", &[])
            .await
            .map_err(db_error)?;
        Ok(row.get(0))
    }

    async fn save_sign_in(
        &self,
        key: &str,
        record: &str,
        expires_ms: u64,
    ) -> Result<(), MailError> {
        let conn = self.conn().await?;
        conn.execute(
            "INSERT INTO page_sign_ins (key, record, expires_at) \
             VALUES ($1, $2, to_timestamp($3::bigint / 1000.0)) \
             ON CONFLICT (key) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at",
            &[&key, &record, &big(expires_ms)],
        )
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn find_sign_in(&self, key: &str) -> Result<Option<String>, MailError> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(
                "SELECT record FROM page_sign_ins WHERE key = $1 AND expires_at > now()",
                &[&key],
            )
            .await
            .map_err(db_error)?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn end_sign_in(&self, key: &str) -> Result<(), MailError> {
        let conn = self.conn().await?;
        conn.execute("DELETE FROM page_sign_ins WHERE key = $1", &[&key])
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn prune(&self, age: Duration) -> Result<u64, MailError> {
        let conn = self.conn().await?;
        conn.execute("DELETE FROM page_sign_ins WHERE expires_at <= now()", &[])
            .await
            .map_err(db_error)?;
        let secs = age.as_secs_f64();
        let row = conn
            .query_one(
                "WITH gone AS (DELETE FROM page_mail WHERE mailbox IN (SELECT mailbox FROM page_mail \
                 GROUP BY mailbox HAVING max(posted_at) < now() - $1::float8 * interval '1 second') \
                 RETURNING mailbox) SELECT count(DISTINCT mailbox) FROM gone",
                &[&secs],
            )
            .await
            .map_err(db_error)?;
        Ok(unbig(row.get(0)))
    }
}

impl PgStore {
    /// Listens on one connection and passes the letters announced to `tx` (after [`MailEvent::Listening`]),
    /// until the connection fails or nobody receives them any more.
    async fn pass_letters(&self, tx: &mpsc::Sender<MailEvent>) -> Result<(), StoreError> {
        let mut listening = self.listen_on(CHANNEL).await?;
        if tx.send(MailEvent::Listening).await.is_err() {
            return Ok(());
        }
        while let Some(text) = listening.notices.recv().await {
            let notice: Notice = match serde_json::from_str(&text) {
                Ok(notice) => notice,
                Err(err) => {
                    tracing::warn!(error = %err, "an unreadable page letter notice was skipped");
                    continue;
                }
            };
            if notice.n == 0 {
                if let Some(body) = notice.body {
                    if tx
                        .send(MailEvent::Passing(notice.mailbox, body))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
                continue;
            }
            let body = match notice.body {
                Some(body) => body,
                None => match self.letter_body(&notice.mailbox, notice.n).await? {
                    Some(body) => body,
                    // Already pushed out of the mailbox by later letters: a page reading it now has those.
                    None => continue,
                },
            };
            let letter = Letter {
                mailbox: notice.mailbox,
                n: unbig(notice.n),
                body,
            };
            if tx.send(MailEvent::Posted(letter)).await.is_err() {
                break;
            }
        }
        Ok(())
    }

    /// The body of one letter, when it is still kept.
    async fn letter_body(&self, mailbox: &str, n: i64) -> Result<Option<String>, StoreError> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(
                "SELECT body FROM page_mail WHERE mailbox = $1 AND n = $2",
                &[&mailbox, &n],
            )
            .await
            .map_err(db_error)?;
        Ok(row.map(|r| r.get(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_body_is_left_out_of_its_notice() {
        let short = payload("chat:ab", 7, "{\"text\":\"hi\"}");
        let back: Notice = serde_json::from_str(&short).unwrap();
        assert_eq!(
            (back.mailbox.as_str(), back.n, back.body.as_deref()),
            ("chat:ab", 7, Some("{\"text\":\"hi\"}"))
        );
        let long = payload("chat:ab", 8, &"邮".repeat(5000));
        assert!(long.len() < MAX_PAYLOAD);
        let back: Notice = serde_json::from_str(&long).unwrap();
        assert_eq!((back.n, back.body), (8, None));
    }
}
