//! FAQ matching speed: one decision on the default knowledge base (criterion, plus a p50 / p99 latency
//! distribution over the development queries and the Japanese queries), and decisions and index building on a generated
//! 10,000-entry knowledge base.

use std::time::{Duration, Instant};

use std::hint::black_box;

use criterion::{criterion_group, Criterion};
use supportbot::faq::{Faq, FaqSource};

/// The development queries, shipped with the tests.
fn dev_queries() -> Vec<String> {
    queries_of(include_str!("../tests/eval/queries_dev.jsonl"))
}

/// The queries of a JSON Lines query set.
fn queries_of(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["q"].as_str().map(str::to_string))
        .collect()
}

/// A knowledge base of `n` entries whose questions recombine the default FAQ's vocabulary, so term
/// statistics look like a real, much larger FAQ.
fn generated_faq(n: usize) -> FaqSource {
    let builtin = Faq::builtin();
    let mut words: Vec<String> = Vec::new();
    // Words of the entries with answers: the generated FAQ does not change with the built-in handoff entries.
    for e in builtin.entries().iter().filter(|e| !e.handoff) {
        for q in e.questions.zh.iter().chain(&e.questions.en) {
            words.extend(
                q.split(|c: char| c.is_whitespace() || "，,。？?！!".contains(c))
                    .map(str::to_string),
            );
        }
    }
    words.retain(|w| !w.is_empty() && !w.contains(['"', '\\']));
    let mut seed: u64 = 0x5eed;
    let mut next = move |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m as u64) as usize
    };
    let categories = ["account", "mail", "features", "service", "enterprise"];
    let mut toml = String::new();
    for i in 0..n {
        let mut question = || {
            (0..4)
                .map(|_| words[next(words.len())].as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let (q1, q2, q3, q4) = (question(), question(), question(), question());
        toml.push_str(&format!(
            "[[faq]]\nid = \"gen-{i}\"\ncategory = \"{}\"\nquestions.zh = [\"{q1} {i}号\", \"{q2}\"]\nquestions.en = [\"{q3} topic{i}\", \"{q4}\"]\nanswer.zh = \"答案 {i}\"\nanswer.en = \"Answer {i}\"\n\n",
            categories[i % categories.len()]
        ));
    }
    FaqSource::from_files(vec![("generated.toml".into(), toml)])
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    (at(0.50), at(0.99))
}

/// p50 / p99 of single decisions, each timed on its own, over `rounds` passes of the queries.
fn latency_report(name: &str, faq: &Faq, queries: &[String], rounds: usize) {
    let mut samples = Vec::with_capacity(queries.len() * rounds);
    for _ in 0..rounds {
        for q in queries {
            let start = Instant::now();
            black_box(faq.decide(black_box(q)));
            samples.push(start.elapsed());
        }
    }
    let n = samples.len();
    let (p50, p99) = percentiles(samples);
    println!(
        "{name}: {n} decisions, p50 {:.1} µs, p99 {:.1} µs",
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    );
}

fn benches(c: &mut Criterion) {
    let faq = Faq::builtin();
    let queries = dev_queries();
    faq.decide("warm up"); // loads the shared dictionary once, as the first query of a process would
    latency_report("default FAQ", &faq, &queries, 200);
    let japanese = queries_of(include_str!("../tests/eval/ja/queries.jsonl"));
    latency_report("default FAQ, Japanese queries", &faq, &japanese, 200);
    c.bench_function("decide/default_faq/554_zh", |b| {
        b.iter(|| faq.decide(black_box("发邮件老是被退回来，说什么554 DT:SPM，咋回事")))
    });
    c.bench_function("decide/default_faq/handoff_en", |b| {
        b.iter(|| faq.decide(black_box("can you recommend a good laptop")))
    });

    let source = generated_faq(10_000);
    let start = Instant::now();
    let big = Faq::from_source(source.clone()).expect("generated FAQ is valid");
    println!(
        "10,000-entry FAQ: parsed and indexed in {:.0} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    latency_report("10,000-entry FAQ", &big, &queries, 20);
    c.bench_function("decide/10k_faq/554_zh", |b| {
        b.iter(|| big.decide(black_box("发邮件老是被退回来，说什么554 DT:SPM，咋回事")))
    });
    let mut group = c.benchmark_group("index");
    group.sample_size(10);
    group.bench_function("build/10k_faq", |b| {
        b.iter(|| Faq::from_source(source.clone()).expect("valid"))
    });
    group.finish();
}

criterion_group!(faq_benches, benches);

fn main() {
    faq_benches();
    Criterion::default().configure_from_args().final_summary();
}
