//! Uploads behind a plain load balancer: two `supportbot serve` processes on one PostgreSQL database. A visitor
//! uploads through one process and an operator downloads through the other, with the case's signed link or the
//! operator token, the bytes and headers as uploaded; a wrong signature is refused; a session's quota counts
//! the files stored through either process; no process keeps the files in its data directory; a file a
//! process kept in its data directory before is moved into the database when it starts; and while the database
//! refuses connections an upload is refused and kept nowhere.
#![cfg(all(feature = "webhook", feature = "web"))]

mod webhook_support;
#[path = "../adapters/web/tests/common/ws.rs"]
#[allow(dead_code)]
mod ws;

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use webhook_support::{config_text, wait_until, Serve};

const TOKEN: &str = "test-operator-token";

/// The config of instance `name`: its own data directory, the shared database, three files per session.
fn start(dir: &Path, name: &str, url: &str) -> Serve {
    let text = config_text(
        &dir.join(name),
        &format!(
            "[store]\nbackend = \"postgres\"\nurl = \"{url}\"\n\
             [web]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\nupload_quota_files = 3\n"
        ),
    );
    let config = dir.join(format!("{name}.toml"));
    std::fs::write(&config, text).unwrap();
    Serve::start(&config, &dir.join(format!("{name}.log")))
}

/// A multipart body with one file part and a caption.
fn multipart(name: &str, content: &[u8], caption: &str) -> Vec<u8> {
    let mut body = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n{caption}\r\n\
         --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: text/html\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    body
}

/// Uploads a file through `base` for `session`: the status and the JSON answer.
async fn upload(base: &str, session: &str, name: &str, content: &[u8]) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/upload"))
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .header("x-supportbot-session", session)
        .body(multipart(name, content, "see the file"))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// `link` (a `/files/…` URL on some process) on `base` instead.
fn on(base: &str, link: &str) -> String {
    let path = &link[link.find("/files/").expect("a file link")..];
    format!("{base}{path}")
}

/// GET `url`, with the operator token when asked.
async fn get(url: &str, operator: bool) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(url);
    if operator {
        req = req.bearer_auth(TOKEN);
    }
    req.send().await.unwrap()
}

