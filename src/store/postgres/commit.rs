//! A step's writes on PostgreSQL, in one statement: the handled inbound message removed (or
//! [`StoreError::Handled`]), the outbox items numbered and leased to this process, and every changed record
//! (one part per table and kind of change, rows passed as arrays and unnested); then `COMMIT` and the release
//! of the conversation's lock, all in one round trip (see [`commit`]). A failure of the statement leaves
//! nothing of the step stored.

use std::collections::BTreeMap;

use deadpool_postgres::GenericClient;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use super::tables::{
    Table, CASES, CASE_LOGS, CASE_MESSAGES, CONVERSATIONS, HELD_CASES, RECENT_LINES, RESERVED,
    UNANSWERED, USER_CASES, WAITING,
};
use super::{big, db_error, unbig, PgStore, LOCK_STEPS};
use crate::store::backend::{Commit, RecentSlot, Writes, OUTBOX_LEASE};
use crate::store::{encode, StoreError};

/// Lease length in milliseconds, as the statements take it.
pub(super) fn lease_ms() -> i64 {
    i64::try_from(OUTBOX_LEASE.as_millis()).unwrap_or(i64::MAX)
}

/// A statement's parameter: one column of rows as an array.
type Column<'a> = Box<dyn ToSql + Sync + Send + 'a>;

/// The values of one column.
fn column<'a, T: ToSql + Sync + Send + 'a>(values: impl Iterator<Item = T>) -> Column<'a> {
    Box::new(values.collect::<Vec<T>>())
}

/// One statement in the making: data-modifying parts (`WITH name AS (…)`), then the query that reads their
/// outcome. PostgreSQL runs every part once, to completion, on one snapshot: the rows each part changes are
/// distinct (a map of changes has one entry per row), so the parts do not see or disturb each other.
#[derive(Default)]
struct Plan<'a> {
    parts: Vec<(String, String)>,
    params: Vec<Column<'a>>,
}

impl<'a> Plan<'a> {
    /// The number the next parameter gets.
    fn next(&self) -> usize {
        self.params.len() + 1
    }

    fn part(&mut self, name: &str, sql: String, params: Vec<Column<'a>>) {
        self.parts.push((name.to_string(), sql));
        self.params.extend(params);
    }

    /// Writes `rows` rows given column by column (nothing when there are none).
    fn upsert(&mut self, table: &Table, rows: usize, columns: Vec<Column<'a>>) {
        if rows > 0 {
            let name = format!("w{}", self.parts.len());
            self.part(&name, table.upsert_sql(self.next()), columns);
        }
    }

    /// Removes `rows` rows given by their key columns.
    fn remove(&mut self, table: &Table, rows: usize, keys: Vec<Column<'a>>) {
        if rows > 0 {
            let name = format!("w{}", self.parts.len());
            self.part(&name, table.remove_sql(self.next()), keys);
        }
    }

    /// The statement, ending with `query`.
    fn sql(&self, query: &str) -> String {
        if self.parts.is_empty() {
            return query.to_string();
        }
        let parts: Vec<String> = self
            .parts
            .iter()
            .map(|(name, sql)| format!("{name} AS ({sql})"))
            .collect();
        format!("WITH {} {query}", parts.join(", "))
    }

    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// Entries of a map of changes split into those that set a value and the keys of those that remove one.
type Split<'a, K, T> = (Vec<(&'a K, T)>, Vec<&'a K>);

fn split<'a, K, V, T>(
    map: &'a BTreeMap<K, V>,
    set: impl Fn(&'a V) -> Option<T>,
) -> Split<'a, K, T> {
    let mut kept = Vec::new();
    let mut gone = Vec::new();
    for (key, value) in map {
        match set(value) {
            Some(value) => kept.push((key, value)),
            None => gone.push(key),
        }
    }
    (kept, gone)
}

fn slot(slot: &RecentSlot) -> (bool, i64) {
    match *slot {
        RecentSlot::Ring(n) => (false, big(n)),
        RecentSlot::Numbered(n) => (true, big(n)),
    }
}

fn line_no(line: u32) -> i32 {
    i32::try_from(line).unwrap_or(i32::MAX)
}

