//! A step's writes on PostgreSQL: the handled inbound message removed (or [`StoreError::Handled`]), the outbox
//! items numbered and leased to this process, every changed record written with one statement per table and
//! kind of change (rows passed as arrays and unnested), then `COMMIT` and the release of the conversation's
//! lock. All of it goes to the server in one round trip (see [`commit`]); a failure of any statement leaves
//! nothing of the step stored.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use deadpool_postgres::GenericClient;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::Statement;

use super::{big, db_error, unbig, PgStore, LOCK_STEPS};
use crate::store::backend::{Commit, RecentSlot, Writes, OUTBOX_LEASE};
use crate::store::{encode, StoreError};

/// Lease length in milliseconds, as the statements take it.
pub(super) fn lease_ms() -> i64 {
    i64::try_from(OUTBOX_LEASE.as_millis()).unwrap_or(i64::MAX)
}

/// A table a step writes: its columns (name and type), the first `key` of which make the primary key.
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, &'static str)],
    key: usize,
    /// The table counts the writes of a row in a `version` column (1 when inserted).
    versioned: bool,
}

const CONVERSATIONS: Table = Table {
    name: "conversations",
    columns: &[("key", "text"), ("record", "bytea")],
    key: 1,
    versioned: true,
};
const RECENT_LINES: Table = Table {
    name: "recent_lines",
    columns: &[
        ("conversation", "text"),
        ("numbered", "boolean"),
        ("slot", "bigint"),
        ("record", "bytea"),
    ],
    key: 3,
    versioned: false,
};
const CASES: Table = Table {
    name: "cases",
    columns: &[("number", "bigint"), ("record", "bytea")],
    key: 1,
    versioned: false,
};
const CASE_LOGS: Table = Table {
    name: "case_logs",
    columns: &[("number", "bigint"), ("line", "integer"), ("record", "bytea")],
    key: 2,
    versioned: false,
};
const USER_CASES: Table = Table {
    name: "user_cases",
    columns: &[("account", "text"), ("case_id", "text")],
    key: 1,
    versioned: false,
};
const HELD_CASES: Table = Table {
    name: "held_cases",
    columns: &[("account", "text"), ("number", "bigint")],
    key: 2,
    versioned: false,
};
const WAITING: Table = Table {
    name: "waiting",
    columns: &[
        ("priority", "smallint"),
        ("queued_ms", "bigint"),
        ("number", "bigint"),
    ],
    key: 3,
    versioned: false,
};
const RESERVED: Table = Table {
    name: "reserved",
    columns: &[("number", "bigint"), ("record", "bytea")],
    key: 1,
    versioned: false,
};
const CASE_MESSAGES: Table = Table {
    name: "case_messages",
    columns: &[("reference", "text"), ("case_id", "text")],
    key: 1,
    versioned: false,
};
const UNANSWERED: Table = Table {
    name: "unanswered",
    columns: &[("question", "text"), ("count", "bigint")],
    key: 1,
    versioned: false,
};

impl Table {
    /// `$1::type[], $2::type[], …` for the first `n` columns.
    fn arrays(&self, n: usize) -> String {
        self.columns[..n]
            .iter()
            .enumerate()
            .map(|(i, (_, ty))| format!("${}::{ty}[]", i + 1))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn names(&self, n: usize) -> Vec<&'static str> {
        self.columns[..n].iter().map(|(name, _)| *name).collect()
    }

    /// Inserts the rows given as one array per column; a row whose key is stored replaces the stored one.
    fn upsert_sql(&self) -> String {
        let all = self.columns.len();
        let mut columns = self.names(all).join(", ");
        let mut values = "*".to_string();
        let mut updates: Vec<String> = self.names(all)[self.key..]
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        if self.versioned {
            columns.push_str(", version");
            values.push_str(", 1");
            updates.push(format!("version = {}.version + 1", self.name));
        }
        let action = if updates.is_empty() {
            "NOTHING".to_string()
        } else {
            format!("UPDATE SET {}", updates.join(", "))
        };
        format!(
            "INSERT INTO {name} ({columns}) SELECT {values} FROM unnest({arrays}) \
             ON CONFLICT ({key}) DO {action}",
            name = self.name,
            arrays = self.arrays(all),
            key = self.names(self.key).join(", "),
        )
    }

