//! Test helpers of the adapter crate: the fake Bot API and a small in-memory inbound sink.
#![allow(dead_code)]

pub mod fake_api;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use supportbot_chat::{Accepted, Inbound, InboundSink, SinkError};

/// A sink that keeps what it accepted, dedupes by message id, and can fail on demand.
#[derive(Default)]
pub struct MemorySink {
    accepted: Mutex<Vec<Inbound>>,
    seen: Mutex<HashSet<String>>,
    attempts: Mutex<Vec<String>>,
    fail_next: Mutex<u32>,
}

impl MemorySink {
    pub fn new() -> Arc<MemorySink> {
        Arc::new(MemorySink::default())
    }

    /// The next `n` accepts fail with a storage error.
    pub fn fail_next(&self, n: u32) {
        *self.fail_next.lock().unwrap() = n;
    }

    /// Messages stored, in order (duplicates not repeated).
    pub fn accepted(&self) -> Vec<Inbound> {
        self.accepted.lock().unwrap().clone()
    }

    /// Ids of every accept call, including failed and duplicate ones.
    pub fn attempts(&self) -> Vec<String> {
        self.attempts.lock().unwrap().clone()
    }

    /// Waits until `n` messages were stored.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Inbound> {
        let deadline = Instant::now() + limit;
        loop {
            let got = self.accepted();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {n} messages; got {got:#?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[async_trait]
impl InboundSink for MemorySink {
    async fn accept(&self, message: Inbound) -> Result<Accepted, SinkError> {
        self.attempts.lock().unwrap().push(message.id.clone());
        {
            let mut fail = self.fail_next.lock().unwrap();
            if *fail > 0 {
                *fail -= 1;
                return Err(SinkError::Storage("disk full (test)".into()));
            }
        }
        if !self.seen.lock().unwrap().insert(message.id.clone()) {
            return Ok(Accepted::Duplicate);
        }
        self.accepted.lock().unwrap().push(message);
        Ok(Accepted::New)
    }
}
