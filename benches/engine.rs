//! Engine throughput with sled on disk, for FAQ traffic and for traffic inside open cases, measured in the
//! same run as raw sled writes of the same records (the floor durable state costs), and the memory used with
//! 100,000 stored conversations.
//!
//! Durability: as shipped. Every accepted message waits until its batch is synced to the write-ahead log before
//! `accept` returns, and every handling step is synced before its answer is delivered; concurrent writers share
//! syncs (group commit). The raw figure applies the same records in the same batches to the store with the same
//! waits for durability. The engine runs on a current-thread tokio runtime (one core for the engine's tasks);
//! the store's flusher thread runs beside it. Pin the process with `taskset -c 0` to measure on one core.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{msg, questions, Null};
use criterion::{Criterion, Throughput};
use supportbot::engine::Engine;
use supportbot::faq::Faq;
use supportbot::store::sled::{keys, Batch};
use supportbot::store::{SledStore, Store};
use supportbot_chat::{Envelope, Inbound, InboundSink, Shutdown};

/// The allocator the `supportbot` binary runs with.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Conversations writing at once in a batch.
const CONVERSATIONS: usize = 200;
/// Messages per conversation in a batch.
const PER_CONVERSATION: usize = 10;
const BATCH: usize = CONVERSATIONS * PER_CONVERSATION;

struct Rig {
    rt: tokio::runtime::Runtime,
    engine: Engine,
    sled: SledStore,
    shutdown: Shutdown,
    next_id: usize,
    _dir: tempfile::TempDir,
}

impl Rig {
    fn new(faq: &Faq) -> Rig {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let config = common::config(dir.path());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // The engine runs on the sled store as shipped; the raw figures write to the same store directly.
        let sled = SledStore::open(&config.bot.data_dir, config.store.cache_mb).unwrap();
        let shutdown = Shutdown::new();
        let engine = rt.block_on(common::engine(
            &config,
            faq,
            Store::new(sled.clone()),
            None,
            Arc::new(Null::default()),
            &shutdown,
        ));
        Rig {
            rt,
            engine,
            sled,
            shutdown,
            next_id: 0,
            _dir: dir,
        }
    }

