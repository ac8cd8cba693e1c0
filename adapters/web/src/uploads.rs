//! Uploads: `POST /upload` takes one file (≤ the size limit) from a chat session, keeps it in
//! `<data>/uploads` (or, when several processes share the store, in the store: `upload_store`), and sends it to
//! the core as an attachment; `GET /files/{id}` serves it back to operators (operator token, or the signature in
//! the link the case shows), never as a page the browser would run.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::multipart::Field;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header::{ACCEPT_LANGUAGE, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use supportbot_chat::{Attachment, AttachmentKind};
use tokio::io::AsyncWriteExt;

use crate::channel::notice;
use crate::frames::Refusal;
use crate::i18n::{Lang, Notice};
use crate::listen::{peer_ip, Peer};
use crate::secrets::random_hex;
use crate::stats::WebStats;
use crate::upload_book::{read_meta, Full, Meta, Reservation};
use crate::upload_store::Uploads;
use crate::WebChannel;

/// Header a page sends its session token in.
pub const SESSION_HEADER: &str = "x-supportbot-session";

/// Query of `/upload` and `/files/{id}`.
#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    session: Option<String>,
    lang: Option<String>,
    sig: Option<String>,
}

pub(crate) fn refuse(status: StatusCode, refusal: Refusal) -> Response {
    (
        status,
        Json(json!({"ok": false, "code": refusal.code, "text": refusal.text})),
    )
        .into_response()
}

/// `POST /upload` (multipart: `file`, optional `text` and `id`).
pub async fn upload(
    State(channel): State<Arc<WebChannel>>,
    Query(query): Query<UploadQuery>,
    peer: Peer,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let accept = headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let lang = Lang::pick(query.lang.as_deref(), accept);
    let token = headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .or(query.session.as_deref());
    let Some(session) = token.and_then(|t| channel.signer.session_id(t)) else {
        return refuse(StatusCode::UNAUTHORIZED, notice(Notice::BadSession, lang));
    };
    let ip = peer_ip(&peer);
    if let Err(frame) = channel.check_rate(&session, lang) {
        return refuse(StatusCode::TOO_MANY_REQUESTS, frame);
    }
    if let Err(refusal) = channel.check_case_budget(&session, ip, lang) {
        return refuse(StatusCode::TOO_MANY_REQUESTS, refusal);
    }
    if let Err(limited) = channel.gates.upload(ip) {
        WebStats::inc(&channel.out.stats.limited_uploads);
        tracing::info!(%ip, session, "upload refused: too many uploads");
        return limited_response(limited, lang);
    }
    let max_file = channel.out.settings.max_upload_bytes;
    match &channel.out.uploads {
        Uploads::Local(book) => {
            let reservation = match book.reserve(&session, max_file) {
                Ok(reservation) => reservation,
                Err(full) => return quota_refusal(&channel, full, lang),
            };
            receive(&channel, session, reservation, multipart, lang).await
        }
        Uploads::Shared(shared) => {
            crate::upload_store::receive(&channel, shared, session, multipart, lang).await
        }
    }
}

/// The 429 answer to a limited request, with `Retry-After`.
pub(crate) fn limited_response(limited: crate::gates::Limited, lang: Lang) -> Response {
    let refusal = crate::channel::limited_notice(limited, lang);
    let secs = limited.retry_after.as_secs().max(1).to_string();
    let mut response = refuse(StatusCode::TOO_MANY_REQUESTS, refusal);
    if let Ok(value) = secs.parse() {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, value);
    }
    response
}

pub(crate) fn quota_refusal(channel: &WebChannel, full: Full, lang: Lang) -> Response {
    WebStats::inc(&channel.out.stats.upload_quota);
    let n = match full {
        Full::Session => Notice::UploadQuota,
        Full::Everyone => Notice::UploadsFull,
    };
    tracing::info!(?full, "upload refused: no room");
    refuse(StatusCode::PAYLOAD_TOO_LARGE, notice(n, lang))
}

