//! CPU limits for the bench's child processes: each child in a control group of its own with a CPU quota (the
//! cgroup v1 `cpu` controller, or `cpu.max` of cgroup v2). On a machine whose cores one unlimited instance and
//! the database already fill, two instances cannot show how they scale; limited to a share of a core each, with
//! the rest left to the database, one instance and two can be compared.

use std::path::PathBuf;

/// The quota period, in microseconds.
const PERIOD_US: u64 = 10_000;

/// A control group holding one process; removed when dropped (after the process has ended).
pub struct CpuLimit {
    dir: PathBuf,
}

impl CpuLimit {
    /// Puts process `pid` (all its threads) into a new group `name` limited to `cores` CPUs.
    pub fn apply(pid: u32, cores: f64, name: &str) -> Result<CpuLimit, String> {
        let quota = (cores * PERIOD_US as f64).round() as u64;
        let write = |dir: &PathBuf, file: &str, value: &str| {
            std::fs::write(dir.join(file), value)
                .map_err(|e| format!("cannot write {}: {e}", dir.join(file).display()))
        };
        let v1 = PathBuf::from("/sys/fs/cgroup/cpu");
        let v2 = PathBuf::from("/sys/fs/cgroup");
        let (dir, settings) = if v1.join("cpu.cfs_quota_us").exists() {
            (
                v1.join(name),
                vec![
                    ("cpu.cfs_period_us", PERIOD_US.to_string()),
                    ("cpu.cfs_quota_us", quota.to_string()),
                ],
            )
        } else if std::fs::read_to_string(v2.join("cgroup.controllers"))
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "cpu"))
        {
            (
                v2.join(name),
                vec![("cpu.max", format!("{quota} {PERIOD_US}"))],
            )
        } else {
            return Err("no writable cgroup cpu controller on this machine".into());
        };
        std::fs::create_dir(&dir)
            .map_err(|e| format!("cannot make the control group {}: {e}", dir.display()))?;
        let limit = CpuLimit { dir };
        for (file, value) in settings {
            write(&limit.dir, file, &value)?;
        }
        write(&limit.dir, "cgroup.procs", &pid.to_string())?;
        Ok(limit)
    }
}

impl Drop for CpuLimit {
    fn drop(&mut self) {
        // Only an empty group can be removed; its process has ended by now.
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}
