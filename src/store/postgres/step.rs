//! A handling step on PostgreSQL: one pooled connection holding the conversation's advisory lock and one
//! SERIALIZABLE transaction, from [`Backend::begin_step`](crate::store::Backend::begin_step) to the commit.
//!
//! Why a session lock taken before `BEGIN`, and why SERIALIZABLE:
//! - Steps of one conversation must run one at a time and in the order they began, across processes. Each step
//!   first waits for `pg_advisory_lock(LOCK_STEPS, hashtext(key))`; PostgreSQL grants waiting lockers in turn.
//!   The lock is taken *before* the transaction begins because a REPEATABLE READ or SERIALIZABLE transaction
//!   takes its snapshot at its first statement: a lock taken inside it would leave the step reading the state
//!   as it was before the previous step of the conversation committed.
//! - Steps of different conversations run at once, and may touch the same rows: an operator's step and the
//!   user's step change one case, two operators take the same waiting case, two users ask the same unanswered
//!   question. The engine reads first and writes later, so under READ COMMITTED one of two such steps would
//!   overwrite the other's change unnoticed; row locks would have to be named by the engine for each read.
//!   SERIALIZABLE detects every such collision and fails one of the steps (SQLSTATE 40001, or 40P01 for a
//!   deadlock), which becomes [`StoreError::Conflict`] so the engine runs it again on fresh reads. Steps of one
//!   conversation never collide with each other (the lock), so conflicts only come from real cross-conversation
//!   overlaps (and PostgreSQL's occasional false positive, which the rerun absorbs).
//!
//! A step dropped without a commit (an error, a cancelled task) rolls back and unlocks on its connection before
//! the connection goes back to the pool; without a runtime to do that, the connection is closed instead, which
//! ends the transaction and releases the lock on the server.

use std::sync::Arc;

use async_trait::async_trait;
use deadpool_postgres::Object;

use super::{db_error, query, unbig, PgStore, LOCK_STEPS};
use crate::store::backend::{Commit, Known, QueueEntry, RecentSlot, Stamp, Step, Stored};
use crate::store::records::{CaseLog, CaseRecord, Conversation, Line, Reserved, StoredInbound};
use crate::store::StoreError;

/// One step: the connection that holds the lock and the transaction.
pub(super) struct PgStep {
    pub(super) store: PgStore,
    /// `None` once committed or handed to the cleanup.
    pub(super) conn: Option<Object>,
    pub(super) key: Arc<str>,
}

impl PgStore {
    /// Waits for the conversation's lock, then begins the step's transaction.
    pub(super) async fn begin(&self, key: &str) -> Result<PgStep, StoreError> {
        let conn = self.conn().await?;
        // From here the step owns the connection: if this future is dropped while the lock is awaited, the
        // step's cleanup waits for the lock request to finish and releases it.
        let step = PgStep {
            store: self.clone(),
            conn: Some(conn),
            key: Arc::from(key),
        };
        let conn = step.conn();
        let lock = conn
            .prepare_cached("SELECT pg_advisory_lock($1, hashtext($2))")
            .await
            .map_err(db_error)?;
        // Sent together; the server runs BEGIN once the lock is granted.
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&LOCK_STEPS, &key];
        let (locked, begun) = tokio::join!(
            conn.execute(&lock, &params),
            conn.batch_execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
        );
        locked.map_err(db_error)?;
        begun.map_err(db_error)?;
        Ok(step)
    }
}

impl PgStep {
    pub(super) fn conn(&self) -> &Object {
        self.conn
            .as_ref()
            .expect("a step's connection until it ends")
    }

    /// Rolls back the transaction when `rollback` (a step that did not commit) and releases the lock; the
    /// connection can then go back to the pool.
    pub(super) async fn release(
        conn: &Object,
        key: &str,
        rollback: bool,
    ) -> Result<(), tokio_postgres::Error> {
        if rollback {
            conn.batch_execute("ROLLBACK").await?;
        }
        let unlock = conn
            .prepare_cached("SELECT pg_advisory_unlock($1, hashtext($2))")
            .await?;
        conn.execute(&unlock, &[&LOCK_STEPS, &key]).await?;
        Ok(())
    }
}

impl Drop for PgStep {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let key = self.key.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(err) = PgStep::release(&conn, &key, true).await {
                        tracing::warn!(error = %err, "closing a connection whose step could not be cleaned up");
                        drop(Object::take(conn));
                    }
                });
            }
            Err(_) => drop(Object::take(conn)),
        }
    }
}

