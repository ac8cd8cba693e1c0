//! The reads both a step (in its transaction) and the store (outside any) make: one statement each, prepared
//! once per connection, rows decoded into records.

use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::{big, db_error, unbig};
use crate::store::backend::{Known, QueueEntry, RecentSlot, Stamp, StampKind};
use crate::store::records::{CaseLog, CaseRecord, Conversation, Line, Reserved, StoredInbound};
use crate::store::{decode, StoreError};

pub(super) async fn rows<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>, StoreError> {
    let statement = c.prepare_cached(sql).await.map_err(db_error)?;
    c.query(&statement, params).await.map_err(db_error)
}

pub(super) async fn row<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<Row>, StoreError> {
    let statement = c.prepare_cached(sql).await.map_err(db_error)?;
    c.query_opt(&statement, params).await.map_err(db_error)
}

pub(super) async fn execute<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, StoreError> {
    let statement = c.prepare_cached(sql).await.map_err(db_error)?;
    c.execute(&statement, params).await.map_err(db_error)
}

/// A conversation with its version as the stamp.
pub(super) async fn conversation<C: GenericClient>(
    c: &C,
    key: &str,
) -> Result<Option<Known<Conversation>>, StoreError> {
    let found = row(
        c,
        "SELECT version, record FROM conversations WHERE key = $1",
        &[&key],
    )
    .await?;
    let Some(r) = found else {
        return Ok(None);
    };
    Ok(Some(Known {
        stamp: Stamp(StampKind::Version(unbig(r.get(0)))),
        value: decode(format!("conversations/{key}").as_bytes(), r.get(1))?,
    }))
}

/// `None` when the conversation's version is still the stamp's; else what it is now.
pub(super) async fn conversation_if_changed<C: GenericClient>(
    c: &C,
    key: &str,
    known: &Stamp,
) -> Result<Option<Option<Conversation>>, StoreError> {
    let version = match &known.0 {
        StampKind::Version(v) => big(*v),
        // A stamp of another backend never matches.
        StampKind::Bytes(_) => -1,
    };
    let found = row(
        c,
        "SELECT version, CASE WHEN version = $2 THEN NULL ELSE record END \
         FROM conversations WHERE key = $1",
        &[&key, &version],
    )
    .await?;
    match found {
        None => Ok(Some(None)),
        Some(r) if r.get::<_, i64>(0) == version => Ok(None),
        Some(r) => {
            let value = decode(format!("conversations/{key}").as_bytes(), r.get(1))?;
            Ok(Some(Some(value)))
        }
    }
}

/// A conversation's recent lines: ring slots, then lines kept by number, each in order.
pub(super) async fn recent_lines<C: GenericClient>(
    c: &C,
    conversation: &str,
) -> Result<Vec<(RecentSlot, Line)>, StoreError> {
    let found = rows(
        c,
        "SELECT numbered, slot, record FROM recent_lines WHERE conversation = $1 \
         ORDER BY numbered, slot",
        &[&conversation],
    )
    .await?;
    found
        .iter()
        .map(|r| {
            let n = unbig(r.get(1));
            let slot = if r.get(0) {
                RecentSlot::Numbered(n)
            } else {
                RecentSlot::Ring(n)
            };
            let line = decode(
                format!("recent_lines/{conversation}/{n}").as_bytes(),
                r.get(2),
            )?;
            Ok((slot, line))
        })
        .collect()
}

pub(super) async fn case<C: GenericClient>(
    c: &C,
    number: u64,
) -> Result<Option<CaseRecord>, StoreError> {
    let found = row(
        c,
        "SELECT record FROM cases WHERE number = $1",
        &[&big(number)],
    )
    .await?;
    found
        .map(|r| decode(format!("cases/{number}").as_bytes(), r.get(0)))
        .transpose()
}

pub(super) async fn case_line<C: GenericClient>(
    c: &C,
    number: u64,
    line: u32,
) -> Result<Option<CaseLog>, StoreError> {
    let line_no = i32::try_from(line).unwrap_or(i32::MAX);
    let found = row(
        c,
        "SELECT record FROM case_logs WHERE number = $1 AND line = $2",
        &[&big(number), &line_no],
    )
    .await?;
    found
        .map(|r| decode(format!("case_logs/{number}/{line}").as_bytes(), r.get(0)))
        .transpose()
}

pub(super) async fn waiting<C: GenericClient>(c: &C) -> Result<Vec<QueueEntry>, StoreError> {
    let found = rows(
        c,
        "SELECT priority, queued_ms, number FROM waiting ORDER BY priority, queued_ms, number",
        &[],
    )
    .await?;
    Ok(found
        .iter()
        .map(|r| QueueEntry {
            priority: u8::try_from(r.get::<_, i16>(0)).unwrap_or(u8::MAX),
            queued_ms: r.get(1),
            number: unbig(r.get(2)),
        })
        .collect())
}

pub(super) async fn reserved<C: GenericClient>(c: &C) -> Result<Vec<(u64, Reserved)>, StoreError> {
    let found = rows(
        c,
        "SELECT number, record FROM reserved ORDER BY number",
        &[],
    )
    .await?;
    found
        .iter()
        .map(|r| {
            let number = unbig(r.get(0));
            Ok((
                number,
                decode(format!("reserved/{number}").as_bytes(), r.get(1))?,
            ))
        })
        .collect()
}

pub(super) async fn case_of_message<C: GenericClient>(
    c: &C,
    reference: &str,
) -> Result<Option<String>, StoreError> {
    let found = row(
        c,
        "SELECT case_id FROM case_messages WHERE reference = $1",
        &[&reference],
    )
    .await?;
    Ok(found.map(|r| r.get(0)))
}

/// The oldest message of a conversation stored before arrival number `seq` and not handled yet.
pub(super) async fn earlier_unhandled<C: GenericClient>(
    c: &C,
    conversation: &str,
    seq: u64,
) -> Result<Option<StoredInbound>, StoreError> {
    let found = row(
        c,
        "SELECT seq, record FROM inbound WHERE conversation = $1 AND seq < $2 ORDER BY seq LIMIT 1",
        &[&conversation, &big(seq)],
    )
    .await?;
    found
        .map(|r| {
            let seq = unbig(r.get(0));
            let mut stored: StoredInbound = decode(format!("inbound/{seq}").as_bytes(), r.get(1))?;
            stored.seq = seq;
            Ok(stored)
        })
        .transpose()
}