    /// Sends `texts(conversation, i)` from `conversations` chats at once (each chat in order); returns the time
    /// until every message is handled and its answers delivered.
    fn traffic(
        &mut self,
        conversations: usize,
        per: usize,
        prefix: &str,
        texts: &dyn Fn(usize, usize) -> String,
    ) -> Duration {
        let base = self.next_id;
        self.next_id += conversations * per;
        let batches: Vec<Vec<Inbound>> = (0..conversations)
            .map(|c| {
                (0..per)
                    .map(|i| {
                        msg(
                            &format!("{prefix}{c}"),
                            format!("m{}", base + c * per + i),
                            &texts(c, i),
                        )
                    })
                    .collect()
            })
            .collect();
        let engine = self.engine.clone();
        self.rt.block_on(async move {
            let start = Instant::now();
            let tasks: Vec<_> = batches
                .into_iter()
                .map(|msgs| {
                    let engine = engine.clone();
                    tokio::spawn(async move {
                        for m in msgs {
                            engine.accept(m).await.unwrap();
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            engine.settle().await;
            start.elapsed()
        })
    }

    /// Raw sled: per message the accept batch, the handling batch and the outbox removal, with the same
    /// records (`records`: key prefix and bytes copied from the engine's own store) and the same durability waits.
    fn raw(&mut self, conversations: usize, per: usize, records: &[(String, Vec<u8>)]) -> Duration {
        let store = self.sled.clone();
        let base = self.next_id;
        self.next_id += conversations * per;
        let records = Arc::new(records.to_vec());
        self.rt.block_on(async move {
            let start = Instant::now();
            let tasks: Vec<_> = (0..conversations)
                .map(|c| {
                    let (store, records) = (store.clone(), records.clone());
                    tokio::spawn(async move {
                        for i in 0..per {
                            let n = base + c * per + i;
                            let mut accept = Batch::default();
                            accept.insert(
                                keys::dedupe("raw", &n.to_string()),
                                n.to_be_bytes().to_vec(),
                            );
                            accept.insert(keys::inbox(1 << 40 | n as u64), records[0].1.clone());
                            let t = store.apply(accept).unwrap();
                            store.durable(t).await.unwrap();
                            let mut handle = Batch::default();
                            for (prefix, bytes) in &records[1..] {
                                handle.insert(
                                    format!("raw{prefix}{c}/{i}").into_bytes(),
                                    bytes.clone(),
                                );
                            }
                            handle.remove(keys::inbox(1 << 40 | n as u64));
                            let t = store.apply(handle).unwrap();
                            store.durable(t).await.unwrap();
                            store
                                .remove_lazy(format!("rawob/{c}/{i}").as_bytes())
                                .unwrap();
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            start.elapsed()
        })
    }

    /// The first record under each prefix, from the engine's store.
    fn sample(&self, prefixes: &[&str]) -> Vec<(String, Vec<u8>)> {
        prefixes
            .iter()
            .map(|p| {
                let (_, v) = self.sled.entries(p.as_bytes()).unwrap().swap_remove(0);
                (p.to_string(), v.to_vec())
            })
            .collect()
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A stored inbound, a conversation and an outbox record, as the engine writes them for a FAQ message.
fn faq_records(rig: &Rig) -> Vec<(String, Vec<u8>)> {
    let inbound = supportbot::store::records::StoredInbound {
        seq: 0,
        inbound: msg("x", "m".into(), "发送邮件被退回 554 DT:SPM"),
        oversized: None,
        throttled: false,
    };
    let mut out = vec![("in/".to_string(), supportbot::store::encode(&inbound))];
    out.extend(rig.sample(&[keys::CONVERSATION]));
    out.push(("ob/".into(), outbox_record()));
    out
}

fn outbox_record() -> Vec<u8> {
    let out = supportbot_chat::Outbound {
        platform: "bench".into(),
        chat: "c1".into(),
        text: "发送邮件被退回并提示“554 DT:SPM”时,请按以下步骤排查:……".repeat(4),
        buttons: vec!["有帮助".into(), "没帮助".into()],
        reply_to: Some("m1".into()),
        case: None,
    };
    let envelope = Envelope {
        id: "bench:m1#0".into(),
        destination: "bench".into(),
        order_key: "bench:c1".into(),
        delivery: supportbot_chat::Delivery::Message(out),
    };
    supportbot::store::encode(&supportbot::store::records::OutboxRecord {
        seq: 1,
        created_ms: 0,
        envelope,
    })
}

fn bench(c: &mut Criterion) {
    let faq = Faq::builtin();
    let qs = questions(&faq);
    let mut group = c.benchmark_group("engine");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(BATCH as u64));

    let mut rig = Rig::new(&faq);
    // Warm up with the measured pattern, so the sampled records have their steady-state size.
    rig.traffic(CONVERSATIONS, PER_CONVERSATION, "f", &|c, i| {
        qs[(c * 7 + i) % qs.len()].clone()
    });
    let records = faq_records(&rig);
    group.bench_function("faq_messages", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    rig.traffic(CONVERSATIONS, PER_CONVERSATION, "f", &|c, i| {
                        qs[(c * 7 + i) % qs.len()].clone()
                    })
                })
                .sum()
        })
    });
    group.bench_function("raw_sled_faq_records", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| rig.raw(CONVERSATIONS, PER_CONVERSATION, &records))
                .sum()
        })
    });

    // Open and take one case per conversation, then measure messages inside the cases.
    let mut rig = Rig::new(&faq);
    rig.traffic(CONVERSATIONS, 4, "case", &|_, i| {
        ["/human", "跳过", "跳过", "跳过"][i].to_string()
    });
    rig.traffic(1, CONVERSATIONS, "op", &|_, i| {
        format!("/take C-{}", 1001 + i)
    });
    rig.traffic(CONVERSATIONS, PER_CONVERSATION, "case", &|_, i| {
        format!("补充信息 {i}")
    });
    let mut records = faq_records(&rig);
    records.extend(rig.sample(&[keys::CASE, keys::CASE_LOG, keys::CASE_LOG]));
    group.bench_function("in_case_messages", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    rig.traffic(CONVERSATIONS, PER_CONVERSATION, "case", &|_, i| {
                        format!("补充信息 {i}")
                    })
                })
                .sum()
        })
    });
    group.bench_function("raw_sled_in_case_records", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| rig.raw(CONVERSATIONS, PER_CONVERSATION, &records))
                .sum()
        })
    });
    group.finish();
}

/// Resident memory of this process, in MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok());
    kb.unwrap_or(0.0) / 1024.0
}

