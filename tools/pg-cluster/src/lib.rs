//! A throw-away PostgreSQL cluster for tests: `initdb` and `pg_ctl start` in a temporary directory, listening on
//! a free loopback port with password (SCRAM) authentication, stopped and removed when dropped.
//!
//! The server binaries are looked for on `PATH`, then in Debian's `/usr/lib/postgresql/<version>/bin`. PostgreSQL
//! refuses to run as root, so under uid 0 the cluster belongs to the `postgres` user (the directory is handed to
//! it and the server commands run through `runuser`).
//!
//! Tests call [`shared`] (one cluster for the whole test binary, a fresh database per test with
//! [`PgCluster::database`]) or [`PgCluster::start`]. Where PostgreSQL is not installed they are skipped with a
//! message on stderr, except when `SUPPORTBOT_REQUIRE_POSTGRES=1`, where the missing server fails the test.
//!
//! A cluster that is never dropped (the shared one, or a test process that was killed) is still stopped: a small
//! watcher process stops the server and removes the directory once the test process is gone.

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

mod tls;

/// The superuser the clusters are made with.
pub const USER: &str = "supportbot";

/// Environment variable that turns a missing PostgreSQL from a skip into a failure (set in CI).
pub const REQUIRE_VAR: &str = "SUPPORTBOT_REQUIRE_POSTGRES";

/// The account that runs the server when the tests run as root.
const SERVER_ACCOUNT: &str = "postgres";

/// Why a cluster could not be made.
#[derive(Debug)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// Options of a cluster.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Whether the server syncs its log to disk (`fsync`). Off by default: a test cluster is thrown away, and the
    /// tests check the client's behaviour, not the server's durability. Benchmarks turn it on.
    pub fsync: bool,
    /// Whether the server accepts TLS connections only (from loopback TCP), with a certificate for `localhost`
    /// and `127.0.0.1` signed by an authority made for the cluster ([`PgCluster::ca_file`]).
    pub tls: bool,
}

/// A running throw-away cluster.
#[derive(Debug)]
pub struct PgCluster {
    dir: Option<tempfile::TempDir>,
    bin: PathBuf,
    port: u16,
    password: String,
    run_as: Option<String>,
    watcher: Option<Child>,
    databases: AtomicU64,
    tls: Option<tls::TlsFiles>,
}

/// Where the server binaries are, or `None` when PostgreSQL is not installed.
pub fn find_bin_dir() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let initdb = dir.join("initdb");
            if initdb.is_file() {
                // Debian links the binaries into PATH; use the directory they really live in.
                let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
                let dir = real.parent().map(Path::to_path_buf).unwrap_or(dir);
                if dir.join("pg_ctl").is_file() {
                    return Some(dir);
                }
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Whether a missing PostgreSQL must fail the tests.
pub fn required() -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1")
}

/// The cluster shared by every test of this test binary, started on first use; `None` (after a message on
/// stderr) when PostgreSQL is not installed and not required. Panics when it is required and missing, or when
/// an installed PostgreSQL does not start.
pub fn shared() -> Option<&'static PgCluster> {
    static SHARED: OnceLock<Option<PgCluster>> = OnceLock::new();
    SHARED
        .get_or_init(|| or_skip(PgCluster::start(Options::default())))
        .as_ref()
}

/// `Ok(Some)` as it is; `Ok(None)` (not installed) is a skip with a message, or a panic when required.
pub fn or_skip(started: Result<Option<PgCluster>, Error>) -> Option<PgCluster> {
    match started {
        Ok(Some(cluster)) => Some(cluster),
        Ok(None) if required() => panic!(
            "{REQUIRE_VAR}=1 but PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql)"
        ),
        Ok(None) => {
            eprintln!(
                "skipped: PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql); \
                 set {REQUIRE_VAR}=1 to make this a failure"
            );
            None
        }
        Err(err) => panic!("the test PostgreSQL cluster did not start: {err}"),
    }
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn account_ids(name: &str) -> Result<(u32, u32), Error> {
    let id = |flag: &str| -> Result<u32, Error> {
        let out = Command::new("id")
            .args([flag, name])
            .output()
            .map_err(|e| Error(format!("cannot run `id {flag} {name}`: {e}")))?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| {
                Error(format!(
                    "there is no `{name}` user to run PostgreSQL as (uid 0 cannot)"
                ))
            })
    };
    Ok((id("-u")?, id("-g")?))
}

