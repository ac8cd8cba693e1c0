//! A small WebSocket client for the web channel's tests, shared by the crate's tests and the root package's
//! end-to-end tests (which include this file by path).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A client socket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connects, panicking when the server refuses.
pub async fn connect(url: &str) -> Ws {
    tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket connects")
        .0
}

/// Connects with extra request headers (Origin, Authorization, ...), returning the handshake error.
pub async fn connect_with(
    url: &str,
    headers: &[(&'static str, &str)],
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut request = url.into_client_request().unwrap();
    for (k, v) in headers {
        request.headers_mut().insert(*k, v.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| ws)
}

/// The next JSON text frame, panicking after `limit`.
pub async fn next_json_within(ws: &mut Ws, limit: Duration) -> Value {
    loop {
        let msg = tokio::time::timeout(limit, ws.next())
            .await
            .unwrap_or_else(|_| panic!("a frame within {limit:?}"))
            .expect("socket open")
            .expect("frame ok");
        if let Message::Text(text) = msg {
            eprintln!("frame: {text}");
            return serde_json::from_str(text.as_str()).expect("json frame");
        }
    }
}

/// Sends one JSON text frame.
pub async fn send(ws: &mut Ws, value: Value) {
    ws.send(Message::Text(value.to_string().into()))
        .await
        .unwrap();
}
