//! The PostgreSQL benchmark's parts: FAQ traffic as fast as the engines take it, traffic at a fixed pace with
//! the time each message waited for its answer, raw statements writing the same rows, and instances in other
//! processes, optionally each limited to a share of the CPU.

pub mod child;
pub mod cpu;
pub mod limit;
pub mod raw;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use supportbot::engine::Engine;
use supportbot_chat::InboundSink;

use crate::common::msg;

/// FAQ traffic: each of `conversations` sends `per` messages in order, all conversations at once, message `i`
/// of conversation `c` to engine `(c + i) % engines`; the time until every message is handled and its answer
/// delivered.
pub async fn traffic(
    engines: &[Engine],
    conversations: &[usize],
    per: usize,
    questions: &[String],
    round: usize,
) -> Duration {
    let start = Instant::now();
    let tasks: Vec<_> = conversations
        .iter()
        .map(|&c| {
            let engines = engines.to_vec();
            let texts: Vec<String> = (0..per)
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

/// Latency percentiles of a paced run, in milliseconds.
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    /// The rate reached: messages over the time from the first offer to the last answer.
    pub rate: f64,
}

/// The value at quantile `q` of sorted `values` (nearest rank).
fn quantile(values: &[Duration], q: f64) -> f64 {
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1].as_secs_f64() * 1000.0
}

/// Offers `count` FAQ messages at `rate` a second, spread over `conversations` chats (message `k` to chat
/// `k % conversations`), each offer on a task of its own so that a slow one does not hold back the next; every
/// message's time from being offered to its answer being handed to the adapter (`replies`, filled by
/// [`crate::common::Null`]).
pub async fn paced(
    engine: &Engine,
    replies: &Arc<Mutex<HashMap<String, Instant>>>,
    questions: &[String],
    (rate, count, conversations): (f64, usize, usize),
    tag: &str,
) -> Latency {
    let start = Instant::now();
    let mut offers = Vec::with_capacity(count);
    let mut tasks = Vec::with_capacity(count);
    for k in 0..count {
        let due = start + Duration::from_secs_f64(k as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let id = format!("{tag}p{k}");
        let c = k % conversations;
        let message = msg(
            &format!("f{c}"),
            id.clone(),
            &questions[(c * 7 + k) % questions.len()],
        );
        offers.push((id, Instant::now()));
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            engine.accept(message).await.unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    engine.settle().await;
    let replies = replies.lock().unwrap();
    let mut waits: Vec<Duration> = offers
        .iter()
        .map(|(id, offered)| {
            let answered = replies
                .get(id)
                .unwrap_or_else(|| panic!("message {id} got no answer"));
            answered.duration_since(*offered)
        })
        .collect();
    let last = offers
        .iter()
        .filter_map(|(id, _)| replies.get(id))
        .max()
        .copied()
        .unwrap_or(start);
    waits.sort();
    Latency {
        p50: quantile(&waits, 0.50),
        p99: quantile(&waits, 0.99),
        max: quantile(&waits, 1.0),
        rate: count as f64 / last.duration_since(start).as_secs_f64(),
    }
}