/// The regular files in `dir` (none when it does not exist).
fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_uploaded_through_one_process_is_served_by_the_other() {
    let Some(cluster) = supportbot_pg_cluster::shared() else {
        return;
    };
    let url = cluster.database("scale_web_uploads");
    let db = url.rsplit('/').next().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();

    // A file instance A kept in its data directory before it shared the database (as on sled).
    let earlier = "0123456789abcdef0123456789abcdef";
    let earlier_dir = dir.path().join("a").join("uploads");
    std::fs::create_dir_all(&earlier_dir).unwrap();
    std::fs::write(earlier_dir.join(earlier), b"kept before the move").unwrap();
    std::fs::write(
        earlier_dir.join(format!("{earlier}.json")),
        json!({"name": "old.log", "kind": "file", "size": 20, "content_type": "application/octet-stream",
               "session": "an-old-session"})
        .to_string(),
    )
    .unwrap();

    let a = start(dir.path(), "a", &url);
    let b = start(dir.path(), "b", &url);

    // A visitor's session, opened on A (valid on B too: the key is in the database).
    let mut page = ws::connect(&format!("{}/ws?lang=en", a.base.replacen("http", "ws", 1))).await;
    let first = ws::next_json_within(&mut page, Duration::from_secs(10)).await;
    assert_eq!(first["type"], "session", "{first}");
    let session = first["session"].as_str().unwrap().to_string();

    // A picture uploaded through A: the answer comes once it is stored, so B serves it at once.
    let png = b"\x89PNG\r\n\x1a\n-a-screenshot-of-the-bounce";
    let (status, answer) = upload(&a.base, &session, "截图.png", png).await;
    assert_eq!(status, 200, "{answer}");
    let link = answer["attachment"]["url"].as_str().unwrap().to_string();
    assert!(link.starts_with(&format!("{}/files/", a.base)), "{link}");
    assert_eq!(answer["attachment"]["kind"], "image");
    let r = get(&on(&b.base, &link), false).await;
    assert_eq!(r.status(), 200, "the signed link on B");
    assert_eq!(r.headers()["content-type"], "image/png");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("inline; filename=\"__.png\"")
            && disposition.contains("filename*=UTF-8''%E6%88%AA%E5%9B%BE.png"),
        "{disposition}"
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.unwrap().as_ref(), png);

    // Without the signature B asks for the operator token; a wrong signature is refused.
    let bare = on(&b.base, link.split('?').next().unwrap());
    assert_eq!(get(&bare, false).await.status(), 401);
    let r = get(&bare, true).await;
    assert_eq!(r.status(), 200, "the operator token on B");
    assert_eq!(r.bytes().await.unwrap().as_ref(), png);
    let sig = link.rsplit("sig=").next().unwrap();
    let flipped: String = sig
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 {
                if c == '0' {
                    '1'
                } else {
                    '0'
                }
            } else {
                c
            }
        })
        .collect();
    assert_eq!(
        get(&format!("{bare}?sig={flipped}"), false).await.status(),
        401
    );
    let unknown = on(&b.base, "/files/fedcba9876543210fedcba9876543210");
    assert_eq!(get(&unknown, true).await.status(), 404);

    // A log file uploaded through B, downloaded through A: a download, never shown inline.
    let log = "554 DT:SPM 退信\n".repeat(200).into_bytes();
    let (status, answer) = upload(&b.base, &session, "日志.txt", &log).await;
    assert_eq!(status, 200, "{answer}");
    let link = answer["attachment"]["url"].as_str().unwrap().to_string();
    assert!(link.starts_with(&format!("{}/files/", b.base)), "{link}");
    let r = get(&on(&a.base, &link), false).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=\"__.txt\"")
            && disposition.contains("filename*=UTF-8''%E6%97%A5%E5%BF%97.txt"),
        "{disposition}"
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), log.as_slice());

    // The session may keep three files: the third through A, the fourth refused by B, which counts A's.
    assert_eq!(upload(&a.base, &session, "c.bin", b"third").await.0, 200);
    let (status, answer) = upload(&b.base, &session, "d.bin", b"fourth").await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (413, Some("upload_quota")),
        "{answer}"
    );

    // The file A kept before is in the database now, served by B, and gone from A's directory; no process
    // keeps the new files on its disk.
    let moved = on(&b.base, &format!("/files/{earlier}"));
    wait_until("the earlier file moved", Duration::from_secs(20), || {
        files_in(&earlier_dir).is_empty()
    })
    .await;
    let r = get(&moved, true).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"kept before the move");
    assert!(files_in(&dir.path().join("b").join("uploads")).is_empty());
    assert_eq!(
        cluster.psql(&db, "SELECT count(*) FROM page_files"),
        "4",
        "three uploads and the moved file"
    );
    assert_eq!(
        cluster.psql(
            &db,
            "SELECT count(*) FROM page_files WHERE session = 'an-old-session' AND size = 20"
        ),
        "1"
    );

    // While the database refuses connections an upload is refused (503, the page may try again) and kept
    // nowhere; once it is back, uploads are stored again.
    let cut_off = |allow: bool| {
        cluster.psql(
            "postgres",
            &format!("ALTER DATABASE \"{db}\" ALLOW_CONNECTIONS {allow}"),
        );
        if !allow {
            cluster.psql(
                "postgres",
                &format!(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{db}'"
                ),
            );
        }
    };
    cut_off(false);
    let (status, answer) = upload(&a.base, &session, "e.bin", b"fifth").await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (503, Some("unavailable")),
        "{answer}"
    );
    cut_off(true);
    assert!(files_in(&dir.path().join("a").join("uploads")).is_empty());
    assert_eq!(cluster.psql(&db, "SELECT count(*) FROM page_files"), "4");
    let mut page = ws::connect(&format!("{}/ws?lang=en", b.base.replacen("http", "ws", 1))).await;
    let hello = ws::next_json_within(&mut page, Duration::from_secs(10)).await;
    let another = hello["session"].as_str().unwrap().to_string();
    let mut status = 0;
    for _ in 0..50 {
        status = upload(&b.base, &another, "f.bin", b"after the outage")
            .await
            .0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status, 200, "an upload once the database is back");
    assert_eq!(cluster.psql(&db, "SELECT count(*) FROM page_files"), "5");
    drop((a, b));
}
