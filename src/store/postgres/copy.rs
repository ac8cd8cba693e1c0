//! `store copy`: moves a sled data directory into an empty PostgreSQL database in one transaction: conversations
//! and their recent lines, cases and their logs, open cases of users, held cases, the waiting queue, reserved
//! cases, case messages, unanswered questions, received message ids, unhandled messages and the outbox (with
//! their sequence numbers), and the case number counter. The copy is verified by counting every table after the
//! commit against what was read.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::DeserializeOwned;

use super::{big, commit, db_error, PgStore};
use crate::store::backend::{QueueEntry, RecentSlot, Writes};
use crate::store::records::{OutboxRecord, StoredInbound};
use crate::store::sled::{keys, SledStore};
use crate::store::{decode, StoreError};

/// How many rows of each kind; printed by `store copy`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts(pub BTreeMap<&'static str, u64>);

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (table, n) in &self.0 {
            writeln!(f, "{table:<15} {n}")?;
        }
        Ok(())
    }
}

/// The tables a copy fills, in the order they are counted.
const TABLES: &[&str] = &[
    "conversations",
    "recent_lines",
    "cases",
    "case_logs",
    "user_cases",
    "held_cases",
    "waiting",
    "reserved",
    "case_messages",
    "unanswered",
    "seen_messages",
    "inbound",
    "outbox",
];

/// Everything of a sled store, read for the copy.
#[derive(Default)]
struct Source {
    writes: Writes,
    seen: Vec<(String, String)>,
    /// Arrival number, conversation key, stored bytes.
    inbound: Vec<(i64, String, Vec<u8>)>,
    /// Outbox number, chat (order key), stored bytes.
    outbox: Vec<(i64, String, Vec<u8>)>,
    last_case: Option<u64>,
}

fn bad_key(key: &[u8]) -> StoreError {
    StoreError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        message: "unexpected key layout".into(),
    }
}

/// Entries under a prefix: what follows the prefix (as text) and the decoded value.
fn entries<T: DeserializeOwned>(
    from: &SledStore,
    prefix: &str,
) -> Result<Vec<(String, T)>, StoreError> {
    from.entries(prefix.as_bytes())?
        .into_iter()
        .map(|(key, value)| {
            let rest = std::str::from_utf8(&key[prefix.len()..]).map_err(|_| bad_key(&key))?;
            Ok((rest.to_string(), decode(&key, &value)?))
        })
        .collect()
}

/// Raw entries under a prefix with the hex sequence number of their keys.
fn numbered<T: DeserializeOwned>(
    from: &SledStore,
    prefix: &str,
    column: impl Fn(T) -> String,
) -> Result<Vec<(i64, String, Vec<u8>)>, StoreError> {
    from.entries(prefix.as_bytes())?
        .into_iter()
        .map(|(key, value)| {
            let seq = keys::seq_of(&key, prefix).ok_or_else(|| bad_key(&key))?;
            // Decoded now (for the column the database keeps beside it) rather than by the first process that
            // reads it from the database.
            let record = decode::<T>(&key, &value)?;
            Ok((big(seq), column(record), value.to_vec()))
        })
        .collect()
}

/// `<length>:<conversation key>/r<slot>` or `…/<16 hex digits>`.
fn recent_key(rest: &str) -> Option<(String, RecentSlot)> {
    let (len, after) = rest.split_once(':')?;
    let len: usize = len.parse().ok()?;
    let conversation = after.get(..len)?;
    let slot = after.get(len..)?.strip_prefix('/')?;
    let slot = match slot.strip_prefix('r') {
        Some(ring) => RecentSlot::Ring(ring.parse().ok()?),
        None => RecentSlot::Numbered(u64::from_str_radix(slot, 16).ok()?),
    };
    Some((conversation.to_string(), slot))
}

