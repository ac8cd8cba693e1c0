//! Uploads from a chat session: stored under the data directory, sent to the core as attachments, served back
//! only with the operator token or the link's signature, size limit with a clear answer.

mod common;

use common::*;

fn multipart(boundary: &str, name: &str, content: &[u8], text: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n{text}\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/html\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

async fn post(server: &Server, token: Option<&str>, body: Vec<u8>) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(server.http("/upload"))
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(body);
    if let Some(token) = token {
        req = req.header("x-supportbot-session", token);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn upload_becomes_an_attachment_operators_can_download() {
    let server = start(|s| s.max_upload_bytes = 64 * 1024).await;
    let mut ws = connect(&server.ws_url("/ws")).await;
    let token = next_json(&mut ws).await["session"]
        .as_str()
        .unwrap()
        .to_string();

    let png = b"\x89PNG\r\n\x1a\n-not-really-a-picture";
    let r = post(
        &server,
        Some(&token),
        multipart("XyZ", "../截图.png", png, "the error"),
    )
    .await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    let att = &body["attachment"];
    assert_eq!(att["kind"], "image");
    assert_eq!(att["name"], "截图.png");
    assert_eq!(att["size"], png.len());

    let inbound = server.core.inbound();
    assert_eq!(inbound.len(), 1);
    assert_eq!(inbound[0].text, "the error");
    assert_eq!(inbound[0].attachments.len(), 1);
    let url = inbound[0].attachments[0].url.clone();
    assert!(
        url.starts_with(&format!("http://{}/files/", server.addr)),
        "{url}"
    );
    assert_eq!(next_of(&mut ws, "message").await["text"], "echo: the error");

    // Signed link works; the bare path needs the operator token.
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.unwrap().as_ref(), png);
    let bare = url.split('?').next().unwrap().to_string();
    assert_eq!(reqwest::get(&bare).await.unwrap().status(), 401);
    assert_eq!(
        reqwest::get(format!("{bare}?sig=00"))
            .await
            .unwrap()
            .status(),
        401
    );
    let r = reqwest::Client::new()
        .get(&bare)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // An HTML file is served as a download, never as a page.
    let r = post(
        &server,
        Some(&token),
        multipart("XyZ", "x.html", b"<script>alert(1)</script>", ""),
    )
    .await;
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["attachment"]["kind"], "file");
    let url = body["attachment"]["url"].as_str().unwrap().to_string();
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));

    // Stored under the data directory.
    let stored = std::fs::read_dir(server.dir.path().join("uploads"))
        .unwrap()
        .count();
    assert_eq!(stored, 4, "two files and their metadata");
}

#[tokio::test]
async fn oversized_and_unauthenticated_uploads_are_refused() {
    let server = start(|s| s.max_upload_bytes = 1000).await;
    let mut ws = connect(&server.ws_url("/ws")).await;
    let token = next_json(&mut ws).await["session"]
        .as_str()
        .unwrap()
        .to_string();

    let r = post(
        &server,
        Some(&token),
        multipart("XyZ", "big.log", &vec![b'a'; 5000], ""),
    )
    .await;
    assert_eq!(r.status(), 413);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "too_large");

    let r = post(&server, None, multipart("XyZ", "a.log", b"abc", "")).await;
    assert_eq!(r.status(), 401);
    let r = post(
        &server,
        Some("forged.token"),
        multipart("XyZ", "a.log", b"abc", ""),
    )
    .await;
    assert_eq!(r.status(), 401);

    let no_file =
        b"--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nhi\r\n--XyZ--\r\n".to_vec();
    let r = post(&server, Some(&token), no_file).await;
    assert_eq!(r.status(), 400);

    assert!(server.core.inbound().is_empty());
    let left: Vec<_> = std::fs::read_dir(server.dir.path().join("uploads"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "nothing kept of refused uploads: {left:?}");
}
