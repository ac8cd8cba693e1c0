//! Two instances in two processes: the bench starts itself twice as children, each running one engine with its
//! own pool on the shared database and sending the traffic of its half of the conversations (each conversation
//! stays on one instance, as behind a load balancer with sticky sessions). The parent starts a round by a line
//! on each child's stdin and takes the time until both have answered that every message of the round was
//! handled and delivered.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use supportbot::config::DatabaseUrl;
use supportbot::faq::Faq;
use supportbot::store::Store;
use supportbot_chat::Shutdown;

use super::limit::CpuLimit;
use crate::common;

/// The variable that makes the bench a child: its index, then the database URL (`index url`).
pub const CHILD_VAR: &str = "SUPPORTBOT_BENCH_CHILD";

/// The running children.
pub struct Children {
    procs: Vec<(Child, ChildStdin, BufReader<ChildStdout>)>,
    /// The children's CPU limits, if any (removed after the children end).
    limits: Vec<CpuLimit>,
}

impl Children {
    /// Starts `n` children on `url`, each ready once this returns; with `cores`, each limited to that many CPUs.
    pub fn start(n: usize, url: &str, cores: Option<f64>) -> Children {
        let exe = std::env::current_exe().unwrap();
        let mut limits = Vec::new();
        let procs = (0..n)
            .map(|i| {
                let mut child = Command::new(&exe)
                    .env(CHILD_VAR, format!("{i}/{n} {url}"))
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap();
                if let Some(cores) = cores {
                    let name = format!("supportbot-bench-{}-{i}", std::process::id());
                    match CpuLimit::apply(child.id(), cores, &name) {
                        Ok(limit) => limits.push(limit),
                        Err(err) => panic!("cannot limit child {i}: {err}"),
                    }
                }
                let stdin = child.stdin.take().unwrap();
                let mut stdout = BufReader::new(child.stdout.take().unwrap());
                let mut line = String::new();
                stdout.read_line(&mut line).unwrap();
                assert_eq!(line.trim(), "ready", "child {i} did not start");
                (child, stdin, stdout)
            })
            .collect();
        Children { procs, limits }
    }

    /// The children's process ids.
    pub fn pids(&self) -> Vec<u32> {
        self.procs.iter().map(|(child, _, _)| child.id()).collect()
    }

    /// Runs round `round` on every child at once; the time until the last one is done.
    pub fn round(&mut self, round: usize) -> Duration {
        let start = Instant::now();
        for (_, stdin, _) in &mut self.procs {
            writeln!(stdin, "{round}").unwrap();
            stdin.flush().unwrap();
        }
        for (i, (_, _, stdout)) in self.procs.iter_mut().enumerate() {
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            assert_eq!(line.trim(), "done", "child {i} failed its round");
        }
        start.elapsed()
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for (mut child, stdin, _) in self.procs.drain(..) {
            drop(stdin);
            child.wait().unwrap();
        }
        self.limits.clear();
    }
}

/// The child's side: `spec` is the value of [`CHILD_VAR`]. Runs rounds read from stdin until it closes.
pub fn run(spec: &str, conversations: usize, per_conversation: usize) {
    let (shard, url) = spec.split_once(' ').expect("index/count url");
    let (index, count) = shard.split_once('/').expect("index/count");
    let (index, count): (usize, usize) = (index.parse().unwrap(), count.parse().unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let config = common::config(dir.path());
    let faq = Faq::builtin();
    let questions = common::questions(&faq);
    let shutdown = Shutdown::new();
    let engine = rt.block_on(async {
        let store = Store::connect(&DatabaseUrl::parse(url).unwrap())
            .await
            .unwrap();
        common::engine(
            &config,
            &faq,
            store,
            None,
            Arc::new(common::Null::default()),
            &shutdown,
        )
        .await
    });
    println!("ready");
    let mine: Vec<usize> = (index..conversations).step_by(count).collect();
    for line in std::io::stdin().lock().lines() {
        let round: usize = line.unwrap().trim().parse().unwrap();
        rt.block_on(super::traffic(
            std::slice::from_ref(&engine),
            &mine,
            per_conversation,
            &questions,
            round,
        ));
        println!("done");
    }
    shutdown.cancel();
    rt.block_on(async { tokio::time::sleep(Duration::from_millis(200)).await });
}