    /// Removes the rows whose keys are given as one array per key column.
    fn remove_sql(&self) -> String {
        let keys = self.names(self.key);
        let matches: Vec<String> = keys.iter().map(|k| format!("t.{k} = d.{k}")).collect();
        format!(
            "DELETE FROM {name} t USING unnest({arrays}) AS d({keys}) WHERE {matches}",
            name = self.name,
            arrays = self.arrays(self.key),
            keys = keys.join(", "),
            matches = matches.join(" AND "),
        )
    }
}

/// A statement's parameter: one column of rows as an array.
type Column<'a> = Box<dyn ToSql + Sync + Send + 'a>;

/// The values of one column.
fn column<'a, T: ToSql + Sync + Send + 'a>(values: impl Iterator<Item = T>) -> Column<'a> {
    Box::new(values.collect::<Vec<T>>())
}

/// A statement to send: its text and parameters.
struct Planned<'a> {
    sql: String,
    params: Vec<Column<'a>>,
}

/// The statements of a step's writes, in order.
#[derive(Default)]
struct Plan<'a> {
    statements: Vec<Planned<'a>>,
}

impl<'a> Plan<'a> {
    fn push(&mut self, sql: String, params: Vec<Column<'a>>) {
        self.statements.push(Planned { sql, params });
    }

    /// Writes `rows` rows given column by column (nothing when there are none).
    fn upsert(&mut self, table: &Table, rows: usize, columns: Vec<Column<'a>>) {
        if rows > 0 {
            self.push(table.upsert_sql(), columns);
        }
    }

    /// Removes `rows` rows given by their key columns.
    fn remove(&mut self, table: &Table, rows: usize, keys: Vec<Column<'a>>) {
        if rows > 0 {
            self.push(table.remove_sql(), keys);
        }
    }
}

/// Entries of a map of changes split into those that set a value and the keys of those that remove one.
type Split<'a, K, T> = (Vec<(&'a K, T)>, Vec<&'a K>);

fn split<'a, K, V, T>(map: &'a BTreeMap<K, V>, set: impl Fn(&'a V) -> Option<T>) -> Split<'a, K, T> {
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

/// Every changed record: one statement per table and kind of change that has rows.
fn plan(w: &Writes) -> Plan<'_> {
    let mut p = Plan::default();
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
    p
}

/// Removes the handled message; fails with `division_by_zero` when it is gone (another process handled it), so
/// that the failure aborts the transaction on the server: the `COMMIT` sent behind it in the same round trip
/// then rolls the step back instead of storing it.
const HANDLED_SQL: &str = "WITH gone AS (DELETE FROM inbound WHERE seq = $1 RETURNING seq) \
                           SELECT 1 / count(*) FROM gone";

/// Numbers the items in the order given (the rows' `seq` column is their number; the stored bytes' own `seq`
/// is replaced by it when read) and leases them to this process.
const OUTBOX_SQL: &str = "WITH items AS ( \
       SELECT nextval('outbox_seq') AS seq, r, k, n FROM ( \
         SELECT r, k, n FROM unnest($1::bytea[], $4::text[]) WITH ORDINALITY AS t(r, k, n) \
         ORDER BY n) AS given), \
     stored AS ( \
       INSERT INTO outbox (seq, order_key, record, lease_owner, lease_until) \
       SELECT seq, k, r, $2, now() + $3::bigint * interval '1 millisecond' FROM items) \
     SELECT seq FROM items ORDER BY n";

/// The conversation's lock, released once the transaction is over (whether it committed or not).
const UNLOCK_SQL: &str = "SELECT pg_advisory_unlock($1, hashtext($2))";

/// The error that failed a transaction whose statements were sent together: once one fails, the ones after it
/// fail with "current transaction is aborted", which says nothing of the cause.
fn first_cause(errors: Vec<tokio_postgres::Error>) -> Option<StoreError> {
    let mut after = None;
    for err in errors {
        if err.code() == Some(&SqlState::IN_FAILED_SQL_TRANSACTION) {
            after.get_or_insert(err);
        } else {
            return Some(db_error(err));
        }
    }
    after.map(db_error)
}

/// Prepares every statement (no round trip once a connection has them cached).
async fn prepare<C: GenericClient>(
    conn: &C,
    plan: &Plan<'_>,
) -> Result<Vec<Statement>, tokio_postgres::Error> {
    let mut prepared = Vec::with_capacity(plan.statements.len());
    for planned in &plan.statements {
        prepared.push(conn.prepare_cached(&planned.sql).await?);
    }
    Ok(prepared)
}

/// A statement on its way.
type Pending<'a> = Pin<Box<dyn Future<Output = Result<u64, tokio_postgres::Error>> + Send + 'a>>;

/// Sends every planned statement; each one's outcome, in order.
fn send<'a, C: GenericClient>(
    conn: &'a C,
    plan: &'a Plan<'_>,
    prepared: &'a [Statement],
) -> Vec<Pending<'a>> {
    plan.statements
        .iter()
        .zip(prepared)
        .map(|(planned, statement)| {
            let params: Vec<&(dyn ToSql + Sync)> = planned
                .params
                .iter()
                .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                .collect();
            Box::pin(async move { conn.execute(statement, &params).await }) as Pending<'a>
        })
        .collect()
}

