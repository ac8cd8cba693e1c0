//! The counters of messages in and out, answers, cases and deliveries, and the Prometheus text they are served
//! as. Below every module that counts (engine, outbox), so each of them can update them.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::faq::Action;

/// Upper bounds (seconds) of the operator reply latency histogram.
pub const LATENCY_BUCKETS: [f64; 9] = [
    30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0,
];

/// Counters updated as messages flow; gauges are computed when rendered.
#[derive(Default)]
pub struct Metrics {
    inbound: Mutex<BTreeMap<String, u64>>,
    outbound: Mutex<BTreeMap<String, u64>>,
    duplicates: AtomicU64,
    busy: AtomicU64,
    throttled: AtomicU64,
    decisions: [AtomicU64; 4],
    handoffs: Mutex<BTreeMap<String, u64>>,
    latency: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_ms: AtomicU64,
    given_up: AtomicU64,
}

/// Point-in-time figures read from the store and the outbox.
pub struct Gauges {
    /// Cases waiting.
    pub queue_length: usize,
    /// Age of the oldest waiting case, seconds.
    pub oldest_waiting_secs: f64,
    /// Undelivered items per destination.
    pub backlog: Vec<(String, usize)>,
}

fn bump(map: &Mutex<BTreeMap<String, u64>>, key: &str) {
    let mut m = map.lock().unwrap_or_else(|e| e.into_inner());
    match m.get_mut(key) {
        Some(v) => *v += 1,
        None => {
            m.insert(key.to_string(), 1);
        }
    }
}

/// Escapes a Prometheus label value.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// A message refused because its worker's queue stayed full (the platform delivers it again).
    pub fn busy(&self) {
        self.busy.fetch_add(1, Ordering::Relaxed);
    }

    /// A message kept but not answered because its account was over the message rate.
    pub fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }

    /// A message received from a platform.
    pub fn inbound(&self, platform: &str) {
        bump(&self.inbound, platform);
    }

    /// A redelivered message ignored.
    pub fn duplicate(&self) {
        self.duplicates.fetch_add(1, Ordering::Relaxed);
    }

    /// A message accepted by a platform.
    pub fn outbound(&self, platform: &str) {
        bump(&self.outbound, platform);
    }

    /// One FAQ decision.
    pub fn decision(&self, action: Action) {
        let i = match action {
            Action::Answer => 0,
            Action::Choose => 1,
            Action::Handoff => 2,
            Action::Smalltalk => 3,
        };
        self.decisions[i].fetch_add(1, Ordering::Relaxed);
    }

    /// A case opened for a team.
    pub fn handoff(&self, team: &str) {
        bump(&self.handoffs, team);
    }

    /// Time from a case's opening to its first operator reply.
    pub fn reply_latency(&self, seconds: f64) {
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.latency[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_ms
            .fetch_add((seconds.max(0.0) * 1000.0) as u64, Ordering::Relaxed);
    }

    /// An outbox item given up.
    pub fn given_up(&self) {
        self.given_up.fetch_add(1, Ordering::Relaxed);
    }

    /// Prometheus text exposition.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::new();
        let map =
            |m: &Mutex<BTreeMap<String, u64>>| m.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, String)>| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        let per = |key: &str, m: BTreeMap<String, u64>| {
            m.into_iter()
                .map(|(k, v)| (format!("{{{key}=\"{}\"}}", label(&k)), v.to_string()))
                .collect()
        };
        family(
            "supportbot_messages_in_total",
            "counter",
            "Messages received, by platform.",
            per("platform", map(&self.inbound)),
        );
        family(
            "supportbot_messages_out_total",
            "counter",
            "Messages accepted by a platform, by platform.",
            per("platform", map(&self.outbound)),
        );
        family(
            "supportbot_duplicates_total",
            "counter",
            "Redelivered messages handled once.",
            vec![(
                String::new(),
                self.duplicates.load(Ordering::Relaxed).to_string(),
            )],
        );
        family(
            "supportbot_busy_refusals_total",
            "counter",
            "Messages refused while the engine's queues were full (the platform redelivers them).",
            vec![(String::new(), self.busy.load(Ordering::Relaxed).to_string())],
        );
        family(
            "supportbot_throttled_total",
            "counter",
            "Messages kept but not answered because their account was over the message rate.",
            vec![(
                String::new(),
                self.throttled.load(Ordering::Relaxed).to_string(),
            )],
        );
        family(
            "supportbot_faq_decisions_total",
            "counter",
            "FAQ decisions, by action.",
            ["answer", "choose", "handoff", "smalltalk"]
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    (
                        format!("{{action=\"{a}\"}}"),
                        self.decisions[i].load(Ordering::Relaxed).to_string(),
                    )
                })
                .collect(),
        );
        family(
            "supportbot_handoffs_total",
            "counter",
            "Cases opened, by team.",
            per("team", map(&self.handoffs)),
        );
        family(
            "supportbot_queue_length",
            "gauge",
            "Cases waiting for an operator.",
            vec![(String::new(), gauges.queue_length.to_string())],
        );
        family(
            "supportbot_oldest_waiting_case_seconds",
            "gauge",
            "Age of the oldest waiting case.",
            vec![(String::new(), format!("{:.0}", gauges.oldest_waiting_secs))],
        );
        let mut hist: Vec<(String, String)> = LATENCY_BUCKETS
            .iter()
            .enumerate()
            .map(|(i, b)| {
                (
                    format!("_bucket{{le=\"{b}\"}}"),
                    self.latency[i].load(Ordering::Relaxed).to_string(),
                )
            })
            .collect();
        let count = self.latency_count.load(Ordering::Relaxed);
        hist.push(("_bucket{le=\"+Inf\"}".into(), count.to_string()));
        hist.push((
            "_sum".into(),
            format!(
                "{:.3}",
                self.latency_sum_ms.load(Ordering::Relaxed) as f64 / 1000.0
            ),
        ));
        hist.push(("_count".into(), count.to_string()));
        family(
            "supportbot_operator_reply_latency_seconds",
            "histogram",
            "Time from opening a case to the first operator reply.",
            hist,
        );
        family(
            "supportbot_outbox_backlog",
            "gauge",
            "Outgoing messages not yet accepted, by destination.",
            gauges
                .backlog
                .iter()
                .map(|(d, n)| (format!("{{destination=\"{}\"}}", label(d)), n.to_string()))
                .collect(),
        );
        family(
            "supportbot_outbox_given_up_total",
            "counter",
            "Outgoing messages given up.",
            vec![(
                String::new(),
                self.given_up.load(Ordering::Relaxed).to_string(),
            )],
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.inbound("telegram");
        m.inbound("telegram");
        m.outbound("web");
        m.decision(Action::Answer);
        m.handoff("mail");
        m.reply_latency(45.0);
        let text = m.render(&Gauges {
            queue_length: 3,
            oldest_waiting_secs: 120.0,
            backlog: vec![("telegram".into(), 2)],
        });
        assert!(
            text.contains("supportbot_messages_in_total{platform=\"telegram\"} 2"),
            "{text}"
        );
        assert!(text.contains("supportbot_faq_decisions_total{action=\"answer\"} 1"));
        assert!(text.contains("supportbot_operator_reply_latency_seconds_bucket{le=\"30\"} 0"));
        assert!(text.contains("supportbot_operator_reply_latency_seconds_bucket{le=\"60\"} 1"));
        assert!(text.contains("supportbot_queue_length 3"));
        assert!(text.contains("supportbot_outbox_backlog{destination=\"telegram\"} 2"));
        assert!(text.contains("# TYPE supportbot_operator_reply_latency_seconds histogram"));
    }
}
