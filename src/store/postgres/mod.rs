//! The PostgreSQL backend: the state in a database that any number of `serve` processes share. Each handling
//! step is one transaction on one pooled connection, behind a per-conversation advisory lock (see [`step`]);
//! received messages are deduplicated by a unique key; case numbers, arrival and outbox sequence numbers come
//! from database sequences; outbox items are leased to the process that delivers them. Records are kept as the
//! same versioned JSON bytes as in the sled store ([`encode`](crate::store::encode)).
//!
//! Durability: every step's commit and every stored inbound message is a committed transaction with
//! `synchronous_commit = on` (set for each connection), so it is on the server's disk when the call returns;
//! [`Backend::durable`](crate::store::Backend::durable) has nothing left to wait for.
//!
//! The connection has no TLS: run the database on the same host or a private network (or a local tunnel).

mod commit;
pub mod copy;
mod events;
mod lead;
pub mod migrate;
mod page_mail;
mod query;
mod reads;
mod step;
mod tables;
#[cfg(test)]
mod tests;
mod tls;
mod uploads;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;

pub use self::migrate::Migrated;
use crate::config::DatabaseUrl;
use crate::store::StoreError;

/// Advisory-lock namespace (first key of the two-key form) of schema migrations.
pub(super) const LOCK_MIGRATE: i32 = 0x5342_0000;
/// Advisory-lock namespace of handling steps; the second key is `hashtext(conversation key)`.
pub(super) const LOCK_STEPS: i32 = 0x5342_0001;

/// Advisory-lock namespace of single receivers' leads (session locks); the second key is `hashtext(role)`.
pub(super) const LOCK_LEAD: i32 = 0x5342_0002;

/// Connections one process keeps open at most. A step holds one from its start to its commit, so this bounds
/// the steps a process runs at once (the engine runs at most eight workers).
const POOL_SIZE: usize = 16;
/// How long connecting may take when the URL does not say (`connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A PostgreSQL store; cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// The connection settings, for the connection that listens for other processes' case events.
    settings: tokio_postgres::Config,
    /// Makes connections (with TLS when the URL asks for it).
    connector: tls::Connector,
    /// This process's name in outbox leases: host, process id and a random part.
    instance: String,
    /// Where the database is, without the password, for messages.
    target: String,
    /// Counts commits for their tickets.
    tickets: AtomicU64,
    /// What migrating did when opening.
    migrated: Migrated,
}

/// The text of a database error: the server's message (with its detail) or the client's.
pub(super) fn error_text(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_string(),
        },
        None => {
            let mut text = err.to_string();
            let mut source = std::error::Error::source(err);
            while let Some(inner) = source {
                text.push_str(": ");
                text.push_str(&inner.to_string());
                source = inner.source();
            }
            text
        }
    }
}

/// A failed statement: a serialization failure or a deadlock is [`StoreError::Conflict`] (run the step again),
/// anything else [`StoreError::Database`].
pub(super) fn db_error(err: tokio_postgres::Error) -> StoreError {
    match err.code() {
        Some(code)
            if *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED =>
        {
            StoreError::Conflict(error_text(&err))
        }
        _ => StoreError::Database(error_text(&err)),
    }
}

/// This process's instance name: `host:pid:random`.
fn instance_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!(
        "{host}:{}:{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

impl PgStore {
    /// Connects to the database, checks that it can be used (reachable, the password accepted) and brings its
    /// schema up to date. A database of a newer schema is refused ([`StoreError::NewerSchema`]) with nothing
    /// written.
    pub async fn open(url: &DatabaseUrl) -> Result<PgStore, StoreError> {
        let target = url.describe();
        let mut settings = url.settings().clone();
        if settings.get_connect_timeout().is_none() {
            settings.connect_timeout(CONNECT_TIMEOUT);
        }
        if settings.get_application_name().is_none() {
            settings.application_name("supportbot");
        }
        // A commit is durable when it returns, whatever the server's or the database's default says.
        let settings = committing(&settings, "on");
        let connector = tls::connector(url.tls())?;
        let pool = make_pool(settings.clone(), connector.clone(), POOL_SIZE)?;
        let mut client = pool.get().await.map_err(|e| connect_error(&target, e))?;
        let migrated = migrate::migrate(&mut client, &target).await?;
        drop(client);
        let instance = instance_name();
        tracing::info!(%target, %instance, schema = migrated.to, "opened the PostgreSQL store");
        Ok(PgStore {
            inner: Arc::new(Inner {
                pool,
                settings,
                connector,
                instance,
                target,
                tickets: AtomicU64::new(0),
                migrated,
            }),
        })
    }

    /// This process's name in outbox leases.
    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    /// Where the database is (without the password).
    pub fn target(&self) -> &str {
        &self.inner.target
    }

    /// The schema versions before and after opening.
    pub fn migrated(&self) -> &Migrated {
        &self.inner.migrated
    }

    /// A pooled connection.
    pub(super) async fn conn(&self) -> Result<Object, StoreError> {
        self.get(&self.inner.pool).await
    }

    async fn get(&self, pool: &Pool) -> Result<Object, StoreError> {
        pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(err) => StoreError::Database(format!(
                "cannot connect to the PostgreSQL {}: {}",
                self.inner.target,
                error_text(&err)
            )),
            other => StoreError::Database(format!(
                "no connection to the PostgreSQL {}: {other}",
                self.inner.target
            )),
        })
    }

    fn next_ticket(&self) -> crate::store::Ticket {
        crate::store::Ticket(self.inner.tickets.fetch_add(1, Ordering::Relaxed) + 1)
    }
}

/// `settings` with connections committing with `synchronous_commit` set to `synchronous`.
fn committing(settings: &tokio_postgres::Config, synchronous: &str) -> tokio_postgres::Config {
    let mut settings = settings.clone();
    let options = match settings.get_options() {
        Some(given) => format!("{given} -c synchronous_commit={synchronous}"),
        None => format!("-c synchronous_commit={synchronous}"),
    };
    settings.options(&options);
    settings
}

/// A pool of at most `size` connections to `settings`.
fn make_pool(
    settings: tokio_postgres::Config,
    connector: tls::Connector,
    size: usize,
) -> Result<Pool, StoreError> {
    let manager = Manager::from_config(
        settings,
        connector,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .build()
        .map_err(|e| StoreError::Database(format!("cannot make the connection pool: {e}")))
}

fn connect_error(target: &str, err: deadpool_postgres::PoolError) -> StoreError {
    let message = match err {
        deadpool_postgres::PoolError::Backend(err) => error_text(&err),
        other => other.to_string(),
    };
    StoreError::Connect {
        target: target.to_string(),
        message,
    }
}

/// A `u64` number as PostgreSQL's `bigint`.
pub(super) fn big(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A `bigint` column as a `u64` number.
pub(super) fn unbig(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