fn read(from: &SledStore) -> Result<Source, StoreError> {
    let mut s = Source::default();
    let w = &mut s.writes;
    w.conversations = entries(from, keys::CONVERSATION)?.into_iter().collect();
    for (rest, line) in entries(from, keys::RECENT)? {
        let key = recent_key(&rest).ok_or_else(|| bad_key(rest.as_bytes()))?;
        w.recent.insert(key, Some(line));
    }
    for (rest, case) in entries(from, keys::CASE)? {
        w.cases
            .insert(rest.parse().map_err(|_| bad_key(rest.as_bytes()))?, case);
    }
    for (rest, log) in entries(from, keys::CASE_LOG)? {
        let (number, line) = rest
            .split_once('/')
            .ok_or_else(|| bad_key(rest.as_bytes()))?;
        let key = (number.parse(), line.parse());
        let (Ok(number), Ok(line)) = key else {
            return Err(bad_key(rest.as_bytes()));
        };
        w.case_logs.insert((number, line), log);
    }
    for (account, case) in entries::<String>(from, keys::USER_CASE)? {
        w.user_cases.insert(account, Some(case));
    }
    for (rest, _) in entries::<String>(from, keys::HELD)? {
        let (account, number) = rest
            .rsplit_once('/')
            .ok_or_else(|| bad_key(rest.as_bytes()))?;
        let number = number.parse().map_err(|_| bad_key(rest.as_bytes()))?;
        w.held.insert((account.to_string(), number), true);
    }
    for (key, _) in from.entries(keys::QUEUE.as_bytes())? {
        let (priority, queued_ms, number) = keys::parse_queue(&key).ok_or_else(|| bad_key(&key))?;
        let entry = QueueEntry {
            priority,
            queued_ms,
            number,
        };
        w.queue.insert(entry, true);
    }
    for (rest, reserved) in entries(from, keys::RESERVED)? {
        let number = rest.parse().map_err(|_| bad_key(rest.as_bytes()))?;
        w.reserved.insert(number, Some(reserved));
    }
    w.case_messages = entries(from, keys::CASE_MESSAGE)?.into_iter().collect();
    w.unanswered = entries(from, keys::UNANSWERED)?.into_iter().collect();
    for (key, _) in from.entries(keys::DEDUPE.as_bytes())? {
        let rest = std::str::from_utf8(&key[keys::DEDUPE.len()..]).map_err(|_| bad_key(&key))?;
        let (platform, id) = rest.split_once(':').ok_or_else(|| bad_key(&key))?;
        s.seen.push((platform.to_string(), id.to_string()));
    }
    s.inbound = numbered(from, keys::INBOX, |m: StoredInbound| {
        m.inbound.conversation_key()
    })?;
    s.outbox = numbered(from, keys::OUTBOX, |r: OutboxRecord| r.envelope.order_key)?;
    if let Some(bytes) = from.get_raw(keys::CASE_COUNTER.as_bytes())? {
        let counter = <[u8; 8]>::try_from(bytes.as_ref())
            .map_err(|_| bad_key(keys::CASE_COUNTER.as_bytes()))?;
        s.last_case = Some(u64::from_be_bytes(counter));
    }
    Ok(s)
}

impl Source {
    fn counts(&self) -> Counts {
        let w = &self.writes;
        let n = |len: usize| len as u64;
        Counts(
            TABLES
                .iter()
                .zip([
                    n(w.conversations.len()),
                    n(w.recent.len()),
                    n(w.cases.len()),
                    n(w.case_logs.len()),
                    n(w.user_cases.len()),
                    n(w.held.len()),
                    n(w.queue.len()),
                    n(w.reserved.len()),
                    n(w.case_messages.len()),
                    n(w.unanswered.len()),
                    n(self.seen.len()),
                    n(self.inbound.len()),
                    n(self.outbox.len()),
                ])
                .map(|(t, n)| (*t, n))
                .collect(),
        )
    }
}

/// Why a copy did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// Reading the source or writing the target failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The target database already holds data.
    #[error("the PostgreSQL {target} is not empty ({table} has {rows} rows); copy only into a new database")]
    NotEmpty {
        /// The database, without password.
        target: String,
        /// The first table found with rows.
        table: &'static str,
        /// Its rows.
        rows: i64,
    },
    /// The counts after the copy differ from what was read.
    #[error("the copy does not match its source: read {read:?}, the database has {stored:?}")]
    Mismatch {
        /// What was read.
        read: Counts,
        /// What the database holds.
        stored: Counts,
    },
}

