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
//! What a step of conversation `key` reads of `key` itself (its oldest unhandled message and its record) is read
//! together with taking the lock and `BEGIN`, in one round trip: the lock is granted first, then the
//! transaction begins and the reads take its snapshot, exactly as if the engine had read them first. Later
//! reads in the step see that same snapshot, so answering the engine's reads of `key` from what was read then
//! gives what reading again would. A step that would not have read them (an operator's action, a background
//! step) reads them all the same: under SERIALIZABLE that can only add a collision with a concurrent writer of
//! that conversation, which fails one step as a conflict that the engine runs again, never a wrong result. The
//! commit goes in one round trip too (see [`super::commit::commit`]).
//!
//! A step dropped without a commit (an error, a cancelled task) rolls back and unlocks on its connection before
//! the connection goes back to the pool; without a runtime to do that, the connection is closed instead, which
//! ends the transaction and releases the lock on the server.

use std::sync::Arc;

use async_trait::async_trait;
use deadpool_postgres::Object;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::commit::After;
use super::{big, db_error, query, unbig, PgStore, LOCK_STEPS};
use crate::store::backend::{
    Commit, Known, QueueEntry, RecentSlot, Stamp, StampKind, Step, Stored,
};
use crate::store::records::{CaseLog, CaseRecord, Conversation, Line, Reserved, StoredInbound};
use crate::store::{decode, StoreError};

/// One step: the connection that holds the lock and the transaction.
pub(super) struct PgStep {
    pub(super) store: PgStore,
    /// `None` once committed or handed to the cleanup.
    pub(super) conn: Option<Object>,
    pub(super) key: Arc<str>,
    /// The oldest unhandled message of `key` (`seq`, `record`) when the step began.
    oldest: Option<(i64, Vec<u8>)>,
    /// The conversation `key` (`version`, `record`) when the step began.
    conversation: Option<(i64, Vec<u8>)>,
}

const LOCK_SQL: &str = "SELECT pg_advisory_lock($1, hashtext($2))";
/// The oldest unhandled message of conversation `$1` and its record, each when there is one: one row.
const OWN_SQL: &str = "SELECT o.seq, o.record, c.version, c.record FROM (SELECT 1) AS one \
     LEFT JOIN LATERAL (SELECT seq, record FROM inbound WHERE conversation = $1 ORDER BY seq LIMIT 1) AS o ON true \
     LEFT JOIN conversations AS c ON c.key = $1";

impl PgStore {
    /// Waits for the conversation's lock, then begins the step's transaction and reads what the step will ask
    /// of its own conversation.
    pub(super) async fn begin(&self, key: &str) -> Result<PgStep, StoreError> {
        let conn = self.conn().await?;
        // From here the step owns the connection: if this future is dropped while the lock is awaited, the
        // step's cleanup waits for the lock request to finish and releases it.
        let mut step = PgStep {
            store: self.clone(),
            conn: Some(conn),
            key: Arc::from(key),
            oldest: None,
            conversation: None,
        };
        let conn = step.conn();
        let lock = conn.prepare_cached(LOCK_SQL).await.map_err(db_error)?;
        let own = conn.prepare_cached(OWN_SQL).await.map_err(db_error)?;
        let params: [&(dyn ToSql + Sync); 2] = [&LOCK_STEPS, &key];
        let own_params: [&(dyn ToSql + Sync); 1] = [&key];
        // Sent together, in this order (`biased`: each request leaves at its first poll); the server runs BEGIN
        // and the reads once the lock is granted.
        let (locked, begun, own) = tokio::join!(
            biased;
            conn.execute(&lock, &params),
            conn.batch_execute("BEGIN ISOLATION LEVEL SERIALIZABLE"),
            conn.query_one(&own, &own_params),
        );
        locked.map_err(db_error)?;
        begun.map_err(db_error)?;
        let own = own.map_err(db_error)?;
        step.oldest = pair(&own, 0);
        step.conversation = pair(&own, 2);
        Ok(step)
    }
}

/// Columns `at` (a number) and `at + 1` (bytes) of `row`, when not null.
fn pair(row: &Row, at: usize) -> Option<(i64, Vec<u8>)> {
    Some((
        row.get::<_, Option<i64>>(at)?,
        row.get::<_, Option<Vec<u8>>>(at + 1)?,
    ))
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

    /// The conversation as read when the step began, with its version as the stamp.
    fn own_conversation(&self) -> Result<Option<(i64, Conversation)>, StoreError> {
        self.conversation
            .as_ref()
            .map(|(version, record)| {
                let value = decode(format!("conversations/{}", self.key).as_bytes(), record)?;
                Ok((*version, value))
            })
            .transpose()
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
        if key != &*self.key {
            return query::earlier_unhandled(self.conn(), key, seq).await;
        }
        // The oldest message of the conversation is earlier than `seq` exactly when one is.
        self.oldest
            .as_ref()
            .filter(|(oldest, _)| *oldest < big(seq))
            .map(|(oldest, record)| {
                let seq = unbig(*oldest);
                let mut stored: StoredInbound =
                    decode(format!("inbound/{seq}").as_bytes(), record)?;
                stored.seq = seq;
                Ok(stored)
            })
            .transpose()
    }

    async fn conversation(&self, key: &str) -> Result<Option<Known<Conversation>>, StoreError> {
        if key != &*self.key {
            return query::conversation(self.conn(), key).await;
        }
        Ok(self.own_conversation()?.map(|(version, value)| Known {
            stamp: Stamp(StampKind::Version(unbig(version))),
            value,
        }))
    }

    async fn conversation_if_changed(
        &self,
        key: &str,
        known: &Stamp,
    ) -> Result<Option<Option<Conversation>>, StoreError> {
        if key != &*self.key {
            return query::conversation_if_changed(self.conn(), key, known).await;
        }
        let unchanged = match (&known.0, &self.conversation) {
            (StampKind::Version(v), Some((version, _))) => *version == big(*v),
            _ => false,
        };
        if unchanged {
            return Ok(None);
        }
        Ok(Some(self.own_conversation()?.map(|(_, value)| value)))
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
        let (result, after) = super::commit::commit(&self.store, &conn, &self.key, commit).await;
        match after {
            After::Clean => {}
            After::Open => {
                if let Err(cleanup) = PgStep::release(&conn, &self.key, true).await {
                    tracing::warn!(error = %cleanup, "closing a connection whose step could not be cleaned up");
                    drop(Object::take(conn));
                }
            }
            After::Broken => drop(Object::take(conn)),
        }
        let outbox_seqs = result?;
        Ok(Stored {
            ticket: self.store.next_ticket(),
            outbox_seqs,
        })
    }
}
