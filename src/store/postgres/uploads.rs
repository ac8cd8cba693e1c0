//! The files visitors upload in the web chat, on PostgreSQL (table `page_files`, bytes included), so that a link
//! to one works on every process. A file is counted against its session's quota and the limit of all uploads in
//! the transaction that stores it, after an advisory lock that every process's uploads take in turn: two
//! processes storing at once cannot both use the last room. The sweep takes a lock of its own, so sweeps of
//! several processes run one after another and each finds the marks the previous one left.

use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Object, Transaction};
use supportbot_chat::{
    AttachmentKind, FileKept, FileQuota, FileSweep, FileUsage, MailError, PageFile, PageFiles,
};
use tokio_postgres::IsolationLevel;

use super::{big, db_error, unbig, PgStore};

/// Advisory-lock namespace of uploads (transaction locks); second key [`QUOTA`] or [`SWEEP`].
const LOCK_FILES: i32 = 0x5342_0011;
/// Second key: counting a new file against the quotas.
const QUOTA: i32 = 0;
/// Second key: one sweep.
const SWEEP: i32 = 1;

/// A transaction at READ COMMITTED whatever the server's default: a statement after [`take_lock`] must see what
/// the process that held the lock before committed, which a snapshot from the transaction's start would not.
async fn read_committed(conn: &mut Object) -> Result<Transaction<'_>, MailError> {
    Ok(conn
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await
        .map_err(db_error)?)
}

/// Waits for the uploads' advisory lock `key` ([`QUOTA`] or [`SWEEP`]), held until the transaction ends.
async fn take_lock(tx: &Transaction<'_>, key: i32) -> Result<(), MailError> {
    tx.execute("SELECT pg_advisory_xact_lock($1, $2)", &[&LOCK_FILES, &key])
        .await
        .map_err(db_error)?;
    Ok(())
}

/// A kind as stored in `page_files.kind`.
fn kind_name(kind: AttachmentKind) -> &'static str {
    match kind {
        AttachmentKind::Image => "image",
        AttachmentKind::File => "file",
    }
}

/// A stored kind; anything unknown is served as a plain file (a download, never shown inline).
fn kind_of(name: &str) -> AttachmentKind {
    match name {
        "image" => AttachmentKind::Image,
        _ => AttachmentKind::File,
    }
}

/// Usage of `session` and of everybody, in one statement: (session bytes, session files, all bytes).
const USAGE_SQL: &str = "SELECT coalesce(sum(size) FILTER (WHERE session = $1), 0)::bigint, \
     count(*) FILTER (WHERE session = $1), coalesce(sum(size), 0)::bigint FROM page_files";

fn usage_of(row: &tokio_postgres::Row) -> FileUsage {
    FileUsage {
        session_bytes: unbig(row.get(0)),
        session_files: unbig(row.get(1)),
        total_bytes: unbig(row.get(2)),
    }
}

#[async_trait]
impl PageFiles for PgStore {
    async fn keep_file(
        &self,
        file: &PageFile,
        bytes: &[u8],
        quota: Option<&FileQuota>,
    ) -> Result<FileKept, MailError> {
        let mut conn = self.conn().await?;
        let tx = read_committed(&mut conn).await?;
        let since = file.unreferenced_since.map(big);
        // The bytes are sent before the lock is taken, so a large file does not hold up other uploads.
        let inserted = tx
            .execute(
                "INSERT INTO page_files (id, name, kind, size, content_type, session, unreferenced_since, bytes) \
                 VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7::bigint), $8) ON CONFLICT (id) DO NOTHING",
                &[
                    &file.id,
                    &file.name,
                    &kind_name(file.kind),
                    &big(file.size),
                    &file.content_type,
                    &file.session,
                    &since,
                    &bytes,
                ],
            )
            .await
            .map_err(db_error)?;
        if inserted == 0 {
            // Stored before (an import run again after a crash): nothing new to count.
            tracing::debug!(file = %file.id, "upload stored already");
            return Ok(FileKept::Kept);
        }
        if let Some(quota) = quota {
            take_lock(&tx, QUOTA).await?;
            let row = tx
                .query_one(USAGE_SQL, &[&file.session])
                .await
                .map_err(db_error)?;
            // The usage includes the new file: refusing rolls it back.
            let usage = usage_of(&row);
            let full = if usage.session_files > quota.session_files
                || usage.session_bytes > quota.session_bytes
            {
                Some(FileKept::SessionFull)
            } else if usage.total_bytes > quota.total_bytes {
                Some(FileKept::AllFull)
            } else {
                None
            };
            if let Some(full) = full {
                tracing::info!(
                    file = %file.id,
                    session = file.session.as_deref().unwrap_or(""),
                    size = file.size,
                    session_bytes = usage.session_bytes,
                    session_files = usage.session_files,
                    total_bytes = usage.total_bytes,
                    ?full,
                    "upload not stored: no room in the shared store"
                );
                return Ok(full);
            }
        }
        tx.commit().await.map_err(db_error)?;
        Ok(FileKept::Kept)
    }

