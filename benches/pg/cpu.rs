//! CPU time used by the benchmark: this process, the processes it started and the PostgreSQL server (its main
//! process and backends), read from `/proc`. On a machine shared with other work, throughput follows what the
//! others leave free; the CPU time one message costs does much less.

use std::path::Path;

/// Clock ticks per second of `/proc/<pid>/stat` times (`CLK_TCK`, 100 on Linux).
const TICKS: f64 = 100.0;

/// A process's parent and its CPU ticks, its own and its waited-for children's.
fn stat(pid: u32) -> Option<(u32, u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
    let n = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    Some((u32::try_from(n(1)?).ok()?, n(11)? + n(12)?, n(13)? + n(14)?))
}

fn pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The PostgreSQL server listening on `port` (its command line names the port).
fn postmaster(port: u16) -> Option<u32> {
    let port = port.to_string();
    pids().into_iter().find(|pid| {
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            return false;
        };
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        Path::new(std::str::from_utf8(args[0]).unwrap_or_default()).ends_with("postgres")
            && args
                .windows(2)
                .any(|w| w[0] == b"-p" && w[1] == port.as_bytes())
    })
}

/// Reads the CPU time of the bench and of the server on one port.
pub struct Meter {
    postmaster: Option<u32>,
}

impl Meter {
    pub fn new(port: u16) -> Meter {
        Meter {
            postmaster: postmaster(port),
        }
    }

    /// CPU seconds so far: this process and its children (`children`, running or done), the server and its
    /// backends (those running and those that ended).
    pub fn seconds(&self, children: &[u32]) -> f64 {
        let me = std::process::id();
        let mut ticks = stat(me).map_or(0, |(_, own, done)| own + done);
        for pid in children {
            ticks += stat(*pid).map_or(0, |(_, own, _)| own);
        }
        if let Some(server) = self.postmaster {
            ticks += stat(server).map_or(0, |(_, own, done)| own + done);
            for pid in pids() {
                if let Some((parent, own, _)) = stat(pid) {
                    if parent == server {
                        ticks += own;
                    }
                }
            }
        }
        ticks as f64 / TICKS
    }
}
