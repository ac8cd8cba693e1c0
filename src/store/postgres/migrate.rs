//! The PostgreSQL schema: versioned migrations built into the binary (the SQL files beside this one), applied in
//! order by [`migrate`] in one transaction and recorded in the `schema_version` table. A database whose schema is
//! newer than this binary knows is refused before anything is written.

use tokio_postgres::Client;

use super::{db_error, LOCK_MIGRATE};
use crate::store::StoreError;

/// One migration: its version, name and SQL.
pub struct Migration {
    /// The schema version it brings the database to.
    pub version: i32,
    /// What it does, in a word or two.
    pub name: &'static str,
    /// The statements.
    pub sql: &'static str,
}

/// Every migration, oldest first; versions count up from 1.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "records, inbound, outbox with leases, sequences",
        sql: include_str!("migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "mailboxes of web pages",
        sql: include_str!("migrations/0002_page_mail.sql"),
    },
    Migration {
        version: 3,
        name: "uploaded files of web pages",
        sql: include_str!("migrations/0003_uploads.sql"),
    },
];

/// The schema version this binary writes.
pub fn latest() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// What [`migrate`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    /// The schema version before.
    pub from: i32,
    /// The schema version now.
    pub to: i32,
}

const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_version (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)";

/// Brings the database's schema to [`latest`]: creates it in an empty database, applies the missing migrations,
/// and does nothing when it is current. Processes starting at once take turns (an advisory lock). A newer schema
/// is refused with [`StoreError::NewerSchema`] and nothing written.
pub async fn migrate(client: &mut Client, target: &str) -> Result<Migrated, StoreError> {
    let tx = client.transaction().await.map_err(db_error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1, 0)", &[&LOCK_MIGRATE])
        .await
        .map_err(db_error)?;
    tx.batch_execute(VERSION_TABLE).await.map_err(db_error)?;
    let row = tx
        .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
        .await
        .map_err(db_error)?;
    let from: i32 = row.get(0);
    if from > latest() {
        // Dropping the transaction rolls back the version table too.
        return Err(StoreError::NewerSchema {
            target: target.to_string(),
            found: from,
            known: latest(),
        });
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > from) {
        tx.batch_execute(migration.sql).await.map_err(|e| {
            StoreError::Database(format!(
                "schema migration {} ({}) failed: {}",
                migration.version,
                migration.name,
                super::error_text(&e)
            ))
        })?;
        tx.execute(
            "INSERT INTO schema_version (version, name) VALUES ($1, $2)",
            &[&migration.version, &migration.name],
        )
        .await
        .map_err(db_error)?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied schema migration"
        );
    }
    tx.commit().await.map_err(db_error)?;
    Ok(Migrated { from, to: latest() })
}

/// The database's schema version without changing anything (0 when it has none).
pub async fn current(client: &Client) -> Result<i32, StoreError> {
    let exists = client
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
        .await
        .map_err(db_error)?;
    if !exists.get::<_, bool>(0) {
        return Ok(0);
    }
    let row = client
        .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
        .await
        .map_err(db_error)?;
    Ok(row.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i32 + 1, "{}", m.name);
            assert!(!m.sql.trim().is_empty());
        }
        assert_eq!(latest(), MIGRATIONS.len() as i32);
    }
}
