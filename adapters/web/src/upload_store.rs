//! Where uploads are kept: in this process's data directory ([`UploadBook`]), or, when several processes serve
//! the pages from one shared store, in that store ([`PageFiles`]), so that a file uploaded through one process
//! is served by every other, the quotas count every process's uploads, and any process's sweep works on all of
//! them. Files a process kept in its data directory before it shared a store are moved into the store when it
//! starts, and served from the directory until they are.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::multipart::Field;
use axum::extract::Multipart;
use axum::http::StatusCode;
use axum::response::Response;
use supportbot_chat::{
    CaseDirectory, FileKept, FileQuota, MailError, PageFile, PageFiles, Shutdown,
};

use crate::channel::notice;
use crate::i18n::{Lang, Notice};
use crate::secrets::random_hex;
use crate::upload_book::{
    read_meta, referenced_files, room_for, stored_files, Full, Meta, Taken, UploadBook,
};
use crate::uploads::{
    attachment, clean_name, hand_over, multipart_error, quota_refusal, read_local, read_small,
    refuse, sniff,
};
use crate::{WebChannel, WebLimits};

/// The uploads of the channel.
pub(crate) enum Uploads {
    /// In the data directory, counted by this process.
    Local(UploadBook),
    /// In the store every process shares.
    Shared(SharedFiles),
}

impl Uploads {
    /// One sweep: files no open case refers to are marked, and deleted once unreferenced for the retention time.
    pub(crate) async fn sweep(&self, cases: &dyn CaseDirectory) {
        let referenced = referenced_files(cases).await;
        match self {
            Uploads::Local(book) => {
                book.sweep(&referenced).await;
            }
            Uploads::Shared(shared) => shared.sweep(&referenced).await,
        }
    }
}

/// Uploads in the shared store.
pub(crate) struct SharedFiles {
    files: Arc<dyn PageFiles>,
    limits: WebLimits,
    /// The uploads directory this process used before it shared a store: moved into the store at start.
    dir: PathBuf,
}

impl SharedFiles {
    /// Uploads in `files`, with the quotas of `limits`; `dir` is the data directory's uploads directory.
    pub(crate) fn new(files: Arc<dyn PageFiles>, dir: PathBuf, limits: WebLimits) -> SharedFiles {
        SharedFiles { files, limits, dir }
    }

    fn quota(&self) -> FileQuota {
        FileQuota {
            session_bytes: self.limits.upload_quota_bytes,
            session_files: u64::from(self.limits.upload_quota_files),
            total_bytes: self.limits.upload_total_bytes,
        }
    }

    /// The largest size one more file of `session` may have (at most `max_file`) and which quota bounds it
    /// below `max_file`, or which quota is full, from what every process has stored. The store checks again
    /// when the file is stored (uploads in progress elsewhere are not counted here).
    async fn room(
        &self,
        session: &str,
        max_file: u64,
    ) -> Result<Result<(u64, Option<Full>), Full>, MailError> {
        let usage = self.files.file_usage(session).await?;
        let taken = Taken {
            session_bytes: usage.session_bytes,
            session_files: usage.session_files,
            total_bytes: usage.total_bytes,
        };
        Ok(room_for(taken, &self.limits, max_file))
    }

    /// A file with its metadata: from the store, else from the directory it has not been moved out of yet.
    pub(crate) async fn load(&self, id: &str) -> Result<Option<(Meta, Vec<u8>)>, MailError> {
        if let Some((file, bytes)) = self.files.file(id).await? {
            return Ok(Some((meta_of(file), bytes)));
        }
        Ok(read_local(&self.dir, id).await)
    }

    async fn sweep(&self, referenced: &HashSet<String>) {
        let referenced: Vec<String> = referenced.iter().cloned().collect();
        match self
            .files
            .sweep_files(&referenced, self.limits.upload_retention)
            .await
        {
            Ok(swept) if swept.deleted > 0 => {
                tracing::info!(
                    files = swept.deleted,
                    "deleted uploads past their retention time"
                );
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "sweeping the shared uploads failed"),
        }
    }

    /// Moves the files of the uploads directory into the store (each removed from the directory once it is
    /// stored; outside the quotas, which they were counted against when uploaded), until done or `shutdown`.
    /// Returns how many were moved.
    pub(crate) async fn move_local(&self, shutdown: &Shutdown) -> usize {
        let mut moved = 0;
        for id in stored_files(&self.dir).await {
            if shutdown.is_cancelled() {
                break;
            }
            let id = id.as_str();
            match self.move_one(id).await {
                Ok(true) => moved += 1,
                Ok(false) => {}
                Err(err) => {
                    // Left where it is (and served from there): the next start tries again.
                    tracing::warn!(file = id, error = %err, "cannot move an upload into the shared store");
                }
            }
        }
        if moved > 0 {
            tracing::info!(
                files = moved,
                dir = %self.dir.display(),
                "moved this process's earlier uploads into the shared store"
            );
        }
        moved
    }