/// Every changed record: one part per table and kind of change that has rows.
fn plan<'a>(w: &'a Writes, p: &mut Plan<'a>) {
    let conversations = &w.conversations;
    p.upsert(
        &CONVERSATIONS,
        conversations.len(),
        vec![
            column(conversations.keys().map(String::as_str)),
            column(conversations.values().map(encode)),
        ],
    );
    let (set, gone) = split(&w.recent, Option::as_ref);
    p.upsert(
        &RECENT_LINES,
        set.len(),
        vec![
            column(set.iter().map(|((c, _), _)| c.as_str())),
            column(set.iter().map(|((_, s), _)| slot(s).0)),
            column(set.iter().map(|((_, s), _)| slot(s).1)),
            column(set.iter().map(|(_, line)| encode(*line))),
        ],
    );
    p.remove(
        &RECENT_LINES,
        gone.len(),
        vec![
            column(gone.iter().map(|(c, _)| c.as_str())),
            column(gone.iter().map(|(_, s)| slot(s).0)),
            column(gone.iter().map(|(_, s)| slot(s).1)),
        ],
    );
    p.upsert(
        &CASES,
        w.cases.len(),
        vec![
            column(w.cases.keys().map(|n| big(*n))),
            column(w.cases.values().map(encode)),
        ],
    );
    p.upsert(
        &CASE_LOGS,
        w.case_logs.len(),
        vec![
            column(w.case_logs.keys().map(|(n, _)| big(*n))),
            column(w.case_logs.keys().map(|(_, l)| line_no(*l))),
            column(w.case_logs.values().map(encode)),
        ],
    );
    let (set, gone) = split(&w.user_cases, Option::as_ref);
    p.upsert(
        &USER_CASES,
        set.len(),
        vec![
            column(set.iter().map(|(a, _)| a.as_str())),
            column(set.iter().map(|(_, c)| c.as_str())),
        ],
    );
    p.remove(
        &USER_CASES,
        gone.len(),
        vec![column(gone.iter().map(|a| a.as_str()))],
    );
    let (set, gone) = split(&w.held, |held| held.then_some(()));
    p.upsert(
        &HELD_CASES,
        set.len(),
        vec![
            column(set.iter().map(|((a, _), ())| a.as_str())),
            column(set.iter().map(|((_, n), ())| big(*n))),
        ],
    );
    p.remove(
        &HELD_CASES,
        gone.len(),
        vec![
            column(gone.iter().map(|(a, _)| a.as_str())),
            column(gone.iter().map(|(_, n)| big(*n))),
        ],
    );
    let (set, gone) = split(&w.queue, |waiting| waiting.then_some(()));
    let set: Vec<_> = set.into_iter().map(|(e, ())| e).collect();
    for (rows, remove) in [(set, false), (gone, true)] {
        let columns = vec![
            column(rows.iter().map(|e| i16::from(e.priority))),
            column(rows.iter().map(|e| e.queued_ms)),
            column(rows.iter().map(|e| big(e.number))),
        ];
        if remove {
            p.remove(&WAITING, rows.len(), columns);
        } else {
            p.upsert(&WAITING, rows.len(), columns);
        }
    }
    let (set, gone) = split(&w.reserved, Option::as_ref);
    p.upsert(
        &RESERVED,
        set.len(),
        vec![
            column(set.iter().map(|(n, _)| big(**n))),
            column(set.iter().map(|(_, r)| encode(*r))),
        ],
    );
    p.remove(
        &RESERVED,
        gone.len(),
        vec![column(gone.iter().map(|n| big(**n)))],
    );
    p.upsert(
        &CASE_MESSAGES,
        w.case_messages.len(),
        vec![
            column(w.case_messages.keys().map(String::as_str)),
            column(w.case_messages.values().map(String::as_str)),
        ],
    );
    p.upsert(
        &UNANSWERED,
        w.unanswered.len(),
        vec![
            column(w.unanswered.keys().map(String::as_str)),
            column(w.unanswered.values().map(|n| big(*n))),
        ],
    );
}

/// Removes the handled message (parameter `$n`). The statement's query then fails with `division_by_zero`
/// when the message was gone (another process handled it): the failure aborts the transaction on the server, so
/// the `COMMIT` sent behind it in the same round trip rolls the step back instead of storing it.
fn handled_sql(n: usize) -> String {
    format!("DELETE FROM inbound WHERE seq = ${n} RETURNING seq")
}

/// Numbers the items in the order given (the rows' `seq` column is their number; the stored bytes' own `seq`
/// is replaced by it when read) and leases them to this process: records, owner, lease milliseconds and order
/// keys from parameter `$n` on.
fn numbered_sql(n: usize) -> String {
    format!(
        "SELECT nextval('outbox_seq') AS seq, r, k, o FROM ( \
           SELECT r, k, o FROM unnest(${n}::bytea[], ${k}::text[]) WITH ORDINALITY AS t(r, k, o) \
           ORDER BY o) AS given",
        k = n + 3
    )
}

/// Stores the numbered items (the `items` part) with their lease: owner and lease milliseconds are parameters
/// `$(n + 1)` and `$(n + 2)`.
fn outbox_sql(n: usize) -> String {
    format!(
        "INSERT INTO outbox (seq, order_key, record, lease_owner, lease_until) \
         SELECT seq, k, r, ${owner}, now() + ${lease}::bigint * interval '1 millisecond' FROM items",
        owner = n + 1,
        lease = n + 2
    )
}

