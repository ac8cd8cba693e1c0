//! A step's writes on PostgreSQL: the handled inbound message removed (or [`StoreError::Handled`]), the outbox
//! items numbered and leased to this process, every changed record written with one statement per table
//! (arrays unnested), all in the step's transaction; the step then commits. Any failure leaves the transaction
//! to be rolled back: nothing of the step is stored.

use std::future::Future;
use std::pin::Pin;

use deadpool_postgres::{GenericClient, Object};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use super::{big, db_error, unbig, PgStore};
use crate::store::backend::{Commit, RecentSlot, Writes, OUTBOX_LEASE};
use crate::store::{encode, StoreError};

/// Lease length in milliseconds, as the statements take it.
pub(super) fn lease_ms() -> i64 {
    i64::try_from(OUTBOX_LEASE.as_millis()).unwrap_or(i64::MAX)
}

async fn run<C: GenericClient>(
    conn: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, tokio_postgres::Error> {
    let statement = conn.prepare_cached(sql).await?;
    conn.execute(&statement, params).await
}

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

/// Writes a step's changes in its open transaction (the caller commits). The statements are sent one after
/// another without waiting for each answer (pipelined on the connection). Returns the outbox items' numbers.
pub(super) async fn store(
    store: &PgStore,
    conn: &Object,
    commit: Commit,
) -> Result<Vec<u64>, StoreError> {
    let Commit {
        writes,
        outbox,
        handled,
    } = commit;
    let handled = async {
        match handled {
            Some(seq) => run(conn, "DELETE FROM inbound WHERE seq = $1", &[&big(seq)])
                .await
                .map(|removed| (seq, removed)),
            None => Ok((0, 1)),
        }
    };
    let records: Vec<Vec<u8>> = outbox.iter().map(encode).collect();
    let order_keys: Vec<&str> = outbox
        .iter()
        .map(|r| r.envelope.order_key.as_str())
        .collect();
    let numbered = async {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        // Numbered in the order given (the rows' `seq` column is their number; the stored bytes' own `seq` is
        // replaced by it when read), leased to this process.
        let statement = conn
            .prepare_cached(
                "WITH items AS ( \
                   SELECT nextval('outbox_seq') AS seq, r, k, n FROM ( \
                     SELECT r, k, n FROM unnest($1::bytea[], $4::text[]) WITH ORDINALITY AS t(r, k, n) \
                     ORDER BY n) AS given), \
                 stored AS ( \
                   INSERT INTO outbox (seq, order_key, record, lease_owner, lease_until) \
                   SELECT seq, k, r, $2, now() + $3::bigint * interval '1 millisecond' FROM items) \
                 SELECT seq FROM items ORDER BY n",
            )
            .await?;
        let rows = conn
            .query(
                &statement,
                &[&records, &store.instance(), &lease_ms(), &order_keys],
            )
            .await?;
        Ok(rows.iter().map(|r| unbig(r.get(0))).collect::<Vec<u64>>())
    };
    let (handled, numbered, written) = tokio::join!(handled, numbered, pipelined(conn, &writes));
    let mut errors: Vec<tokio_postgres::Error> =
        written.into_iter().filter_map(Result::err).collect();
    let handled = handled.map_err(|e| errors.insert(0, e)).ok();
    let outbox_seqs = numbered.map_err(|e| errors.insert(0, e)).ok();
    if let Some(err) = first_cause(errors) {
        return Err(err);
    }
    if let Some((seq, 0)) = handled {
        return Err(StoreError::Handled(seq));
    }
    let outbox_seqs = outbox_seqs.unwrap_or_default();
    Ok(outbox_seqs)
}

/// Columns of the rows to write and of the rows to remove, per table.
#[derive(Default)]
struct Rows {
    keys: Vec<String>,
    numbers: Vec<i64>,
    flags: Vec<bool>,
    lines: Vec<i32>,
    records: Vec<Vec<u8>>,
}

/// A statement on its way.
type Pending<'a> = Pin<Box<dyn Future<Output = Result<u64, tokio_postgres::Error>> + Send + 'a>>;

/// Writes every changed record: one statement per table and kind of change that has rows, all sent at once.
pub(super) async fn write<C: GenericClient>(conn: &C, w: &Writes) -> Result<(), StoreError> {
    let errors = pipelined(conn, w)
        .await
        .into_iter()
        .filter_map(Result::err)
        .collect();
    first_cause(errors).map_or(Ok(()), Err)
}

/// The statements of [`write`], sent together; each one's outcome.
async fn pipelined<C: GenericClient>(
    conn: &C,
    w: &Writes,
) -> Vec<Result<u64, tokio_postgres::Error>> {
    let mut pending: Vec<Pending<'_>> = Vec::new();
    records(conn, w, &mut pending);
    user_cases(conn, w, &mut pending);
    cases_lists(conn, w, &mut pending);
    others(conn, w, &mut pending);
    futures_util::future::join_all(pending).await
}

/// Queues a statement with owned parameters.
macro_rules! queue {
    ($pending:expr, $conn:expr, $sql:expr, $($param:ident),+) => {{
        let conn = $conn;
        $pending.push(Box::pin(async move { run(conn, $sql, &[$(&$param),+]).await }));
    }};
}

/// Conversations, recent lines, cases and case lines.
fn records<'a, C: GenericClient>(conn: &'a C, w: &Writes, pending: &mut Vec<Pending<'a>>) {
    if !w.conversations.is_empty() {
        let keys: Vec<String> = w.conversations.keys().cloned().collect();
        let records: Vec<Vec<u8>> = w.conversations.values().map(encode).collect();
        queue!(
            pending,
            conn,
            "INSERT INTO conversations (key, version, record) \
             SELECT k, 1, r FROM unnest($1::text[], $2::bytea[]) AS t(k, r) \
             ON CONFLICT (key) DO UPDATE SET version = conversations.version + 1, record = excluded.record",
            keys,
            records
        );
    }
    let (mut set, mut gone) = (Rows::default(), Rows::default());
    for ((conversation, slot), line) in &w.recent {
        let (numbered, n) = match *slot {
            RecentSlot::Ring(n) => (false, n),
            RecentSlot::Numbered(n) => (true, n),
        };
        let rows = if line.is_some() { &mut set } else { &mut gone };
        rows.keys.push(conversation.clone());
        rows.flags.push(numbered);
        rows.numbers.push(big(n));
        if let Some(line) = line {
            rows.records.push(encode(line));
        }
    }
    if !set.keys.is_empty() {
        let Rows {
            keys,
            flags,
            numbers,
            records,
            ..
        } = set;
        queue!(
            pending,
            conn,
            "INSERT INTO recent_lines (conversation, numbered, slot, record) \
             SELECT * FROM unnest($1::text[], $2::boolean[], $3::bigint[], $4::bytea[]) \
             ON CONFLICT (conversation, numbered, slot) DO UPDATE SET record = excluded.record",
            keys,
            flags,
            numbers,
            records
        );
    }
    if !gone.keys.is_empty() {
        let Rows {
            keys,
            flags,
            numbers,
            ..
        } = gone;
        queue!(
            pending,
            conn,
            "DELETE FROM recent_lines l USING unnest($1::text[], $2::boolean[], $3::bigint[]) AS d(c, n, s) \
             WHERE l.conversation = d.c AND l.numbered = d.n AND l.slot = d.s",
            keys,
            flags,
            numbers
        );
    }
    if !w.cases.is_empty() {
        let numbers: Vec<i64> = w.cases.keys().map(|n| big(*n)).collect();
        let records: Vec<Vec<u8>> = w.cases.values().map(encode).collect();
        queue!(
            pending,
            conn,
            "INSERT INTO cases (number, record) SELECT * FROM unnest($1::bigint[], $2::bytea[]) \
             ON CONFLICT (number) DO UPDATE SET record = excluded.record",
            numbers,
            records
        );
    }
    if !w.case_logs.is_empty() {
        let mut rows = Rows::default();
        for ((number, line), log) in &w.case_logs {
            rows.numbers.push(big(*number));
            rows.lines.push(i32::try_from(*line).unwrap_or(i32::MAX));
            rows.records.push(encode(log));
        }
        let Rows {
            numbers,
            lines,
            records,
            ..
        } = rows;
        queue!(
            pending,
            conn,
            "INSERT INTO case_logs (number, line, record) \
             SELECT * FROM unnest($1::bigint[], $2::integer[], $3::bytea[]) \
             ON CONFLICT (number, line) DO UPDATE SET record = excluded.record",
            numbers,
            lines,
            records
        );
    }
}