/// Writes every changed record in the caller's open transaction (the caller commits), the statements sent
/// together.
pub(super) async fn write<C: GenericClient>(conn: &C, w: &Writes) -> Result<(), StoreError> {
    let plan = plan(w);
    let prepared = prepare(conn, &plan).await.map_err(db_error)?;
    let errors = futures_util::future::join_all(send(conn, &plan, &prepared))
        .await
        .into_iter()
        .filter_map(Result::err)
        .collect();
    first_cause(errors).map_or(Ok(()), Err)
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
/// Every statement is prepared first; then the writes, `COMMIT` and the unlock are sent back to back and the
/// answers read after (a pipeline on the connection: one round trip and one wait for the disk). Sending
/// `COMMIT` before the writes' answers are in is safe because a failed statement aborts the transaction on the
/// server, and `COMMIT` of an aborted transaction rolls it back: the step is stored exactly when every
/// statement and the `COMMIT` succeeded, which is what is checked below. The unlock runs after the
/// transaction's end either way.
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
    let plan = plan(&writes);
    let prepared = async {
        Ok::<_, tokio_postgres::Error>((
            conn.prepare_cached(HANDLED_SQL).await?,
            conn.prepare_cached(OUTBOX_SQL).await?,
            conn.prepare_cached(UNLOCK_SQL).await?,
            prepare(conn, &plan).await?,
        ))
    };
    let (handled_statement, outbox_statement, unlock, prepared) = match prepared.await {
        Ok(prepared) => prepared,
        Err(err) => return (Err(db_error(err)), After::Open),
    };
    let records: Vec<Vec<u8>> = outbox.iter().map(encode).collect();
    let order_keys: Vec<&str> = outbox
        .iter()
        .map(|r| r.envelope.order_key.as_str())
        .collect();
    let handled_seq = handled.map(big);
    let instance = store.instance();
    let lease = lease_ms();
    let removed = async {
        match &handled_seq {
            Some(seq) => conn.execute(&handled_statement, &[seq]).await.map(drop),
            None => Ok(()),
        }
    };
    let numbered = async {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let params: [&(dyn ToSql + Sync); 4] = [&records, &instance, &lease, &order_keys];
        let rows = conn.query(&outbox_statement, &params).await?;
        Ok::<_, tokio_postgres::Error>(rows.iter().map(|r| unbig(r.get(0))).collect::<Vec<u64>>())
    };
    let written = futures_util::future::join_all(send(conn, &plan, &prepared));
    let unlock_params: [&(dyn ToSql + Sync); 2] = [&LOCK_STEPS, &key];
    // `biased`: polled in this order, so sent in this order (each request leaves at its first poll).
    let (removed, numbered, written, committed, unlocked) = tokio::join!(
        biased;
        removed,
        numbered,
        written,
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
    if let (Some(seq), Err(err)) = (handled, &removed) {
        if err.code() == Some(&SqlState::DIVISION_BY_ZERO) {
            return (Err(StoreError::Handled(seq)), after);
        }
    }
    let mut errors: Vec<tokio_postgres::Error> = Vec::new();
    errors.extend(removed.err());
    let numbered = numbered.map_err(|e| errors.push(e)).ok();
    errors.extend(written.into_iter().filter_map(Result::err));
    if let Some(err) = first_cause(errors) {
        return (Err(err), after);
    }
    if let Err(err) = committed {
        return (Err(db_error(err)), after);
    }
    (Ok(numbered.unwrap_or_default()), after)
}
