//! Engine throughput on the PostgreSQL store for FAQ traffic, measured in the same run as raw PostgreSQL
//! statements writing the same rows, and the time a message waits for its answer at a fixed pace; on a
//! throw-away local cluster with `fsync` on (every commit is flushed to disk; `synchronous_commit` on, as the
//! store always sets it).
//!
//! Per message the engine stores the received message with its dedupe key (one statement), runs one handling
//! step (advisory lock, SERIALIZABLE transaction, reads, writes, commit, unlock) and removes the delivered
//! outbox item (committed without waiting for the disk: durable with the next commit). The raw figure
//! ([`pg::raw`]) writes the same rows with no reads.
//!
//! Set-ups, each on a fresh database: one engine with its default workers; one with 16 workers; two engines
//! with their own connection pools in one process, each conversation's messages sent to them in turn; two
//! engines in two processes ([`pg::child`]), each conversation on one of them; and one engine offered messages
//! at fixed rates, reporting the time from offering each message to its answer reaching the adapter. The
//! database, the engines and the load all share the machine's cores. Each throughput figure comes with the CPU
//! time one message cost ([`pg::cpu`]: this process, its child processes and the database server), which
//! other work on the machine changes much less than the throughput.
//!
//! Run with `cargo bench --bench store_postgres` (skipped, saying so, without PostgreSQL installed). With
//! `SUPPORTBOT_BENCH_CPU_LIMIT=<cores>` it runs only one instance in a process and two in two processes, each
//! limited to that many CPUs ([`pg::limit`], needs a writable cgroup `cpu` controller, as root): on a machine
//! whose cores one unlimited instance and the database fill, this shows how instances scale when each has its
//! own share.

mod common;
mod pg;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use common::{msg, Null};
use pg::child::{self, Children};
use pg::cpu::Meter;
use supportbot::config::DatabaseUrl;
use supportbot::engine::Engine;
use supportbot::faq::{Faq, Lang};
use supportbot::store::{encode, Store};
use supportbot_chat::{Envelope, Shutdown};
use supportbot_pg_cluster::{or_skip, Options, PgCluster};

/// Conversations writing at once.
const CONVERSATIONS: usize = 200;
/// Messages per conversation in one measurement.
const PER_CONVERSATION: usize = 5;
const MESSAGES: usize = CONVERSATIONS * PER_CONVERSATION;
/// Measurements of each kind, alternated.
const ROUNDS: usize = 3;
/// Paced load: messages offered per second, and how many in one measurement.
const PACED_RATES: [f64; 2] = [200.0, 400.0];
const PACED_MESSAGES: usize = 2000;

/// A stored message, a conversation (as the engine stored it in database `url`) and an outbox item, as the
/// engine writes them for a FAQ message.
fn faq_rows(cluster: &PgCluster, url: &str, faq: &Faq, question: &str) -> Arc<[Vec<u8>; 3]> {
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
        inbound: msg("x", "m".into(), question),
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
    Arc::new([inbound, conversation, outbox])
}

/// Starts `instances` engines with their own pools on database `url`.
async fn engines(
    url: &str,
    config: &supportbot::config::Config,
    faq: &Faq,
    workers: Option<usize>,
    adapter: Arc<Null>,
    instances: usize,
    shutdown: &Shutdown,
) -> Vec<Engine> {
    let mut engines = Vec::new();
    for _ in 0..instances {
        let store = Store::connect(&DatabaseUrl::parse(url).unwrap())
            .await
            .unwrap();
        engines.push(common::engine(config, faq, store, workers, adapter.clone(), shutdown).await);
    }
    engines
}

/// Throughput and CPU time of one measurement.
struct Figure {
    rate: f64,
    cpu_ms: f64,
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.0} msg/s, {:.2} ms CPU/msg", self.rate, self.cpu_ms)
    }
}

/// Runs `run` (which handles [`MESSAGES`] messages and gives the time it took) and measures it, counting the CPU
/// time of this process, of `children` and of the database server.
fn measure(meter: &Meter, children: &[u32], run: impl FnOnce() -> std::time::Duration) -> Figure {
    let before = meter.seconds(children);
    let time = run();
    let cpu = meter.seconds(children) - before;
    Figure {
        rate: MESSAGES as f64 / time.as_secs_f64(),
        cpu_ms: cpu * 1000.0 / MESSAGES as f64,
    }
}

/// The variable that limits each instance to a share of the CPU (and runs only the limited set-ups).
const LIMIT_VAR: &str = "SUPPORTBOT_BENCH_CPU_LIMIT";