fn user_cases<'a, C: GenericClient>(conn: &'a C, w: &Writes, pending: &mut Vec<Pending<'a>>) {
    let (mut set, mut set_cases, mut gone) = (Vec::new(), Vec::new(), Vec::new());
    for (account, case) in &w.user_cases {
        match case {
            Some(case) => {
                set.push(account.clone());
                set_cases.push(case.clone());
            }
            None => gone.push(account.clone()),
        }
    }
    if !set.is_empty() {
        queue!(
            pending,
            conn,
            "INSERT INTO user_cases (account, case_id) SELECT * FROM unnest($1::text[], $2::text[]) \
             ON CONFLICT (account) DO UPDATE SET case_id = excluded.case_id",
            set,
            set_cases
        );
    }
    if !gone.is_empty() {
        queue!(
            pending,
            conn,
            "DELETE FROM user_cases WHERE account = ANY($1::text[])",
            gone
        );
    }
}

/// Held cases and the waiting queue.
fn cases_lists<'a, C: GenericClient>(conn: &'a C, w: &Writes, pending: &mut Vec<Pending<'a>>) {
    let (mut set, mut gone) = (Rows::default(), Rows::default());
    for ((account, number), held) in &w.held {
        let rows = if *held { &mut set } else { &mut gone };
        rows.keys.push(account.clone());
        rows.numbers.push(big(*number));
    }
    if !set.keys.is_empty() {
        let Rows { keys, numbers, .. } = set;
        queue!(
            pending,
            conn,
            "INSERT INTO held_cases (account, number) SELECT * FROM unnest($1::text[], $2::bigint[]) \
             ON CONFLICT DO NOTHING",
            keys,
            numbers
        );
    }
    if !gone.keys.is_empty() {
        let Rows { keys, numbers, .. } = gone;
        queue!(
            pending,
            conn,
            "DELETE FROM held_cases h USING unnest($1::text[], $2::bigint[]) AS d(a, n) \
             WHERE h.account = d.a AND h.number = d.n",
            keys,
            numbers
        );
    }
    let (mut set, mut gone) = (Queue::default(), Queue::default());
    for (entry, waiting) in &w.queue {
        let rows = if *waiting { &mut set } else { &mut gone };
        rows.priorities.push(i16::from(entry.priority));
        rows.times.push(entry.queued_ms);
        rows.numbers.push(big(entry.number));
    }
    if !set.numbers.is_empty() {
        let Queue {
            priorities,
            times,
            numbers,
        } = set;
        queue!(
            pending,
            conn,
            "INSERT INTO waiting (priority, queued_ms, number) \
             SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bigint[]) ON CONFLICT DO NOTHING",
            priorities,
            times,
            numbers
        );
    }
    if !gone.numbers.is_empty() {
        let Queue {
            priorities,
            times,
            numbers,
        } = gone;
        queue!(
            pending,
            conn,
            "DELETE FROM waiting w USING unnest($1::smallint[], $2::bigint[], $3::bigint[]) AS d(p, q, n) \
             WHERE w.priority = d.p AND w.queued_ms = d.q AND w.number = d.n",
            priorities,
            times,
            numbers
        );
    }
}