/// Stores 100,000 conversations and reports memory while running and after a restart.
fn memory() {
    let faq = Faq::builtin();
    let qs = questions(&faq);
    let before = rss_mib();
    let mut rig = Rig::new(&faq);
    let start = Instant::now();
    for round in 0..50 {
        rig.traffic(2000, 1, &format!("mem{round}-"), &|c, _| {
            qs[c % qs.len()].clone()
        });
    }
    let filled = start.elapsed();
    let running = rss_mib();
    let disk = rig.sled.size_on_disk() as f64 / 1024.0 / 1024.0;
    let conversations = rig.sled.keys(keys::CONVERSATION.as_bytes()).count();
    println!(
        "memory: {conversations} conversations stored in {:.1}s ({:.0} msg/s); RSS {before:.0} MiB before, {running:.0} MiB after; sled on disk {disk:.0} MiB",
        filled.as_secs_f64(),
        100_000.0 / filled.as_secs_f64()
    );
}

/// CPU time used so far by this process's threads, in seconds, summed by thread name (numbered pool threads
/// such as `sled-io-3` count under their pool's name). Read from /proc in clock ticks of 1/100 s.
fn thread_cpu() -> std::collections::BTreeMap<String, f64> {
    let mut by_name = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return by_name;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].trim_end_matches(|c: char| c.is_ascii_digit() || c == '-');
        // After the name: state, ppid, ... ; utime and stime are the 12th and 13th fields.
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let ticks: f64 =
            fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
        *by_name.entry(name.to_string()).or_insert(0.0) += ticks / 100.0;
    }
    by_name
}

/// FAQ traffic as in the throughput benchmark, reporting messages per CPU-second of the whole process (every
/// thread: the engine's, the store's flusher, sled's), which is what one core can carry, and where the CPU
/// went. Five measurements of 20,000 messages each (`SUPPORTBOT_BENCH_CPU_RUNS` sets how many, e.g. one under
/// a profiler); the machine's noise shows in their spread.
fn cpu_per_message() {
    let measurements: usize = std::env::var("SUPPORTBOT_BENCH_CPU_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5);
    const ROUNDS: usize = 10;
    let faq = Faq::builtin();
    let qs = questions(&faq);
    let mut rig = Rig::new(&faq);
    let texts = |c: usize, i: usize| qs[(c * 7 + i) % qs.len()].clone();
    for _ in 0..3 {
        rig.traffic(CONVERSATIONS, PER_CONVERSATION, "f", &texts);
    }
    let messages = (ROUNDS * BATCH) as f64;
    let mut per_second = Vec::new();
    for _ in 0..measurements {
        let before = thread_cpu();
        let start = Instant::now();
        for _ in 0..ROUNDS {
            rig.traffic(CONVERSATIONS, PER_CONVERSATION, "f", &texts);
        }
        let wall = start.elapsed().as_secs_f64();
        let used: Vec<(String, f64)> = thread_cpu()
            .into_iter()
            .map(|(name, t)| {
                let spent = t - before.get(&name).copied().unwrap_or(0.0);
                (name, spent)
            })
            .filter(|(_, t)| *t > 0.0)
            .collect();
        let total: f64 = used.iter().map(|(_, t)| t).sum();
        let threads: Vec<String> = used
            .iter()
            .map(|(name, t)| format!("{name} {:.1}", t / messages * 1e6))
            .collect();
        println!(
            "cpu: {messages} FAQ messages in {wall:.2} s ({:.0} msg/s); {:.1} µs CPU per message ({}): {:.0} messages per CPU-second",
            messages / wall,
            total / messages * 1e6,
            threads.join(", "),
            messages / total
        );
        per_second.push(messages / total);
    }
    per_second.sort_by(f64::total_cmp);
    println!(
        "cpu: messages per CPU-second: median {:.0}, best {:.0}, worst {:.0}",
        per_second[measurements / 2],
        per_second[measurements - 1],
        per_second[0]
    );
}

/// `SUPPORTBOT_BENCH_MEMORY=1` adds the memory probe after the throughput benchmarks; `=only` runs just it.
/// `SUPPORTBOT_BENCH_CPU=1` adds the CPU-per-message probe; `=only` runs just it.
fn main() {
    let memory_probe = std::env::var("SUPPORTBOT_BENCH_MEMORY").ok();
    let cpu_probe = std::env::var("SUPPORTBOT_BENCH_CPU").ok();
    let only = |probe: &Option<String>| probe.as_deref() == Some("only");
    if !only(&memory_probe) && !only(&cpu_probe) {
        let mut criterion = Criterion::default().configure_from_args();
        bench(&mut criterion);
        criterion.final_summary();
    }
    if cpu_probe.is_some() {
        cpu_per_message();
    }
    if memory_probe.is_some() {
        memory();
    }
}