    async fn move_one(&self, id: &str) -> Result<bool, MailError> {
        let meta_path = self.dir.join(format!("{id}.json"));
        let meta = match tokio::task::spawn_blocking(move || read_meta(&meta_path)).await {
            Ok(Ok(meta)) => meta,
            _ => return Err(MailError("unreadable metadata".into())),
        };
        let bytes = match tokio::fs::read(self.dir.join(id)).await {
            Ok(bytes) => bytes,
            // Its bytes are gone (a delete cut off half-way): nothing to serve.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let _ = tokio::fs::remove_file(self.dir.join(format!("{id}.json"))).await;
                return Ok(false);
            }
            Err(err) => return Err(MailError(err.to_string())),
        };
        let file = page_file(id, &meta);
        self.files.keep_file(&file, &bytes, None).await?;
        // The file is durable in the store: the directory's copy may go (bytes first, so that a crash between
        // the two leaves metadata without bytes, which the next start cleans up).
        let _ = tokio::fs::remove_file(self.dir.join(id)).await;
        let _ = tokio::fs::remove_file(self.dir.join(format!("{id}.json"))).await;
        Ok(true)
    }
}

/// The store's record of a file with this metadata.
fn page_file(id: &str, meta: &Meta) -> PageFile {
    PageFile {
        id: id.to_string(),
        name: meta.name.clone(),
        kind: meta.kind,
        size: meta.size,
        content_type: meta.content_type.clone(),
        session: meta.session.clone(),
        unreferenced_since: meta.unreferenced_since,
    }
}

fn meta_of(file: PageFile) -> Meta {
    Meta {
        name: file.name,
        kind: file.kind,
        size: file.size,
        content_type: file.content_type,
        session: file.session,
        unreferenced_since: file.unreferenced_since,
    }
}

/// Reads the multipart body of `POST /upload` (the file into memory, within the room the quotas leave), stores
/// the file in the shared store, and only then sends it to the core.
pub(crate) async fn receive(
    channel: &WebChannel,
    shared: &SharedFiles,
    session: String,
    mut multipart: Multipart,
    lang: Lang,
) -> Response {
    let max_file = channel.out.settings.max_upload_bytes;
    let (cap, bound_by) = match shared.room(&session, max_file).await {
        Ok(Ok(room)) => room,
        Ok(Err(full)) => return quota_refusal(channel, full, lang),
        Err(err) => return unavailable(&session, &err, lang),
    };
    let mut caption = String::new();
    let mut client_id = None;
    let mut received: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => return multipart_error(channel, err.status(), bound_by, lang),
        };
        let outcome = match field.name() {
            Some("text") => read_small(field, channel.out.settings.max_text_chars * 4)
                .await
                .map(|t| caption = t),
            Some("id") => read_small(field, 64).await.map(|t| client_id = Some(t)),
            Some("file") if received.is_none() => {
                let name = clean_name(field.file_name().unwrap_or("file"));
                read_file(field, cap)
                    .await
                    .map(|bytes| received = Some((name, bytes)))
            }
            _ => Ok(()),
        };
        if let Err(status) = outcome {
            return multipart_error(channel, status, bound_by, lang);
        }
    }
    let Some((name, bytes)) = received else {
        return refuse(StatusCode::BAD_REQUEST, notice(Notice::UploadMissing, lang));
    };
    let (kind, content_type) = sniff(&bytes[..bytes.len().min(16)]);
    let file = PageFile {
        id: random_hex(16),
        name,
        kind,
        size: bytes.len() as u64,
        content_type: content_type.to_string(),
        session: Some(session.clone()),
        unreferenced_since: None,
    };
    match shared
        .files
        .keep_file(&file, &bytes, Some(&shared.quota()))
        .await
    {
        Ok(FileKept::Kept) => {}
        Ok(FileKept::SessionFull) => return quota_refusal(channel, Full::Session, lang),
        Ok(FileKept::AllFull) => return quota_refusal(channel, Full::Everyone, lang),
        Err(err) => return unavailable(&session, &err, lang),
    }
    let attachment = attachment(channel, &file.id, file.kind, &file.name, file.size);
    hand_over(channel, &session, attachment, caption, client_id, lang).await
}

/// The answer when the shared store cannot be used: nothing was stored, the page may try again.
fn unavailable(session: &str, err: &MailError, lang: Lang) -> Response {
    tracing::error!(session, error = %err, "cannot store an upload in the shared store");
    refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        notice(Notice::Unavailable, lang),
    )
}

/// The file part, at most `cap` bytes.
async fn read_file(mut field: Field<'_>, cap: u64) -> Result<Vec<u8>, StatusCode> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| e.status())? {
        if (bytes.len() + chunk.len()) as u64 > cap {
            return Err(StatusCode::PAYLOAD_TOO_LARGE);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use supportbot_chat::AttachmentKind;

    #[test]
    fn metadata_goes_to_the_store_and_back_unchanged() {
        let meta = Meta {
            name: "截图.png".into(),
            kind: AttachmentKind::Image,
            size: 12,
            content_type: "image/png".into(),
            session: Some("s1".into()),
            unreferenced_since: Some(1_700_000_000),
        };
        let file = page_file("0123456789abcdef0123456789abcdef", &meta);
        assert_eq!(file.id, "0123456789abcdef0123456789abcdef");
        let back = meta_of(file);
        assert_eq!(
            serde_json::to_string(&back).unwrap(),
            serde_json::to_string(&meta).unwrap()
        );
    }
}