#[async_trait]
impl Step for PgStep {
    async fn earlier_unhandled(
        &self,
        key: &str,
        seq: u64,
    ) -> Result<Option<StoredInbound>, StoreError> {
        query::earlier_unhandled(self.conn(), key, seq).await
    }

    async fn conversation(&self, key: &str) -> Result<Option<Known<Conversation>>, StoreError> {
        query::conversation(self.conn(), key).await
    }

    async fn conversation_if_changed(
        &self,
        key: &str,
        known: &Stamp,
    ) -> Result<Option<Option<Conversation>>, StoreError> {
        query::conversation_if_changed(self.conn(), key, known).await
    }

    async fn recent_lines(
        &self,
        conversation: &str,
    ) -> Result<Vec<(RecentSlot, Line)>, StoreError> {
        query::recent_lines(self.conn(), conversation).await
    }

    async fn case(&self, number: u64) -> Result<Option<CaseRecord>, StoreError> {
        query::case(self.conn(), number).await
    }

    async fn case_line(&self, number: u64, line: u32) -> Result<Option<CaseLog>, StoreError> {
        query::case_line(self.conn(), number, line).await
    }

    async fn next_case_number(&self) -> Result<u64, StoreError> {
        // Sequences are outside transactions: a number is never handed out twice, even when the step fails.
        let row = query::row(self.conn(), "SELECT nextval('case_numbers')", &[]).await?;
        Ok(unbig(row.map_or(0, |r| r.get(0))))
    }

    async fn open_case_of(&self, account: &str) -> Result<Option<String>, StoreError> {
        let row = query::row(
            self.conn(),
            "SELECT case_id FROM user_cases WHERE account = $1",
            &[&account],
        )
        .await?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn held_cases(&self, account: &str) -> Result<Vec<u64>, StoreError> {
        let rows = query::rows(
            self.conn(),
            "SELECT number FROM held_cases WHERE account = $1 ORDER BY number",
            &[&account],
        )
        .await?;
        Ok(rows.iter().map(|r| unbig(r.get(0))).collect())
    }

    async fn waiting(&self) -> Result<Vec<QueueEntry>, StoreError> {
        query::waiting(self.conn()).await
    }

    async fn reserved(&self) -> Result<Vec<(u64, Reserved)>, StoreError> {
        query::reserved(self.conn()).await
    }

    async fn case_of_message(&self, reference: &str) -> Result<Option<String>, StoreError> {
        query::case_of_message(self.conn(), reference).await
    }

    async fn unanswered(&self, question: &str) -> Result<Option<u64>, StoreError> {
        let row = query::row(
            self.conn(),
            "SELECT count FROM unanswered WHERE question = $1",
            &[&question],
        )
        .await?;
        Ok(row.map(|r| unbig(r.get(0))))
    }

    async fn commit(mut self: Box<Self>, commit: Commit) -> Result<Stored, StoreError> {
        let conn = self.conn.take().expect("a step commits once");
        let written = super::commit::store(&self.store, &conn, commit).await;
        let outbox_seqs = match written {
            Ok(seqs) => seqs,
            Err(err) => {
                if let Err(cleanup) = PgStep::release(&conn, &self.key, true).await {
                    tracing::warn!(error = %cleanup, "closing a connection whose step could not be cleaned up");
                    drop(Object::take(conn));
                }
                return Err(err);
            }
        };
        // COMMIT and the unlock are sent together; the lock goes once the commit is done, whatever its outcome.
        let unlock = conn
            .prepare_cached("SELECT pg_advisory_unlock($1, hashtext($2))")
            .await
            .map_err(db_error);
        let committed = match unlock {
            Ok(unlock) => {
                let key: &str = &self.key;
                let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&LOCK_STEPS, &key];
                let (committed, unlocked) =
                    tokio::join!(conn.batch_execute("COMMIT"), conn.execute(&unlock, &params));
                if let Err(err) = unlocked {
                    tracing::warn!(error = %err, "closing a connection whose step lock could not be released");
                    let result = committed.map_err(db_error);
                    drop(Object::take(conn));
                    result
                } else {
                    committed.map_err(db_error)
                }
            }
            Err(err) => {
                drop(Object::take(conn));
                Err(err)
            }
        };
        committed?;
        Ok(Stored {
            ticket: self.store.next_ticket(),
            outbox_seqs,
        })
    }
}