async fn count(conn: &deadpool_postgres::Object) -> Result<Counts, StoreError> {
    let mut counts = Counts::default();
    for table in TABLES {
        let row = conn
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .map_err(db_error)?;
        counts.0.insert(*table, super::unbig(row.get(0)));
    }
    Ok(counts)
}

/// Copies everything of `from` into `to`, which must hold no data, and returns the verified counts.
pub async fn sled_to_postgres(from: &SledStore, to: &PgStore) -> Result<Counts, CopyError> {
    let source = read(from)?;
    let read_counts = source.counts();
    let mut conn = to.conn().await?;
    let tx = conn.transaction().await.map_err(db_error)?;
    // No process may write while the copy runs: the tables are locked until the commit.
    tx.batch_execute(&format!(
        "LOCK TABLE {} IN EXCLUSIVE MODE",
        TABLES.join(", ")
    ))
    .await
    .map_err(db_error)?;
    for table in TABLES {
        let row = tx
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .map_err(db_error)?;
        let rows: i64 = row.get(0);
        if rows > 0 {
            return Err(CopyError::NotEmpty {
                target: to.target().to_string(),
                table,
                rows,
            });
        }
    }
    commit::write(&tx, &source.writes).await?;
    let (platforms, ids): (Vec<&str>, Vec<&str>) = source
        .seen
        .iter()
        .map(|(p, i)| (p.as_str(), i.as_str()))
        .unzip();
    tx.execute(
        "INSERT INTO seen_messages (platform, id) SELECT * FROM unnest($1::text[], $2::text[])",
        &[&platforms, &ids],
    )
    .await
    .map_err(db_error)?;
    for (table, column, sequence, rows) in [
        ("inbound", "conversation", "inbound_seq", &source.inbound),
        ("outbox", "order_key", "outbox_seq", &source.outbox),
    ] {
        let seqs: Vec<i64> = rows.iter().map(|(s, _, _)| *s).collect();
        let keys: Vec<&str> = rows.iter().map(|(_, k, _)| k.as_str()).collect();
        let records: Vec<&[u8]> = rows.iter().map(|(_, _, r)| r.as_slice()).collect();
        tx.execute(
            &format!(
                "INSERT INTO {table} (seq, {column}, record) \
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::bytea[])"
            ),
            &[&seqs, &keys, &records],
        )
        .await
        .map_err(db_error)?;
        if let Some(last) = seqs.iter().max() {
            tx.execute(&format!("SELECT setval('{sequence}', $1)"), &[last])
                .await
                .map_err(db_error)?;
        }
    }
    let last_case = source
        .last_case
        .into_iter()
        .chain(source.writes.cases.keys().copied())
        .max();
    if let Some(last) = last_case {
        tx.execute("SELECT setval('case_numbers', $1)", &[&big(last)])
            .await
            .map_err(db_error)?;
    }
    tx.commit().await.map_err(db_error)?;
    let stored = count(&conn).await?;
    if stored != read_counts {
        return Err(CopyError::Mismatch {
            read: read_counts,
            stored,
        });
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_keys_parse_back() {
        let ring = keys::recent_slot("web:a/b", 7);
        let rest = std::str::from_utf8(&ring[keys::RECENT.len()..]).unwrap();
        assert_eq!(
            recent_key(rest),
            Some(("web:a/b".to_string(), RecentSlot::Ring(7)))
        );
        let old = keys::recent_numbered("telegram:42", 0x1f);
        let rest = std::str::from_utf8(&old[keys::RECENT.len()..]).unwrap();
        assert_eq!(
            recent_key(rest),
            Some(("telegram:42".to_string(), RecentSlot::Numbered(0x1f)))
        );
        assert_eq!(recent_key("x:abc"), None);
    }
}
