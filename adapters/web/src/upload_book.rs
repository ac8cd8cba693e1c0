//! Bookkeeping of `<data>/uploads`, where uploads are kept when no store is shared (see `upload_store`): what
//! each session has stored (its quota), what all uploads take together, and the sweep that deletes files no
//! open case refers to once they have been unreferenced for the retention time. Each file's metadata
//! (`<id>.json`) records its session and since when no open case has referred to it, so quotas and retention
//! survive restarts.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use supportbot_chat::{AttachmentKind, CaseDirectory};

use crate::{WebError, WebLimits};

/// Partial files (an upload cut off by a crash) older than this are removed by the sweep.
const STALE_PART: Duration = Duration::from_secs(24 * 3600);

/// What is kept next to each file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Meta {
    pub(crate) name: String,
    pub(crate) kind: AttachmentKind,
    pub(crate) size: u64,
    pub(crate) content_type: String,
    /// The chat session that uploaded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) session: Option<String>,
    /// Unix seconds since when no open case has referred to the file (unset while one does, and before the
    /// first sweep after the upload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) unreferenced_since: Option<u64>,
}

#[derive(Default)]
struct Usage {
    sessions: HashMap<String, (u64, u32)>,
    total: u64,
}

/// Why an upload may not be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    /// The session used its quota (bytes or files).
    Session,
    /// All uploads together reached their limit.
    Everyone,
}

/// Room reserved for one upload in progress: [`Reservation::settle`] keeps what the file took; dropped
/// unsettled (the upload failed, or the client went away), it gives everything back.
pub(crate) struct Reservation<'a> {
    book: &'a UploadBook,
    session: String,
    bytes: u64,
    settled: bool,
    /// Why the upload may not grow past `bytes` (the session's quota, or everybody's) when that is smaller
    /// than the single-file limit.
    pub(crate) bound_by: Option<Full>,
}

impl std::fmt::Debug for Reservation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reservation")
            .field("session", &self.session)
            .field("bytes", &self.bytes)
            .field("bound_by", &self.bound_by)
            .finish()
    }
}

impl Reservation<'_> {
    /// Largest size the upload may reach.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The upload was stored with `size` bytes: the rest of the reservation is given back.
    pub(crate) fn settle(mut self, size: u64) {
        self.settled = true;
        let spare = self.bytes.saturating_sub(size);
        let mut usage = self.book.usage();
        usage.total = usage.total.saturating_sub(spare);
        if let Some(used) = usage.sessions.get_mut(&self.session) {
            used.0 = used.0.saturating_sub(spare);
        }
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.book.forget(&self.session, self.bytes);
        }
    }
}

/// What uploads take already: one session's and everybody's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Taken {
    pub(crate) session_bytes: u64,
    pub(crate) session_files: u64,
    pub(crate) total_bytes: u64,
}

/// The largest size one more file may have (at most `max_file`) when uploads take `taken`, and which quota
/// bounds it below `max_file`; or which quota is full.
pub(crate) fn room_for(
    taken: Taken,
    limits: &WebLimits,
    max_file: u64,
) -> Result<(u64, Option<Full>), Full> {
    if taken.session_files >= u64::from(limits.upload_quota_files)
        || taken.session_bytes >= limits.upload_quota_bytes
    {
        return Err(Full::Session);
    }
    if taken.total_bytes >= limits.upload_total_bytes {
        return Err(Full::Everyone);
    }
    let session_room = limits.upload_quota_bytes - taken.session_bytes;
    let everyone_room = limits.upload_total_bytes - taken.total_bytes;
    let room = max_file.min(session_room).min(everyone_room);
    let bound_by = if room == max_file {
        None
    } else if room == session_room {
        Some(Full::Session)
    } else {
        Some(Full::Everyone)
    };
    Ok((room, bound_by))
}

