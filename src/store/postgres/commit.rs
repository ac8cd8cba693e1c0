//! A step's commit on PostgreSQL: the handled inbound message removed (or [`StoreError::Handled`]), the outbox
//! items numbered and leased to this process, every changed record written with one statement per table
//! (arrays unnested), then `COMMIT`. Any failure leaves the transaction to be rolled back: nothing of the step
//! is stored.

use deadpool_postgres::{GenericClient, Object};
use tokio_postgres::types::ToSql;

use super::{big, db_error, unbig, PgStore};
use crate::store::backend::{Commit, RecentSlot, Stored, Writes, OUTBOX_LEASE};
use crate::store::{encode, StoreError};

/// Lease length in milliseconds, as the statements take it.
pub(super) fn lease_ms() -> i64 {
    i64::try_from(OUTBOX_LEASE.as_millis()).unwrap_or(i64::MAX)
}

async fn run<C: GenericClient>(
    conn: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, StoreError> {
    let statement = conn.prepare_cached(sql).await.map_err(db_error)?;
    conn.execute(&statement, params).await.map_err(db_error)
}

/// Stores a step's changes in its open transaction and commits it.
pub(super) async fn store(
    store: &PgStore,
    conn: &Object,
    commit: Commit,
) -> Result<Stored, StoreError> {
    if let Some(seq) = commit.handled {
        let removed = run(conn, "DELETE FROM inbound WHERE seq = $1", &[&big(seq)]).await?;
        if removed == 0 {
            return Err(StoreError::Handled(seq));
        }
    }
    let mut outbox_seqs = Vec::with_capacity(commit.outbox.len());
    if !commit.outbox.is_empty() {
        let statement = conn
            .prepare_cached("SELECT nextval('outbox_seq') FROM generate_series(1, $1)")
            .await
            .map_err(db_error)?;
        let count = i32::try_from(commit.outbox.len()).unwrap_or(i32::MAX);
        let rows = conn.query(&statement, &[&count]).await.map_err(db_error)?;
        outbox_seqs.extend(rows.iter().map(|r| unbig(r.get(0))));
        outbox_seqs.sort_unstable();
        let mut seqs = Vec::with_capacity(outbox_seqs.len());
        let mut records = Vec::with_capacity(outbox_seqs.len());
        for (mut record, seq) in commit.outbox.into_iter().zip(&outbox_seqs) {
            record.seq = *seq;
            seqs.push(big(*seq));
            records.push(encode(&record));
        }
        run(
            conn,
            "INSERT INTO outbox (seq, record, lease_owner, lease_until) \
             SELECT s, r, $3, now() + $4::bigint * interval '1 millisecond' FROM unnest($1::bigint[], $2::bytea[]) AS t(s, r)",
            &[&seqs, &records, &store.instance(), &lease_ms()],
        )
        .await?;
    }
    write(conn, &commit.writes).await?;
    conn.batch_execute("COMMIT").await.map_err(db_error)?;
    Ok(Stored {
        ticket: store.next_ticket(),
        outbox_seqs,
    })
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

/// Writes every changed record: one statement per table and kind of change that has rows.
pub(super) async fn write<C: GenericClient>(conn: &C, w: &Writes) -> Result<(), StoreError> {
    if !w.conversations.is_empty() {
        let keys: Vec<&str> = w.conversations.keys().map(String::as_str).collect();
        let records: Vec<Vec<u8>> = w.conversations.values().map(encode).collect();
        run(
            conn,
            "INSERT INTO conversations (key, version, record) \
             SELECT k, 1, r FROM unnest($1::text[], $2::bytea[]) AS t(k, r) \
             ON CONFLICT (key) DO UPDATE SET version = conversations.version + 1, record = excluded.record",
            &[&keys, &records],
        )
        .await?;
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
        run(
            conn,
            "INSERT INTO recent_lines (conversation, numbered, slot, record) \
             SELECT * FROM unnest($1::text[], $2::boolean[], $3::bigint[], $4::bytea[]) \
             ON CONFLICT (conversation, numbered, slot) DO UPDATE SET record = excluded.record",
            &[&set.keys, &set.flags, &set.numbers, &set.records],
        )
        .await?;
    }
    if !gone.keys.is_empty() {
        run(
            conn,
            "DELETE FROM recent_lines l USING unnest($1::text[], $2::boolean[], $3::bigint[]) AS d(c, n, s) \
             WHERE l.conversation = d.c AND l.numbered = d.n AND l.slot = d.s",
            &[&gone.keys, &gone.flags, &gone.numbers],
        )
        .await?;
    }
    if !w.cases.is_empty() {
        let numbers: Vec<i64> = w.cases.keys().map(|n| big(*n)).collect();
        let records: Vec<Vec<u8>> = w.cases.values().map(encode).collect();
        run(
            conn,
            "INSERT INTO cases (number, record) SELECT * FROM unnest($1::bigint[], $2::bytea[]) \
             ON CONFLICT (number) DO UPDATE SET record = excluded.record",
            &[&numbers, &records],
        )
        .await?;
    }
    if !w.case_logs.is_empty() {
        let mut rows = Rows::default();
        for ((number, line), log) in &w.case_logs {
            rows.numbers.push(big(*number));
            rows.lines.push(i32::try_from(*line).unwrap_or(i32::MAX));
            rows.records.push(encode(log));
        }
        run(
            conn,
            "INSERT INTO case_logs (number, line, record) \
             SELECT * FROM unnest($1::bigint[], $2::integer[], $3::bytea[]) \
             ON CONFLICT (number, line) DO UPDATE SET record = excluded.record",
            &[&rows.numbers, &rows.lines, &rows.records],
        )
        .await?;
    }
    write_user_cases(conn, w).await?;
    write_cases_lists(conn, w).await?;
    write_others(conn, w).await
}

async fn write_user_cases<C: GenericClient>(conn: &C, w: &Writes) -> Result<(), StoreError> {
    let (mut set, mut set_cases, mut gone) = (Vec::new(), Vec::new(), Vec::new());
    for (account, case) in &w.user_cases {
        match case {
            Some(case) => {
                set.push(account.as_str());
                set_cases.push(case.as_str());
            }
            None => gone.push(account.as_str()),
        }
    }
    if !set.is_empty() {
        run(
            conn,
            "INSERT INTO user_cases (account, case_id) SELECT * FROM unnest($1::text[], $2::text[]) \
             ON CONFLICT (account) DO UPDATE SET case_id = excluded.case_id",
            &[&set, &set_cases],
        )
        .await?;
    }
    if !gone.is_empty() {
        run(
            conn,
            "DELETE FROM user_cases WHERE account = ANY($1::text[])",
            &[&gone],
        )
        .await?;
    }
    Ok(())
}

/// Held cases and the waiting queue.
async fn write_cases_lists<C: GenericClient>(conn: &C, w: &Writes) -> Result<(), StoreError> {
    let (mut set, mut gone) = (Rows::default(), Rows::default());
    for ((account, number), held) in &w.held {
        let rows = if *held { &mut set } else { &mut gone };
        rows.keys.push(account.clone());
        rows.numbers.push(big(*number));
    }
    if !set.keys.is_empty() {
        run(
            conn,
            "INSERT INTO held_cases (account, number) SELECT * FROM unnest($1::text[], $2::bigint[]) \
             ON CONFLICT DO NOTHING",
            &[&set.keys, &set.numbers],
        )
        .await?;
    }
    if !gone.keys.is_empty() {
        run(
            conn,
            "DELETE FROM held_cases h USING unnest($1::text[], $2::bigint[]) AS d(a, n) \
             WHERE h.account = d.a AND h.number = d.n",
            &[&gone.keys, &gone.numbers],
        )
        .await?;
    }
    let (mut set, mut gone) = (Vec::new(), Vec::new());
    for (entry, waiting) in &w.queue {
        let row = (
            i16::from(entry.priority),
            entry.queued_ms,
            big(entry.number),
        );
        if *waiting {
            set.push(row);
        } else {
            gone.push(row);
        }
    }
    let columns = |rows: &[(i16, i64, i64)]| {
        (
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        )
    };
    if !set.is_empty() {
        let (p, q, n) = columns(&set);
        run(
            conn,
            "INSERT INTO waiting (priority, queued_ms, number) \
             SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bigint[]) ON CONFLICT DO NOTHING",
            &[&p, &q, &n],
        )
        .await?;
    }
    if !gone.is_empty() {
        let (p, q, n) = columns(&gone);
        run(
            conn,
            "DELETE FROM waiting w USING unnest($1::smallint[], $2::bigint[], $3::bigint[]) AS d(p, q, n) \
             WHERE w.priority = d.p AND w.queued_ms = d.q AND w.number = d.n",
            &[&p, &q, &n],
        )
        .await?;
    }
    Ok(())
}

/// Reserved cases, case messages and unanswered questions.
async fn write_others<C: GenericClient>(conn: &C, w: &Writes) -> Result<(), StoreError> {
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
        run(
            conn,
            "INSERT INTO reserved (number, record) SELECT * FROM unnest($1::bigint[], $2::bytea[]) \
             ON CONFLICT (number) DO UPDATE SET record = excluded.record",
            &[&set.numbers, &set.records],
        )
        .await?;
    }
    if !gone.is_empty() {
        run(
            conn,
            "DELETE FROM reserved WHERE number = ANY($1::bigint[])",
            &[&gone],
        )
        .await?;
    }
    if !w.case_messages.is_empty() {
        let references: Vec<&str> = w.case_messages.keys().map(String::as_str).collect();
        let cases: Vec<&str> = w.case_messages.values().map(String::as_str).collect();
        run(
            conn,
            "INSERT INTO case_messages (reference, case_id) SELECT * FROM unnest($1::text[], $2::text[]) \
             ON CONFLICT (reference) DO UPDATE SET case_id = excluded.case_id",
            &[&references, &cases],
        )
        .await?;
    }
    if !w.unanswered.is_empty() {
        let questions: Vec<&str> = w.unanswered.keys().map(String::as_str).collect();
        let counts: Vec<i64> = w.unanswered.values().map(|n| big(*n)).collect();
        run(
            conn,
            "INSERT INTO unanswered (question, count) SELECT * FROM unnest($1::text[], $2::bigint[]) \
             ON CONFLICT (question) DO UPDATE SET count = excluded.count",
            &[&questions, &counts],
        )
        .await?;
    }
    Ok(())
}