/// Columns of queue entries.
#[derive(Default)]
struct Queue {
    priorities: Vec<i16>,
    times: Vec<i64>,
    numbers: Vec<i64>,
}

/// Reserved cases, case messages and unanswered questions.
fn others<'a, C: GenericClient>(conn: &'a C, w: &Writes, pending: &mut Vec<Pending<'a>>) {
    let (mut set, mut gone) = (Rows::default(), Vec::new());
    for (number, reserved) in &w.reserved {
        match reserved {
            Some(reserved) => {
                set.numbers.push(big(*number));
                set.records.push(encode(reserved));
            }
            None => gone.push(big(*number)),
        }
    }
    if !set.numbers.is_empty() {
        let Rows {
            numbers, records, ..
        } = set;
        queue!(
            pending,
            conn,
            "INSERT INTO reserved (number, record) SELECT * FROM unnest($1::bigint[], $2::bytea[]) \
             ON CONFLICT (number) DO UPDATE SET record = excluded.record",
            numbers,
            records
        );
    }
    if !gone.is_empty() {
        queue!(
            pending,
            conn,
            "DELETE FROM reserved WHERE number = ANY($1::bigint[])",
            gone
        );
    }
    if !w.case_messages.is_empty() {
        let references: Vec<String> = w.case_messages.keys().cloned().collect();
        let cases: Vec<String> = w.case_messages.values().cloned().collect();
        queue!(
            pending,
            conn,
            "INSERT INTO case_messages (reference, case_id) SELECT * FROM unnest($1::text[], $2::text[]) \
             ON CONFLICT (reference) DO UPDATE SET case_id = excluded.case_id",
            references,
            cases
        );
    }
    if !w.unanswered.is_empty() {
        let questions: Vec<String> = w.unanswered.keys().cloned().collect();
        let counts: Vec<i64> = w.unanswered.values().map(|n| big(*n)).collect();
        queue!(
            pending,
            conn,
            "INSERT INTO unanswered (question, count) SELECT * FROM unnest($1::text[], $2::bigint[]) \
             ON CONFLICT (question) DO UPDATE SET count = excluded.count",
            questions,
            counts
        );
    }
}