/// The uploads directory's accounting.
pub(crate) struct UploadBook {
    dir: PathBuf,
    limits: WebLimits,
    usage: Mutex<Usage>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The upload ids (`/files/<id>`) in a URL.
pub(crate) fn file_id_in(url: &str) -> Option<&str> {
    let rest = &url[url.find("/files/")? + "/files/".len()..];
    let id = rest.get(..32)?;
    id.bytes().all(|b| b.is_ascii_hexdigit()).then_some(id)
}

pub(crate) fn is_file_id(name: &str) -> bool {
    name.len() == 32 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

impl UploadBook {
    /// Reads the metadata of every stored file in `dir`.
    pub(crate) fn open(dir: &Path, limits: WebLimits) -> Result<UploadBook, WebError> {
        std::fs::create_dir_all(dir).map_err(|e| WebError::io(dir, e))?;
        let mut usage = Usage::default();
        for entry in std::fs::read_dir(dir).map_err(|e| WebError::io(dir, e))? {
            let entry = entry.map_err(|e| WebError::io(dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(id) = name.strip_suffix(".json").filter(|id| is_file_id(id)) else {
                continue;
            };
            let Ok(meta) = read_meta(&entry.path()) else {
                tracing::warn!(file = %id, "unreadable upload metadata, not counted");
                continue;
            };
            usage.total += meta.size;
            if let Some(session) = meta.session {
                let used = usage.sessions.entry(session).or_default();
                used.0 += meta.size;
                used.1 += 1;
            }
        }
        Ok(UploadBook {
            dir: dir.to_path_buf(),
            limits,
            usage: Mutex::new(usage),
        })
    }

    fn usage(&self) -> std::sync::MutexGuard<'_, Usage> {
        self.usage.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reserves room for one file of at most `max_file` bytes from `session`, or says which quota is full.
    pub(crate) fn reserve(&self, session: &str, max_file: u64) -> Result<Reservation<'_>, Full> {
        let mut usage = self.usage();
        let (bytes, files) = usage.sessions.get(session).copied().unwrap_or((0, 0));
        let taken = Taken {
            session_bytes: bytes,
            session_files: u64::from(files),
            total_bytes: usage.total,
        };
        let (room, bound_by) = room_for(taken, &self.limits, max_file)?;
        usage.total += room;
        let used = usage.sessions.entry(session.to_string()).or_default();
        used.0 += room;
        used.1 += 1;
        Ok(Reservation {
            book: self,
            session: session.to_string(),
            bytes: room,
            settled: false,
            bound_by,
        })
    }

    fn forget(&self, session: &str, bytes: u64) {
        let mut usage = self.usage();
        usage.total = usage.total.saturating_sub(bytes);
        if let Some(used) = usage.sessions.get_mut(session) {
            used.0 = used.0.saturating_sub(bytes);
            used.1 = used.1.saturating_sub(1);
            if used.1 == 0 {
                usage.sessions.remove(session);
            }
        }
    }

    /// Deletes the files no open case has referred to (`referenced` holds the ids an open case does refer to)
    /// for the retention time, marks the ones that just lost their last open case, and removes stale partial
    /// files. Returns how many files were deleted.
    pub(crate) async fn sweep(&self, referenced: &HashSet<String>) -> usize {
        let now = unix_now();
        let retention = self.limits.upload_retention.as_secs();
        let mut deleted = 0;
        for id in stored_files(&self.dir).await {
            let id = id.as_str();
            let path = self.dir.join(format!("{id}.json"));
            let Ok(bytes) = tokio::fs::read(&path).await else {
                continue;
            };
            let Ok(mut meta) = serde_json::from_slice::<Meta>(&bytes) else {
                continue;
            };
            if referenced.contains(id) {
                if meta.unreferenced_since.take().is_some() {
                    write_meta(&path, &meta).await;
                }
                continue;
            }
            match meta.unreferenced_since {
                None => {
                    meta.unreferenced_since = Some(now);
                    write_meta(&path, &meta).await;
                }
                Some(since) if now.saturating_sub(since) >= retention => {
                    if self.delete(id, &meta).await {
                        deleted += 1;
                    }
                }
                Some(_) => {}
            }
        }
        if deleted > 0 {
            tracing::info!(files = deleted, "deleted uploads past their retention time");
        }
        deleted
    }

    async fn delete(&self, id: &str, meta: &Meta) -> bool {
        let file = self.dir.join(id);
        match tokio::fs::remove_file(&file).await {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                tracing::warn!(file = %file.display(), error = %err, "cannot delete an expired upload");
                return false;
            }
        }
        let _ = tokio::fs::remove_file(self.dir.join(format!("{id}.json"))).await;
        match &meta.session {
            Some(session) => self.forget(session, meta.size),
            None => {
                let mut usage = self.usage();
                usage.total = usage.total.saturating_sub(meta.size);
            }
        }
        true
    }
}

/// The ids of the files kept in the uploads directory `dir` (those with metadata), removing on the way the partial
/// files of uploads cut off by a crash that are older than [`STALE_PART`]. Empty when `dir` cannot be read.
pub(crate) async fn stored_files(dir: &Path) -> Vec<String> {
    let mut ids = Vec::new();
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else {
        return ids;
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".part") {
            remove_stale_part(&entry.path()).await;
        } else if let Some(id) = name.strip_suffix(".json").filter(|id| is_file_id(id)) {
            ids.push(id.to_string());
        }
    }
    ids
}

/// Removes a partial file (an upload cut off by a crash) once it is older than [`STALE_PART`].
async fn remove_stale_part(path: &Path) {
    let old = tokio::fs::metadata(path)
        .await
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > STALE_PART);
    if old {
        let _ = tokio::fs::remove_file(path).await;
    }
}

