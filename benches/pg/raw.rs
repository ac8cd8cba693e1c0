//! Raw PostgreSQL statements writing the rows the engine writes for a FAQ message, with no reads: the insert of
//! the dedupe key and the message, one transaction writing the conversation and the outbox item and removing
//! the message, and the outbox removal (committed without waiting for the disk, as the store does it); each
//! part's statements sent together, over as many connections as the store's pool.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_postgres::types::ToSql;

/// Connections of the raw figure: the store's pool size.
const CONNECTIONS: usize = 16;

/// The same rows written directly: `records` are a stored message, a conversation and an outbox item.
pub async fn raw(
    url: &str,
    records: Arc<[Vec<u8>; 3]>,
    conversations: usize,
    per_conversation: usize,
    round: usize,
) -> Duration {
    let mut clients = Vec::new();
    for _ in 0..CONNECTIONS {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        clients.push(client);
    }
    let start = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(k, client)| {
            let records = records.clone();
            tokio::spawn(async move {
                let store = client
                    .prepare(
                        "WITH fresh AS (INSERT INTO seen_messages (platform, id) VALUES ('raw', $1) \
                         ON CONFLICT DO NOTHING RETURNING 1) \
                         INSERT INTO inbound (seq, conversation, record) \
                         SELECT nextval('inbound_seq'), $3, $2 FROM fresh RETURNING seq",
                    )
                    .await
                    .unwrap();
                let conversation = client
                    .prepare(
                        "INSERT INTO conversations (key, version, record) VALUES ($1, 1, $2) \
                         ON CONFLICT (key) DO UPDATE SET version = conversations.version + 1, record = excluded.record",
                    )
                    .await
                    .unwrap();
                let outbox = client
                    .prepare(
                        "INSERT INTO outbox (seq, order_key, record, lease_owner, lease_until) \
                         VALUES (nextval('outbox_seq'), $2, $1, 'raw', now() + interval '30 seconds') RETURNING seq",
                    )
                    .await
                    .unwrap();
                let handled = client.prepare("DELETE FROM inbound WHERE seq = $1").await.unwrap();
                let delivered = client.prepare("DELETE FROM outbox WHERE seq = $1").await.unwrap();
                for c in (k..conversations).step_by(CONNECTIONS) {
                    for i in 0..per_conversation {
                        let id = format!("r{round}c{c}m{i}");
                        let seq: i64 = client
                            .query_one(&store, &[&id, &records[0], &format!("raw:{c}")])
                            .await
                            .unwrap()
                            .get(0);
                        // One transaction, its statements sent together.
                        let key = format!("raw:{c}");
                        let conversation_params: [&(dyn ToSql + Sync); 2] = [&key, &records[1]];
                        let outbox_params: [&(dyn ToSql + Sync); 2] = [&records[2], &key];
                        let handled_params: [&(dyn ToSql + Sync); 1] = [&seq];
                        let (begun, written, queued, removed, committed) = tokio::join!(
                            client.batch_execute("BEGIN"),
                            client.execute(&conversation, &conversation_params),
                            client.query_one(&outbox, &outbox_params),
                            client.execute(&handled, &handled_params),
                            client.batch_execute("COMMIT")
                        );
                        begun.unwrap();
                        written.unwrap();
                        removed.unwrap();
                        committed.unwrap();
                        let out: i64 = queued.unwrap().get(0);
                        // Removed once delivered, durable with the next commit (as the store does it).
                        let delivered_params: [&(dyn ToSql + Sync); 1] = [&out];
                        let (begun, done, committed) = tokio::join!(
                            client.batch_execute("BEGIN; SET LOCAL synchronous_commit TO off"),
                            client.execute(&delivered, &delivered_params),
                            client.batch_execute("COMMIT")
                        );
                        begun.unwrap();
                        done.unwrap();
                        committed.unwrap();
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed()
}
