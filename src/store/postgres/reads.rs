//! The storage interface on PostgreSQL outside steps: reads for views and reports, received messages (stored
//! once per platform id, numbered by a sequence), the outbox with leases (claimed with `FOR UPDATE SKIP
//! LOCKED`, so two processes never claim one item), and the scans of `cases`, `stats` and `outbox`.

use async_trait::async_trait;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::commit::lease_ms;
use super::{big, query, unbig, PgStore};
use crate::store::backend::{Backend, Known, QueueEntry, RecentSlot, Step, Ticket};
use crate::store::records::{
    CaseLog, CaseRecord, Conversation, Line, OutboxRecord, Reserved, StoredInbound,
};
use crate::store::{decode, encode, StoreError};

/// An outbox row (`seq`, `record`) as the record, numbered by its row.
fn outbox_row(row: &Row) -> Result<OutboxRecord, StoreError> {
    let seq = unbig(row.get(0));
    let mut record: OutboxRecord = decode(format!("outbox/{seq}").as_bytes(), row.get(1))?;
    record.seq = seq;
    Ok(record)
}

/// An inbound row (`seq`, `record`) as the stored message, numbered by its row.
fn inbound_row(row: &Row) -> Result<StoredInbound, StoreError> {
    let seq = unbig(row.get(0));
    let mut stored: StoredInbound = decode(format!("inbound/{seq}").as_bytes(), row.get(1))?;
    stored.seq = seq;
    Ok(stored)
}

impl PgStore {
    async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        query::rows(&self.conn().await?, sql, params).await
    }

    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        query::execute(&self.conn().await?, sql, params).await
    }
}

#[async_trait]
impl Backend for PgStore {
    async fn begin_step(&self, key: &str) -> Result<Box<dyn Step>, StoreError> {
        Ok(Box::new(self.begin(key).await?))
    }

    async fn durable(&self, _ticket: Ticket) -> Result<(), StoreError> {
        // Commits run with synchronous_commit on: a committed step is on the server's disk already.
        Ok(())
    }

    async fn conversation(&self, key: &str) -> Result<Option<Known<Conversation>>, StoreError> {
        query::conversation(&self.conn().await?, key).await
    }

    async fn recent_lines(
        &self,
        conversation: &str,
    ) -> Result<Vec<(RecentSlot, Line)>, StoreError> {
        query::recent_lines(&self.conn().await?, conversation).await
    }

    async fn case(&self, number: u64) -> Result<Option<CaseRecord>, StoreError> {
        query::case(&self.conn().await?, number).await
    }