    async fn file(&self, id: &str) -> Result<Option<(PageFile, Vec<u8>)>, MailError> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(
                "SELECT name, kind, size, content_type, session, \
                 floor(extract(epoch FROM unreferenced_since))::bigint, bytes FROM page_files WHERE id = $1",
                &[&id],
            )
            .await
            .map_err(db_error)?;
        Ok(row.map(|row| {
            let since: Option<i64> = row.get(5);
            let file = PageFile {
                id: id.to_string(),
                name: row.get(0),
                kind: kind_of(row.get(1)),
                size: unbig(row.get(2)),
                content_type: row.get(3),
                session: row.get(4),
                unreferenced_since: since.map(unbig),
            };
            (file, row.get(6))
        }))
    }

    async fn file_usage(&self, session: &str) -> Result<FileUsage, MailError> {
        let conn = self.conn().await?;
        let row = conn
            .query_one(USAGE_SQL, &[&session])
            .await
            .map_err(db_error)?;
        Ok(usage_of(&row))
    }

    async fn sweep_files(
        &self,
        referenced: &[String],
        retention: Duration,
    ) -> Result<FileSweep, MailError> {
        let mut conn = self.conn().await?;
        let tx = read_committed(&mut conn).await?;
        // One sweep at a time across processes: their updates never wait on each other's rows (no deadlock),
        // and each finds the marks the previous one committed.
        take_lock(&tx, SWEEP).await?;
        let unmarked = tx
            .execute(
                "UPDATE page_files SET unreferenced_since = NULL \
                 WHERE id = ANY($1) AND unreferenced_since IS NOT NULL",
                &[&referenced],
            )
            .await
            .map_err(db_error)?;
        // Deleted before the new marks are set, so that a file is marked in one sweep and deleted at a later one,
        // as in a process's own uploads directory.
        let deleted = tx
            .execute(
                "DELETE FROM page_files WHERE unreferenced_since <= now() - $2::float8 * interval '1 second' \
                 AND NOT (id = ANY($1))",
                &[&referenced, &retention.as_secs_f64()],
            )
            .await
            .map_err(db_error)?;
        let marked = tx
            .execute(
                "UPDATE page_files SET unreferenced_since = now() \
                 WHERE unreferenced_since IS NULL AND NOT (id = ANY($1))",
                &[&referenced],
            )
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        let sweep = FileSweep {
            marked,
            unmarked,
            deleted,
        };
        if sweep != FileSweep::default() {
            tracing::info!(marked, unmarked, deleted, "swept the shared uploads");
        }
        Ok(sweep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DatabaseUrl;

    #[test]
    fn kinds_are_stored_by_name_and_unknown_ones_are_plain_files() {
        for kind in [AttachmentKind::Image, AttachmentKind::File] {
            assert_eq!(kind_of(kind_name(kind)), kind);
        }
        assert_eq!(kind_of("svg"), AttachmentKind::File);
    }

    fn file(id: &str, session: &str, size: u64) -> PageFile {
        PageFile {
            id: format!("{id:0>32}"),
            name: format!("{id}.log"),
            kind: AttachmentKind::File,
            size,
            content_type: "application/octet-stream".into(),
            session: Some(session.into()),
            unreferenced_since: None,
        }
    }

    /// Moves a file's mark `hours` into the past (as if that much time had gone by since it was marked).
    async fn age(store: &PgStore, id: &str, hours: u32) {
        let conn = store.conn().await.unwrap();
        let moved = conn
            .execute(
                "UPDATE page_files SET unreferenced_since = now() - $2::int * interval '1 hour' WHERE id = $1",
                &[&format!("{id:0>32}"), &(hours as i32)],
            )
            .await
            .unwrap();
        assert_eq!(moved, 1, "{id}");
    }

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|id| format!("{id:0>32}")).collect()
    }

    /// Two stores on one database stand for two processes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn files_quotas_and_sweeps_are_shared_by_every_process() {
        let shared = tokio::task::spawn_blocking(supportbot_pg_cluster::shared);
        let Some(cluster) = shared.await.unwrap() else {
            return;
        };
        let created = tokio::task::spawn_blocking(move || cluster.database("page_files"));
        let url = DatabaseUrl::parse(&created.await.unwrap()).unwrap();
        let (a, b) = (
            PgStore::open(&url).await.unwrap(),
            PgStore::open(&url).await.unwrap(),
        );
        let quota = FileQuota {
            session_bytes: 25,
            session_files: 2,
            total_bytes: 40,
        };

        // Stored through A, read back through B with every field.
        let mut f1 = file("1", "s1", 10);
        f1.kind = AttachmentKind::Image;
        f1.content_type = "image/png".into();
        f1.name = "截图.png".into();
        assert_eq!(
            a.keep_file(&f1, b"0123456789", Some(&quota)).await.unwrap(),
            FileKept::Kept
        );
        assert_eq!(
            b.file(&f1.id).await.unwrap(),
            Some((f1.clone(), b"0123456789".to_vec()))
        );
        assert_eq!(b.file(&ids(&["9"])[0]).await.unwrap(), None);

        // The session's quota counts the files of both processes: files, then bytes.
        assert_eq!(
            b.keep_file(&file("2", "s1", 10), &[7; 10], Some(&quota))
                .await
                .unwrap(),
            FileKept::Kept
        );
        assert_eq!(
            b.file_usage("s1").await.unwrap(),
            FileUsage {
                session_bytes: 20,
                session_files: 2,
                total_bytes: 20
            }
        );
        assert_eq!(
            a.keep_file(&file("3", "s1", 1), b"x", Some(&quota))
                .await
                .unwrap(),
            FileKept::SessionFull
        );
        assert_eq!(a.file(&ids(&["3"])[0]).await.unwrap(), None, "rolled back");
        assert_eq!(
            a.keep_file(&file("4", "s2", 26), &[1; 26], Some(&quota))
                .await
                .unwrap(),
            FileKept::SessionFull
        );
        // Everybody's limit: 20 + 16 fits, 5 more do not.
        assert_eq!(
            a.keep_file(&file("5", "s2", 16), &[2; 16], Some(&quota))
                .await
                .unwrap(),
            FileKept::Kept
        );
        assert_eq!(
            b.keep_file(&file("6", "s3", 5), &[3; 5], Some(&quota))
                .await
                .unwrap(),
            FileKept::AllFull
        );
        assert_eq!(a.file_usage("s3").await.unwrap().total_bytes, 36);

        // Two processes storing the last file a session may have at once: exactly one gets it.
        let one = FileQuota {
            session_files: 1,
            total_bytes: 1 << 20,
            ..quota
        };
        let (x, y) = (file("7", "s4", 1), file("8", "s4", 1));
        let (kept_x, kept_y) = tokio::join!(
            a.keep_file(&x, b"x", Some(&one)),
            b.keep_file(&y, b"y", Some(&one))
        );
        let mut outcomes = [kept_x.unwrap(), kept_y.unwrap()];
        outcomes.sort_by_key(|k| *k != FileKept::Kept);
        assert_eq!(outcomes, [FileKept::Kept, FileKept::SessionFull]);
        assert_eq!(a.file_usage("s4").await.unwrap().session_files, 1);

        // Storing a stored id again (a move repeated after a crash) changes nothing; without a quota, a file
        // keeps the mark it brings.
        assert_eq!(
            a.keep_file(&f1, b"other bytes", None).await.unwrap(),
            FileKept::Kept
        );
        assert_eq!(a.file(&f1.id).await.unwrap().unwrap().1, b"0123456789");
        let mut marked = file("a", "old", 3);
        marked.unreferenced_since = Some(1_700_000_000);
        assert_eq!(
            b.keep_file(&marked, b"old", None).await.unwrap(),
            FileKept::Kept
        );
        assert_eq!(a.file(&marked.id).await.unwrap().unwrap().0, marked);
        age(&a, "a", 1).await;

        // Files: 1, 2 (s1), 5 (s2), one of 7/8 (s4), a (marked an hour ago). Case refers to 1 and 2.
        let hour = Duration::from_secs(3600);
        let referenced = ids(&["1", "2"]);
        assert_eq!(
            a.sweep_files(&referenced, hour).await.unwrap(),
            FileSweep {
                marked: 2,
                unmarked: 0,
                deleted: 1
            },
            "5 and 7/8 marked, a deleted"
        );
        assert_eq!(b.file(&marked.id).await.unwrap(), None);
        // The same sweep from the other process finds nothing to do.
        assert_eq!(
            b.sweep_files(&referenced, hour).await.unwrap(),
            FileSweep::default()
        );
        // Not yet past the retention time: kept. Referenced again: unmarked, however old its mark.
        age(&b, "5", 2).await;
        assert_eq!(
            b.sweep_files(&ids(&["1", "5"]), hour).await.unwrap(),
            FileSweep {
                marked: 1,
                unmarked: 1,
                deleted: 0
            },
            "2 marked, 5 unmarked"
        );
        assert!(a.file(&ids(&["5"])[0]).await.unwrap().is_some());
        // 2 was marked just now: past the retention only later.
        assert_eq!(
            a.sweep_files(&ids(&["1", "5"]), hour)
                .await
                .unwrap()
                .deleted,
            0
        );
        age(&a, "2", 2).await;
        assert_eq!(
            a.sweep_files(&ids(&["1", "5"]), hour)
                .await
                .unwrap()
                .deleted,
            1
        );
        // A deleted file frees its session's quota.
        assert_eq!(
            b.file_usage("s1").await.unwrap(),
            FileUsage {
                session_bytes: 10,
                session_files: 1,
                total_bytes: 27
            }
        );
    }
}