/// One instance in a process, then two in two processes, each limited to `cores` CPUs, on fresh databases.
fn limited(cluster: &PgCluster, meter: &Meter, cores: f64) {
    let mut medians = Vec::new();
    for instances in [1, 2] {
        let url = cluster.database("bench");
        let mut children = Children::start(instances, &url, Some(cores));
        children.round(0);
        let pids = children.pids();
        let mut rates = Vec::new();
        for round in 1..=ROUNDS {
            let figure = measure(meter, &pids, || children.round(round));
            println!(
                "round {round}: {instances} instance(s) in {instances} process(es), each limited to {cores} CPU, FAQ traffic: {figure}"
            );
            rates.push(figure.rate);
        }
        rates.sort_by(f64::total_cmp);
        medians.push(rates[rates.len() / 2]);
    }
    println!(
        "two limited instances against one (medians): {:.2}×",
        medians[1] / medians[0]
    );
}

fn main() {
    if let Ok(spec) = std::env::var(child::CHILD_VAR) {
        child::run(&spec, CONVERSATIONS, PER_CONVERSATION);
        return;
    }
    let Some(cluster) = or_skip(PgCluster::start(Options {
        fsync: true,
        ..Options::default()
    })) else {
        return;
    };
    let meter = Meter::new(cluster.port());
    if let Ok(cores) = std::env::var(LIMIT_VAR) {
        let cores: f64 = cores
            .parse()
            .unwrap_or_else(|_| panic!("{LIMIT_VAR} must be a number of CPUs, such as 0.5"));
        limited(&cluster, &meter, cores);
        return;
    }
    let faq = Faq::builtin();
    let questions = common::questions(&faq);
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let config = common::config(dir.path());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let all: Vec<usize> = (0..CONVERSATIONS).collect();
    let raw = |url: &str, rows: &Arc<[Vec<u8>; 3]>, round: usize| {
        measure(&meter, &[], || {
            rt.block_on(pg::raw::raw(
                url,
                rows.clone(),
                CONVERSATIONS,
                PER_CONVERSATION,
                round,
            ))
        })
    };
    // The engine's default worker count (twice the CPUs, at most 8), then 16 workers: every worker runs one step
    // at a time, and a step on PostgreSQL waits for round trips and a commit more than for the CPU.
    for (instances, workers) in [(1, None), (1, Some(16)), (2, None)] {
        let url = cluster.database("bench");
        let shutdown = Shutdown::new();
        let adapter = Arc::new(Null::default());
        let engines = rt.block_on(engines(
            &url, &config, &faq, workers, adapter, instances, &shutdown,
        ));
        // Warm up, so the conversations exist and have their steady-state size.
        rt.block_on(pg::traffic(&engines, &all, PER_CONVERSATION, &questions, 0));
        let rows = faq_rows(&cluster, &url, &faq, &questions[0]);
        for round in 1..=ROUNDS {
            let engine = measure(&meter, &[], || {
                rt.block_on(pg::traffic(
                    &engines,
                    &all,
                    PER_CONVERSATION,
                    &questions,
                    round,
                ))
            });
            println!(
                "round {round}: {instances} engine(s) in one process ({}), FAQ traffic: {engine}; raw PostgreSQL, same rows: {}",
                workers.map_or("default workers".to_string(), |n| format!("{n} workers")),
                raw(&url, &rows, round),
            );
        }
        shutdown.cancel();
    }
    {
        let url = cluster.database("bench");
        let mut children = Children::start(2, &url, None);
        children.round(0);
        let rows = faq_rows(&cluster, &url, &faq, &questions[0]);
        let pids = children.pids();
        for round in 1..=ROUNDS {
            let engine = measure(&meter, &pids, || children.round(round));
            println!(
                "round {round}: 2 engines in two processes (default workers), FAQ traffic: {engine}; raw PostgreSQL, same rows: {}",
                raw(&url, &rows, round),
            );
        }
    }
    let url = cluster.database("bench");
    let shutdown = Shutdown::new();
    let replies = Arc::new(Mutex::new(HashMap::new()));
    let adapter = Arc::new(Null {
        replies: Some(replies.clone()),
    });
    let engine = rt.block_on(engines(&url, &config, &faq, None, adapter, 1, &shutdown));
    rt.block_on(pg::traffic(&engine, &all, PER_CONVERSATION, &questions, 0));
    for round in 1..=ROUNDS {
        for rate in PACED_RATES {
            let load = (rate, PACED_MESSAGES, CONVERSATIONS);
            let tag = format!("r{round}x{rate}");
            let l = rt.block_on(pg::paced(&engine[0], &replies, &questions, load, &tag));
            println!(
                "round {round}: 1 engine, {PACED_MESSAGES} FAQ messages offered at {rate:.0} msg/s over {CONVERSATIONS} \
                 conversations ({:.0} msg/s answered): offered to answer handed to the adapter p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                l.rate, l.p50, l.p99, l.max
            );
        }
    }
    shutdown.cancel();
}