/// The conversation's lock, released once the transaction is over (whether it committed or not).
const UNLOCK_SQL: &str = "SELECT pg_advisory_unlock($1, hashtext($2))";

/// Writes every changed record in the caller's open transaction (the caller commits): one statement.
pub(super) async fn write<C: GenericClient>(conn: &C, w: &Writes) -> Result<(), StoreError> {
    let mut p = Plan::default();
    plan(w, &mut p);
    if p.parts.is_empty() {
        return Ok(());
    }
    let statement = conn
        .prepare_cached(&p.sql("SELECT 1"))
        .await
        .map_err(db_error)?;
    conn.execute(&statement, &p.params())
        .await
        .map(drop)
        .map_err(db_error)
}

/// How a connection is left after [`commit`].
#[derive(Debug, PartialEq, Eq)]
pub(super) enum After {
    /// The transaction is over and the lock released: the connection can go back to the pool.
    Clean,
    /// The transaction is still open (nothing was sent): roll it back and release the lock.
    Open,
    /// The lock could not be released: close the connection (the server then releases it).
    Broken,
}

/// Stores a step in its open transaction on `conn`, commits it and releases the lock of conversation `key`.
/// Gives the outbox items' numbers.
///
/// The handled message's removal, the outbox items and every changed record are one statement (see [`Plan`]);
/// it, `COMMIT` and the unlock are sent back to back and the answers read after (a pipeline on the connection:
/// one round trip and one wait for the disk). Sending `COMMIT` before the statement's answer is in is safe: a
/// failed statement aborts the transaction on the server, and `COMMIT` of an aborted transaction rolls it back,
/// so the step is stored exactly when the statement and the `COMMIT` both succeeded, which is what is checked
/// below. The unlock runs after the transaction's end either way.
pub(super) async fn commit<C: GenericClient>(
    store: &PgStore,
    conn: &C,
    key: &str,
    commit: Commit,
) -> (Result<Vec<u64>, StoreError>, After) {
    let Commit {
        writes,
        outbox,
        handled,
    } = commit;
    let records: Vec<Vec<u8>> = outbox.iter().map(encode).collect();
    let order_keys: Vec<&str> = outbox
        .iter()
        .map(|r| r.envelope.order_key.as_str())
        .collect();
    let mut p = Plan::default();
    // What the statement answers: whether the handled message was there, and the outbox items' numbers.
    let (mut present, mut numbers) = ("1", "ARRAY[]::bigint[]");
    if let Some(seq) = handled {
        p.part(
            "gone",
            handled_sql(p.next()),
            vec![Box::new(big(seq)) as Column<'_>],
        );
        present = "(SELECT 1 / count(*) FROM gone)";
    }
    if !records.is_empty() {
        let n = p.next();
        p.parts.push(("items".into(), numbered_sql(n)));
        p.parts.push(("queued".into(), outbox_sql(n)));
        p.params.push(Box::new(records));
        p.params.push(Box::new(store.instance()));
        p.params.push(Box::new(lease_ms()));
        p.params.push(Box::new(order_keys));
        numbers = "ARRAY(SELECT seq FROM items ORDER BY o)";
    }
    plan(&writes, &mut p);
    let sql = p.sql(&format!("SELECT {present}, {numbers}"));
    let prepared = async {
        Ok::<_, tokio_postgres::Error>((
            conn.prepare_cached(&sql).await?,
            conn.prepare_cached(UNLOCK_SQL).await?,
        ))
    };
    let (statement, unlock) = match prepared.await {
        Ok(prepared) => prepared,
        Err(err) => return (Err(db_error(err)), After::Open),
    };
    let params = p.params();
    let unlock_params: [&(dyn ToSql + Sync); 2] = [&LOCK_STEPS, &key];
    // `biased`: polled in this order, so sent in this order (each request leaves at its first poll).
    let (stored, committed, unlocked) = tokio::join!(
        biased;
        conn.query_one(&statement, &params),
        conn.batch_execute("COMMIT"),
        conn.execute(&unlock, &unlock_params),
    );
    let after = match unlocked {
        Ok(_) => After::Clean,
        Err(err) => {
            tracing::warn!(error = %err, "the step's conversation lock could not be released");
            After::Broken
        }
    };
    let row = match stored {
        Ok(row) => row,
        Err(err) => {
            let gone = err.code() == Some(&SqlState::DIVISION_BY_ZERO);
            return match handled {
                Some(seq) if gone => (Err(StoreError::Handled(seq)), after),
                _ => (Err(db_error(err)), after),
            };
        }
    };
    if let Err(err) = committed {
        return (Err(db_error(err)), after);
    }
    let seqs: Vec<i64> = row.get(1);
    (Ok(seqs.into_iter().map(unbig).collect()), after)
}