fn chown_tree(path: &Path, uid: u32, gid: u32) -> Result<(), Error> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|e| {
        Error(format!(
            "cannot hand {} to the server account: {e}",
            path.display()
        ))
    })?;
    if path.is_dir() {
        for entry in std::fs::read_dir(path).map_err(|e| Error(e.to_string()))? {
            chown_tree(&entry.map_err(|e| Error(e.to_string()))?.path(), uid, gid)?;
        }
    }
    Ok(())
}

fn free_port() -> Result<u16, Error> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| Error(format!("no free port: {e}")))?;
    Ok(listener
        .local_addr()
        .map_err(|e| Error(e.to_string()))?
        .port())
}

fn random_password() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::from("pw");
    for _ in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        h.write_u32(std::process::id());
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

impl PgCluster {
    /// Makes and starts a cluster; `Ok(None)` when PostgreSQL is not installed.
    pub fn start(options: Options) -> Result<Option<PgCluster>, Error> {
        let Some(bin) = find_bin_dir() else {
            return Ok(None);
        };
        let run_as = running_as_root().then(|| SERVER_ACCOUNT.to_string());
        let dir = tempfile::Builder::new()
            .prefix("supportbot-pg-")
            .tempdir()
            .map_err(|e| Error(format!("cannot make a temporary directory: {e}")))?;
        let password = random_password();
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, format!("{password}\n")).map_err(|e| Error(e.to_string()))?;
        if let Some(account) = &run_as {
            let (uid, gid) = account_ids(account)?;
            chown_tree(dir.path(), uid, gid)?;
        }
        let mut cluster = PgCluster {
            dir: Some(dir),
            bin,
            port: 0,
            password,
            run_as,
            watcher: None,
            databases: AtomicU64::new(0),
            tls: None,
        };
        let data = cluster.path().join("data");
        let mut initdb = cluster.server_command("initdb");
        run(
            initdb
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    USER,
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                ])
                .arg(format!("--pwfile={}", pwfile.display())),
            "initdb",
        )?;
        std::fs::remove_file(&pwfile).ok();
        if options.tls {
            cluster.require_tls(&data)?;
        }
        cluster.watcher = Some(cluster.spawn_watcher()?);
        // The port is free when chosen but may be taken before the server binds it: try a few.
        let mut last = Error("not started".into());
        for _ in 0..3 {
            cluster.port = free_port()?;
            match cluster.pg_ctl_start(&options) {
                Ok(()) => return Ok(Some(cluster)),
                Err(err) => last = err,
            }
        }
        Err(last)
    }

    fn path(&self) -> &Path {
        self.dir.as_ref().expect("the cluster directory").path()
    }

    /// A command for one of the server binaries, run as the server account when needed.
    fn server_command(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        let mut cmd = match &self.run_as {
            Some(account) => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", account, "--"]).arg(program);
                cmd
            }
            None => Command::new(program),
        };
        cmd.stdin(Stdio::null()).current_dir(self.path());
        cmd
    }

    fn pg_ctl_start(&self, options: &Options) -> Result<(), Error> {
        let settings = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync={} -c max_connections=200",
            self.port,
            self.path().display(),
            if options.fsync { "on" } else { "off" },
        );
        let settings = match &self.tls {
            Some(files) => format!(
                "{settings} -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                files.cert.display(),
                files.key.display()
            ),
            None => settings,
        };
        let log = self.path().join("server.log");
        run(
            self.server_command("pg_ctl")
                .arg("-D")
                .arg(self.path().join("data"))
                .arg("-l")
                .arg(&log)
                .args(["-o", &settings, "-w", "-t", "60", "start"]),
            "pg_ctl start",
        )
        .map_err(|Error(e)| {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            Error(format!("{e}\nserver log:\n{tail}"))
        })
    }

    /// A process that stops the server and removes the directory once this process is gone.
    fn spawn_watcher(&self) -> Result<Child, Error> {
        let script = format!(
            "while [ -d /proc/{pid} ]; do sleep 1; done; \
             {pg_ctl} -D {data} stop -m immediate >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            pg_ctl = self.bin.join("pg_ctl").display(),
            data = self.path().join("data").display(),
            dir = self.path().display(),
        );
        let mut cmd = match &self.run_as {
            Some(account) => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", account, "--", "sh", "-c", &script]);
                cmd
            }
            None => {
                let mut cmd = Command::new("sh");
                cmd.args(["-c", &script]);
                cmd
            }
        };
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error(format!("cannot start the cluster's watcher: {e}")))
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The certificate (PEM) of the authority that signed the server's, when the cluster was started with TLS.
    pub fn ca_file(&self) -> Option<&Path> {
        self.tls.as_ref().map(|t| t.ca.as_path())
    }

    /// Makes the cluster's certificates and lets TCP clients in with TLS only.
    fn require_tls(&mut self, data: &Path) -> Result<(), Error> {
        let files = tls::make(self.path())?;
        if let Some(account) = &self.run_as {
            let (uid, gid) = account_ids(account)?;
            for file in [&files.ca, &files.cert, &files.key] {
                chown_tree(file, uid, gid)?;
            }
        }
        let hba = "local all all scram-sha-256\n\
                   hostssl all all 127.0.0.1/32 scram-sha-256\n\
                   hostnossl all all 127.0.0.1/32 reject\n";
        std::fs::write(data.join("pg_hba.conf"), hba)
            .map_err(|e| Error(format!("cannot write pg_hba.conf: {e}")))?;
        self.tls = Some(files);
        Ok(())
    }

    /// The superuser's password.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The URL of database `name` as the superuser.
    pub fn url(&self, name: &str) -> String {
        format!(
            "postgres://{USER}:{}@127.0.0.1:{}/{name}",
            self.password, self.port
        )
    }

    /// Creates a fresh database (named after `hint`, made unique) and returns its URL.
    pub fn database(&self, hint: &str) -> String {
        let n = self.databases.fetch_add(1, Ordering::Relaxed);
        let clean: String = hint
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        let name = format!("{clean}_{n}");
        let status = Command::new(self.bin.join("createdb"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                USER,
                &name,
            ])
            .env("PGPASSWORD", &self.password)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run createdb: {e}"));
        assert!(
            status.status.success(),
            "createdb {name} failed: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        self.url(&name)
    }

    /// Runs SQL through `psql` on database `name` and returns what it printed (unaligned, tuples only).
    pub fn psql(&self, name: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                USER,
                "-d",
                name,
            ])
            .args(["-v", "ON_ERROR_STOP=1", "-X", "-q", "-A", "-t", "-c", sql])
            .env("PGPASSWORD", &self.password)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run psql: {e}"));
        assert!(
            out.status.success(),
            "psql failed on {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.dir.is_some() && self.port != 0 {
            let _ = self
                .server_command("pg_ctl")
                .arg("-D")
                .arg(self.path().join("data"))
                .args(["stop", "-m", "fast", "-w"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        if let Some(mut watcher) = self.watcher.take() {
            let _ = watcher.kill();
            let _ = watcher.wait();
        }
        // The directory belongs to the server account under root; root removes it all the same.
        drop(self.dir.take());
    }
}

fn run(cmd: &mut Command, what: &str) -> Result<(), Error> {
    let out = cmd
        .output()
        .map_err(|e| Error(format!("cannot run {what}: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_starts_takes_passwords_and_goes_away_on_drop() {
        let Some(cluster) = or_skip(PgCluster::start(Options::default())) else {
            return;
        };
        let url = cluster.database("harness");
        let name = url.rsplit('/').next().unwrap().to_string();
        assert_eq!(cluster.psql(&name, "SELECT 1 + 1"), "2");
        // A wrong password is refused (scram authentication).
        let out = Command::new(cluster.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &cluster.port().to_string(),
                "-U",
                USER,
                "-d",
                &name,
            ])
            .args(["-X", "-c", "SELECT 1"])
            .env("PGPASSWORD", "not-the-password")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("password authentication failed"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dir = cluster.path().to_path_buf();
        let port = cluster.port();
        drop(cluster);
        assert!(!dir.exists(), "the directory is removed");
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "the server is stopped"
        );
    }
}