/// Reads the multipart body into the uploads directory within `reservation`, then sends the file to the core.
async fn receive(
    channel: &WebChannel,
    session: String,
    reservation: Reservation<'_>,
    mut multipart: Multipart,
    lang: Lang,
) -> Response {
    let cap = reservation.bytes();
    let bound_by = reservation.bound_by;
    let mut caption = String::new();
    let mut client_id = None;
    let mut stored: Option<(String, Meta)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => {
                discard(channel, stored.as_ref()).await;
                return multipart_error(channel, err.status(), bound_by, lang);
            }
        };
        let outcome = match field.name() {
            Some("text") => read_small(field, channel.out.settings.max_text_chars * 4)
                .await
                .map(|t| caption = t),
            Some("id") => read_small(field, 64).await.map(|t| client_id = Some(t)),
            Some("file") if stored.is_none() => match store(channel, field, &session, cap).await {
                Ok(file) => {
                    stored = Some(file);
                    Ok(())
                }
                Err(status) => Err(status),
            },
            _ => Ok(()),
        };
        if let Err(status) = outcome {
            discard(channel, stored.as_ref()).await;
            return multipart_error(channel, status, bound_by, lang);
        }
    }
    let Some((file_id, meta)) = stored else {
        return refuse(StatusCode::BAD_REQUEST, notice(Notice::UploadMissing, lang));
    };
    reservation.settle(meta.size);
    let attachment = attachment(channel, &file_id, meta.kind, &meta.name, meta.size);
    hand_over(channel, &session, attachment, caption, client_id, lang).await
}

/// The attachment of a stored upload: its signed link on this channel's public address.
pub(crate) fn attachment(
    channel: &WebChannel,
    file_id: &str,
    kind: AttachmentKind,
    name: &str,
    size: u64,
) -> Attachment {
    Attachment {
        kind,
        name: name.to_string(),
        url: format!(
            "{}/files/{file_id}?sig={}",
            channel.out.settings.public_url.trim_end_matches('/'),
            channel.signer.file_signature(file_id)
        ),
        size,
    }
}

/// Counts a stored upload and sends it to the core as the session's message (with its caption); the answer
/// to the upload's request.
pub(crate) async fn hand_over(
    channel: &WebChannel,
    session: &str,
    attachment: Attachment,
    caption: String,
    client_id: Option<String>,
    lang: Lang,
) -> Response {
    WebStats::inc(&channel.out.stats.uploads);
    channel
        .out
        .stats
        .upload_bytes
        .fetch_add(attachment.size, std::sync::atomic::Ordering::Relaxed);
    let file = crate::upload_book::file_id_in(&attachment.url).unwrap_or_default();
    tracing::info!(session, file, size = attachment.size, "file uploaded");
    match channel
        .submit(session, caption, client_id, vec![attachment.clone()], lang)
        .await
    {
        Ok(()) => Json(json!({"ok": true, "attachment": attachment})).into_response(),
        Err(frame) => refuse(StatusCode::SERVICE_UNAVAILABLE, frame),
    }
}

pub(crate) fn multipart_error(
    channel: &WebChannel,
    status: StatusCode,
    bound_by: Option<Full>,
    lang: Lang,
) -> Response {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        match bound_by {
            Some(full) => quota_refusal(channel, full, lang),
            None => refuse(status, notice(Notice::UploadTooLarge, lang)),
        }
    } else {
        refuse(StatusCode::BAD_REQUEST, notice(Notice::BadFrame, lang))
    }
}

pub(crate) async fn read_small(mut field: Field<'_>, cap: usize) -> Result<String, StatusCode> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| e.status())? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > cap {
            return Err(StatusCode::PAYLOAD_TOO_LARGE);
        }
    }
    String::from_utf8(bytes).map_err(|_| StatusCode::BAD_REQUEST)
}

fn file_path(channel: &WebChannel, id: &str) -> PathBuf {
    channel.out.settings.uploads_dir().join(id)
}

async fn discard(channel: &WebChannel, stored: Option<&(String, Meta)>) {
    if let Some((id, _)) = stored {
        let _ = tokio::fs::remove_file(file_path(channel, id)).await;
        let _ = tokio::fs::remove_file(file_path(channel, &format!("{id}.json"))).await;
    }
}

