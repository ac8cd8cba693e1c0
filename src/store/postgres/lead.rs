//! Leads of single receivers on PostgreSQL: a session advisory lock per role, held on a connection of its own
//! for as long as the process leads. When the process dies its connection closes and the server releases the
//! lock, so a process waiting for the lead gets it.

use std::time::Duration;

use deadpool_postgres::Object;
use supportbot_chat::{Lead, Shutdown};

use super::{db_error, PgStore, LOCK_LEAD};
use crate::store::StoreError;

/// How often a process that does not lead asks for the lock again.
const ASK_EVERY: Duration = Duration::from_secs(1);
/// How often the leading process checks that its connection (and so its lock) is still there.
const CHECK_EVERY: Duration = Duration::from_secs(2);

/// What a lead holds: the connection with the lock and the task that watches it.
struct Held {
    watch: tokio::task::JoinHandle<()>,
}

impl Drop for Held {
    fn drop(&mut self) {
        // Ends the watcher, which owns the connection: closing it releases the lock on the server.
        self.watch.abort();
    }
}

impl PgStore {
    /// Waits until this process holds the lock of `role`.
    pub(super) async fn lead_role(&self, role: &str) -> Result<Lead, StoreError> {
        loop {
            // A connection taken out of the pool: the lock lives as long as the connection, which must not go
            // back to the pool with it.
            let conn = Object::take(self.conn().await?);
            let row = conn
                .query_one(
                    "SELECT pg_try_advisory_lock($1, hashtext($2))",
                    &[&LOCK_LEAD, &role],
                )
                .await
                .map_err(db_error)?;
            if row.get::<_, bool>(0) {
                let lost = Shutdown::new();
                let signal = lost.clone();
                let role = role.to_string();
                let watch = tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(CHECK_EVERY).await;
                        if let Err(err) = conn.simple_query("SELECT 1").await {
                            tracing::error!(role, error = %err, "the connection holding the lead failed");
                            signal.cancel();
                            return;
                        }
                    }
                });
                return Ok(Lead::new(lost, Held { watch }));
            }
            drop(conn);
            tokio::time::sleep(ASK_EVERY).await;
        }
    }
}
