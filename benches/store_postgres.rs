//! Engine throughput on the PostgreSQL store for FAQ traffic, measured in the same run as raw PostgreSQL
//! statements writing the same rows, on a throw-away local cluster with `fsync` on (every commit is flushed to
//! disk; `synchronous_commit` on, as the store always sets it).
//!
//! Per message the engine stores the received message with its dedupe key (one statement), runs one handling
//! step (advisory lock, SERIALIZABLE transaction, reads, writes, commit, unlock) and removes the delivered
//! outbox item (committed without waiting for the disk: durable with the next commit). The raw figure writes the
//! same rows with no reads, each part's statements sent together: the insert of the dedupe key and the message,
//! one transaction writing the conversation and the outbox item and removing the message, and the outbox
//! removal (committed the same way); over as many connections as the store's pool (16).
//!
//! Three set-ups, each on a fresh database: one engine with its default workers, one with 16 workers, and two
//! engines with their own connection pools (two instances in one process), each conversation's messages sent to
//! them in turn.
//!
//! Run with `cargo bench --bench store_postgres` (skipped, saying so, without PostgreSQL installed).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use supportbot::config::{Config, DatabaseUrl};
use supportbot::engine::{Engine, EngineOptions};
use supportbot::faq::{Faq, Lang};
use supportbot::store::{encode, Store};
use supportbot_chat::{Adapter, Envelope, Inbound, InboundSink, SendError, Shutdown};
use supportbot_pg_cluster::{or_skip, Options, PgCluster};
use tokio_postgres::types::ToSql;

/// Conversations writing at once.
const CONVERSATIONS: usize = 200;
/// Messages per conversation in one measurement.
const PER_CONVERSATION: usize = 5;
/// Connections of the raw figure: the store's pool size.
const RAW_CONNECTIONS: usize = 16;
/// Measurements of each kind, alternated.
const ROUNDS: usize = 3;

struct Null;

#[async_trait]
impl Adapter for Null {
    fn name(&self) -> &str {
        "null"
    }
    async fn deliver(&self, _: &Envelope) -> Result<(), SendError> {
        Ok(())
    }
}

fn msg(chat: &str, id: String, text: &str) -> Inbound {
    Inbound {
        platform: "bench".into(),
        chat: chat.into(),
        user: chat.into(),
        name: "Bench".into(),
        id,
        text: text.into(),
        group: false,
        mention: false,
        reply_to: None,
        ts: None,
        attachments: vec![],
        locale: None,
        operator_room: false,
    }
}

/// FAQ traffic: every conversation sends its messages in order, all conversations at once; the time until
/// every message is handled and its answer delivered.
async fn traffic(engines: &[Engine], questions: &[String], round: usize) -> Duration {
    let start = Instant::now();
    let tasks: Vec<_> = (0..CONVERSATIONS)
        .map(|c| {
            let engines = engines.to_vec();
            let texts: Vec<String> = (0..PER_CONVERSATION)
                .map(|i| questions[(c * 7 + i) % questions.len()].clone())
                .collect();
            tokio::spawn(async move {
                for (i, text) in texts.iter().enumerate() {
                    let id = format!("r{round}c{c}m{i}");
                    engines[(c + i) % engines.len()]
                        .accept(msg(&format!("f{c}"), id, text))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    for engine in engines {
        engine.settle().await;
    }
    start.elapsed()
}

/// The same rows written directly: `records` are a stored message, a conversation and an outbox item.
async fn raw(url: &str, records: Arc<[Vec<u8>; 3]>, round: usize) -> Duration {
    let mut clients = Vec::new();
    for _ in 0..RAW_CONNECTIONS {
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
                for c in (k..CONVERSATIONS).step_by(RAW_CONNECTIONS) {
                    for i in 0..PER_CONVERSATION {
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

fn main() {
    let Some(cluster) = or_skip(PgCluster::start(Options { fsync: true })) else {
        return;
    };
    let faq = Faq::builtin();
    let questions: Vec<String> = faq
        .entries()
        .iter()
        .flat_map(|e| [e.title(Lang::Zh).to_string(), e.title(Lang::En).to_string()])
        .collect();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut config = Config::parse(
        "[[operators]]\nname = \"Op\"\naccounts = [\"bench:op\"]\n[hours]\nopen = \"00:00-24:00\"\npeak = []\n\
         [limits]\nmessages_per_minute = 4000000000\nmessage_burst = 1000000\n",
        "bench.toml",
    )
    .unwrap();
    config.bot.data_dir = dir.path().join("data");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // The engine's default worker count (twice the CPUs, at most 8), then 16 workers: every worker runs one step
    // at a time, and a step on PostgreSQL waits for round trips and a commit more than for the CPU.
    for (instances, workers) in [(1, None), (1, Some(16)), (2, None)] {
        let url = cluster.database("bench");
        rt.block_on(async {
        let shutdown = Shutdown::new();
        let mut engines = Vec::new();
        for _ in 0..instances {
            let store = Store::connect(&DatabaseUrl::parse(&url).unwrap()).await.unwrap();
            let options = EngineOptions {
                store: Some(store),
                workers,
                ..EngineOptions::default()
            };
            let engine = Engine::open_with(&config, faq.clone(), options).await.unwrap();
            engine.register_fallback_adapter(Arc::new(Null));
            let (e, s) = (engine.clone(), shutdown.clone());
            tokio::spawn(async move { e.run(s).await.unwrap() });
            engines.push(engine);
        }
        // Warm up, so the conversations exist and have their steady-state size.
        traffic(&engines, &questions, 0).await;
        let sample = |sql: &str| {
            let text = cluster.psql(url.rsplit('/').next().unwrap(), sql);
            let hex = text.trim_start_matches("\\x");
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect::<Vec<u8>>()
        };
        let inbound = encode(&supportbot::store::records::StoredInbound {
            seq: 0,
            inbound: msg("x", "m".into(), &questions[0]),
            oversized: None,
            throttled: false,
        });
        let conversation = sample("SELECT record FROM conversations ORDER BY key LIMIT 1");
        // The outbox is empty once delivered: an answer as the engine writes it.
        let answer = faq.entries()[0].title(Lang::Zh).repeat(8);
        let outbox = encode(&supportbot::store::records::OutboxRecord {
            seq: 0,
            created_ms: 0,
            envelope: Envelope {
                id: "bench:m1#0".into(),
                destination: "bench".into(),
                order_key: "bench:c1".into(),
                delivery: supportbot_chat::Delivery::Message(supportbot_chat::Outbound {
                    platform: "bench".into(),
                    chat: "c1".into(),
                    text: answer,
                    buttons: vec!["有帮助".into(), "没帮助".into()],
                    reply_to: Some("m1".into()),
                    case: None,
                }),
            },
        });
        let records = Arc::new([inbound, conversation, outbox]);
        let messages = (CONVERSATIONS * PER_CONVERSATION) as f64;
        for round in 1..=ROUNDS {
            let engine_time = traffic(&engines, &questions, round).await;
            let raw_time = raw(&url, records.clone(), round).await;
            println!(
                "round {round}: {instances} engine(s) on PostgreSQL ({}), FAQ traffic: {:.0} msg/s; raw PostgreSQL, same rows: {:.0} msg/s",
                workers.map_or("default workers".to_string(), |n| format!("{n} workers")),
                messages / engine_time.as_secs_f64(),
                messages / raw_time.as_secs_f64()
            );
        }
        shutdown.cancel();
    });
    }
}