/// The ids of the uploads the open cases refer to (in their transcripts and histories).
pub(crate) async fn referenced_files(cases: &dyn CaseDirectory) -> HashSet<String> {
    let mut referenced = HashSet::new();
    for summary in cases.list(false).await {
        let Some(detail) = cases.get(&summary.id).await else {
            continue;
        };
        let urls = detail
            .transcript
            .iter()
            .flat_map(|e| &e.attachments)
            .chain(detail.history.iter().flat_map(|e| &e.attachments))
            .map(|a| a.url.as_str());
        referenced.extend(urls.filter_map(file_id_in).map(str::to_string));
    }
    referenced
}

/// Reads a file's metadata.
pub(crate) fn read_meta(path: &Path) -> std::io::Result<Meta> {
    let bytes = std::fs::read(path)?;
    serde_json::from_slice(&bytes).map_err(std::io::Error::other)
}

async fn write_meta(path: &Path, meta: &Meta) {
    let Ok(json) = serde_json::to_vec(meta) else {
        return;
    };
    let tmp = path.with_extension("json.tmp");
    let written = async {
        tokio::fs::write(&tmp, json).await?;
        tokio::fs::rename(&tmp, path).await
    }
    .await;
    if let Err(err) = written {
        tracing::warn!(file = %path.display(), error = %err, "cannot update upload metadata");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_links() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            file_id_in(&format!("http://h:1/files/{id}?sig=ab")),
            Some(id)
        );
        assert_eq!(file_id_in("http://h/files/xyz"), None);
        assert_eq!(file_id_in("http://h/other"), None);
    }

    #[test]
    fn quotas_reserve_and_settle() {
        let dir = tempfile::tempdir().unwrap();
        let limits = WebLimits {
            upload_quota_bytes: 100,
            upload_quota_files: 2,
            upload_total_bytes: 150,
            ..WebLimits::default()
        };
        let book = UploadBook::open(dir.path(), limits).unwrap();
        let r = book.reserve("s1", 80).unwrap();
        assert_eq!((r.bytes(), r.bound_by), (80, None));
        r.settle(60);
        let r = book.reserve("s1", 80).unwrap();
        assert_eq!((r.bytes(), r.bound_by), (40, Some(Full::Session)));
        r.settle(10);
        assert_eq!(book.reserve("s1", 80).unwrap_err(), Full::Session);
        let r = book.reserve("s2", 100).unwrap();
        assert_eq!((r.bytes(), r.bound_by), (80, Some(Full::Everyone)));
        drop(r);
        let r = book.reserve("s2", 100).unwrap();
        r.settle(80);
        assert_eq!(book.reserve("s3", 1).unwrap_err(), Full::Everyone);
    }
}