    async fn case_lines(&self, number: u64) -> Result<Vec<CaseLog>, StoreError> {
        let rows = self
            .query(
                "SELECT line, record FROM case_logs WHERE number = $1 ORDER BY line",
                &[&big(number)],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let line: i32 = r.get(0);
                decode(format!("case_logs/{number}/{line}").as_bytes(), r.get(1))
            })
            .collect()
    }

    async fn waiting(&self) -> Result<Vec<QueueEntry>, StoreError> {
        query::waiting(&self.conn().await?).await
    }

    async fn reserved(&self) -> Result<Vec<(u64, Reserved)>, StoreError> {
        query::reserved(&self.conn().await?).await
    }

    async fn case_of_message(&self, reference: &str) -> Result<Option<String>, StoreError> {
        query::case_of_message(&self.conn().await?, reference).await
    }

    async fn remember_case_message(&self, reference: &str, case: &str) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO case_messages (reference, case_id) VALUES ($1, $2) \
             ON CONFLICT (reference) DO UPDATE SET case_id = excluded.case_id",
            &[&reference, &case],
        )
        .await
        .map(drop)
    }

    async fn seen(&self, platform: &str, id: &str) -> Result<bool, StoreError> {
        let rows = self
            .query(
                "SELECT 1 FROM seen_messages WHERE platform = $1 AND id = $2",
                &[&platform, &id],
            )
            .await?;
        Ok(!rows.is_empty())
    }

    async fn store_inbound(
        &self,
        stored: &StoredInbound,
    ) -> Result<Option<(u64, Ticket)>, StoreError> {
        // One statement: the id is marked seen and the message stored together, or neither when it was seen.
        let rows = self
            .query(
                "WITH fresh AS (INSERT INTO seen_messages (platform, id) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING RETURNING 1) \
                 INSERT INTO inbound (seq, conversation, record)                  SELECT nextval('inbound_seq'), $4, $3 FROM fresh RETURNING seq",
                &[
                    &stored.inbound.platform,
                    &stored.inbound.id,
                    &encode(stored),
                    &stored.inbound.conversation_key(),
                ],
            )
            .await?;
        Ok(rows.first().map(|r| (unbig(r.get(0)), self.next_ticket())))
    }

    async fn unhandled(&self) -> Result<Vec<StoredInbound>, StoreError> {
        self.query("SELECT seq, record FROM inbound ORDER BY seq", &[])
            .await?
            .iter()
            .map(inbound_row)
            .collect()
    }

    async fn stalled_inbound(
        &self,
        older_than: std::time::Duration,
    ) -> Result<Vec<StoredInbound>, StoreError> {
        let ms = i64::try_from(older_than.as_millis()).unwrap_or(i64::MAX);
        self.query(
            "SELECT seq, record FROM inbound \
             WHERE stored_at < now() - $1::bigint * interval '1 millisecond' ORDER BY seq",
            &[&ms],
        )
        .await?
        .iter()
        .map(inbound_row)
        .collect()
    }

    async fn claim_outbox(&self) -> Result<Vec<OutboxRecord>, StoreError> {
        let rows = self
            .query(
                "WITH free AS (SELECT seq FROM outbox \
                   WHERE (lease_owner IS NULL OR lease_until <= now()) AND lease_owner IS DISTINCT FROM $1 \
                   ORDER BY seq FOR UPDATE SKIP LOCKED) \
                 UPDATE outbox o SET lease_owner = $1, lease_until = now() + $2::bigint * interval '1 millisecond' \
                 FROM free WHERE o.seq = free.seq RETURNING o.seq, o.record",
                &[&self.instance(), &lease_ms()],
            )
            .await?;
        let mut claimed = rows.iter().map(outbox_row).collect::<Result<Vec<_>, _>>()?;
        claimed.sort_by_key(|r| r.seq);
        Ok(claimed)
    }

    async fn earlier_undelivered(&self, order_key: &str, seq: u64) -> Result<bool, StoreError> {
        let rows = self
            .query(
                "SELECT 1 FROM outbox WHERE order_key = $1 AND seq < $2 \
                 AND lease_owner IS DISTINCT FROM $3 LIMIT 1",
                &[&order_key, &big(seq), &self.instance()],
            )
            .await?;
        Ok(!rows.is_empty())
    }

    async fn publish_events(
        &self,
        events: &[supportbot_chat::CaseEvent],
    ) -> Result<(), StoreError> {
        PgStore::publish_events(self, events).await
    }

    fn other_processes_events(
        &self,
    ) -> Option<tokio::sync::mpsc::Receiver<supportbot_chat::CaseEvent>> {
        Some(self.listen_events())
    }

    async fn lead(&self, role: &str) -> Result<supportbot_chat::Lead, StoreError> {
        self.lead_role(role).await
    }

    fn page_mail(&self) -> Option<std::sync::Arc<dyn supportbot_chat::PageMail>> {
        Some(std::sync::Arc::new(self.clone()))
    }

    fn page_files(&self) -> Option<std::sync::Arc<dyn supportbot_chat::PageFiles>> {
        Some(std::sync::Arc::new(self.clone()))
    }

    async fn renew_outbox(&self) -> Result<(), StoreError> {
        self.execute(
            "UPDATE outbox SET lease_until = now() + $2::bigint * interval '1 millisecond' WHERE lease_owner = $1",
            &[&self.instance(), &lease_ms()],
        )
        .await
        .map(drop)
    }

    async fn release_outbox(&self) -> Result<(), StoreError> {
        self.execute(
            "UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
            &[&self.instance()],
        )
        .await?;
        Ok(())
    }

    async fn complete_outbox(&self, seq: u64) -> Result<(), StoreError> {
        self.execute("DELETE FROM outbox WHERE seq = $1", &[&big(seq)])
            .await
            .map(drop)
    }

    async fn update_outbox(&self, record: &OutboxRecord) -> Result<(), StoreError> {
        self.execute(
            "UPDATE outbox SET record = $2 WHERE seq = $1",
            &[&big(record.seq), &encode(record)],
        )
        .await
        .map(drop)
    }

    async fn outbox(&self) -> Result<Vec<OutboxRecord>, StoreError> {
        self.query("SELECT seq, record FROM outbox ORDER BY seq", &[])
            .await?
            .iter()
            .map(outbox_row)
            .collect()
    }

    async fn conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        self.query("SELECT key, record FROM conversations ORDER BY key", &[])
            .await?
            .iter()
            .map(|r| {
                let key: &str = r.get(0);
                decode(format!("conversations/{key}").as_bytes(), r.get(1))
            })
            .collect()
    }

    async fn cases(&self) -> Result<Vec<CaseRecord>, StoreError> {
        self.query("SELECT number, record FROM cases ORDER BY number", &[])
            .await?
            .iter()
            .map(|r| {
                let number: i64 = r.get(0);
                decode(format!("cases/{number}").as_bytes(), r.get(1))
            })
            .collect()
    }

    async fn unanswered_questions(&self) -> Result<Vec<(String, u64)>, StoreError> {
        Ok(self
            .query(
                "SELECT question, count FROM unanswered ORDER BY question",
                &[],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), unbig(r.get(1))))
            .collect())
    }

    fn fault(&self) -> Option<String> {
        // A failed statement fails its own call only; the database keeps what it committed.
        None
    }

    async fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