/// Streams the file part to disk, counting bytes against the limit.
async fn store(
    channel: &WebChannel,
    mut field: Field<'_>,
    session: &str,
    cap: u64,
) -> Result<(String, Meta), StatusCode> {
    let name = clean_name(field.file_name().unwrap_or("file"));
    let id = random_hex(16);
    let part = file_path(channel, &format!("{id}.part"));
    let result = async {
        let mut file = tokio::fs::File::create(&part)
            .await
            .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
        let mut size: u64 = 0;
        let mut head = Vec::with_capacity(16);
        while let Some(chunk) = field.chunk().await.map_err(|e| e.status())? {
            size += chunk.len() as u64;
            if size > cap {
                return Err(StatusCode::PAYLOAD_TOO_LARGE);
            }
            if head.len() < 16 {
                head.extend_from_slice(&chunk[..chunk.len().min(16 - head.len())]);
            }
            file.write_all(&chunk)
                .await
                .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
        }
        file.sync_all()
            .await
            .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
        let (kind, content_type) = sniff(&head);
        Ok(Meta {
            name,
            kind,
            size,
            content_type: content_type.to_string(),
            session: Some(session.to_string()),
            unreferenced_since: None,
        })
    }
    .await;
    match result {
        Ok(meta) => {
            let meta_json =
                serde_json::to_vec(&meta).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
            let written = async {
                tokio::fs::write(file_path(channel, &format!("{id}.json")), meta_json).await?;
                tokio::fs::rename(&part, file_path(channel, &id)).await
            }
            .await;
            if let Err(err) = written {
                tracing::error!(error = %err, "cannot keep an uploaded file");
                let _ = tokio::fs::remove_file(&part).await;
                return Err(StatusCode::INTERNAL_SERVER_ERROR);
            }
            Ok((id, meta))
        }
        Err(status) => {
            let _ = tokio::fs::remove_file(&part).await;
            Err(status)
        }
    }
}

/// Pictures by their first bytes (never by the name or the client's word); everything else is a file.
pub(crate) fn sniff(head: &[u8]) -> (AttachmentKind, &'static str) {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        (AttachmentKind::Image, "image/png")
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        (AttachmentKind::Image, "image/jpeg")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        (AttachmentKind::Image, "image/gif")
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        (AttachmentKind::Image, "image/webp")
    } else {
        (AttachmentKind::File, "application/octet-stream")
    }
}

/// The file name without directories or control characters, at most 120 characters.
pub(crate) fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "file".to_string()
    } else {
        cleaned
    }
}

/// `Content-Disposition` for a name: an ASCII fallback and the UTF-8 name percent-encoded.
fn disposition(kind: AttachmentKind, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    let how = if kind == AttachmentKind::Image {
        "inline"
    } else {
        "attachment"
    };
    format!("{how}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A file kept in the uploads directory `dir`, with its metadata.
pub(crate) async fn read_local(dir: &std::path::Path, id: &str) -> Option<(Meta, Vec<u8>)> {
    let meta_path = dir.join(format!("{id}.json"));
    let meta = match tokio::task::spawn_blocking(move || read_meta(&meta_path)).await {
        Ok(Ok(meta)) => meta,
        _ => return None,
    };
    let bytes = tokio::fs::read(dir.join(id)).await.ok()?;
    Some((meta, bytes))
}

/// `GET /files/{id}`: an uploaded file, for the operator token or a valid link signature.
pub async fn download(
    State(channel): State<Arc<WebChannel>>,
    Path(id): Path<String>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
) -> Response {
    let id_ok = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let signed = query
        .sig
        .as_deref()
        .is_some_and(|sig| channel.signer.file_signature_ok(&id, sig));
    if !id_ok || !(signed || channel.operator_of(&headers).await.is_some()) {
        return crate::api::unauthorized(&channel);
    }
    let (meta, bytes) = match &channel.out.uploads {
        Uploads::Local(_) => match read_local(&channel.out.settings.uploads_dir(), &id).await {
            Some(found) => found,
            None => return StatusCode::NOT_FOUND.into_response(),
        },
        Uploads::Shared(shared) => match shared.load(&id).await {
            Ok(Some(found)) => found,
            Ok(None) => return StatusCode::NOT_FOUND.into_response(),
            Err(err) => {
                tracing::error!(file = %id, error = %err, "cannot read an upload from the shared store");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        },
    };
    let disposition = disposition(meta.kind, &meta.name);
    (
        [
            (CONTENT_TYPE, meta.content_type),
            (CONTENT_DISPOSITION, disposition),
            (
                axum::http::header::X_CONTENT_TYPE_OPTIONS,
                "nosniff".to_string(),
            ),
            (
                axum::http::header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_string(),
            ),
            (
                axum::http::header::CACHE_CONTROL,
                "private, max-age=3600".to_string(),
            ),
        ],
        Body::from(bytes),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_kinds() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\Users\\a\\截图.png"), "截图.png");
        assert_eq!(clean_name("..."), "file");
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n0000").0, AttachmentKind::Image);
        assert_eq!(
            sniff(b"<svg onload=alert(1)>").1,
            "application/octet-stream"
        );
        let d = disposition(AttachmentKind::File, "日志 \"x\".zip");
        assert!(d.starts_with("attachment; filename=\"__ _x_.zip\""), "{d}");
        assert!(d.contains("filename*=UTF-8''%E6%97%A5"), "{d}");
    }
}
