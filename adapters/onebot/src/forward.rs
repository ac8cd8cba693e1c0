//! Forward WebSocket: supportbot connects to the implementation's URL (with `Authorization: Bearer <token>`)
//! and connects again, with a growing pause, whenever the connection fails or drops, until shutdown.

use std::time::Duration;

use supportbot_chat::Shutdown;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::channel::OneBotChannel;
use crate::pump::{self, Frame};

/// First pause before connecting again; it doubles up to [`MAX_PAUSE`] and starts over after a connection.
const FIRST_PAUSE: Duration = Duration::from_millis(500);
/// Longest pause between two connection attempts.
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// Keeps a connection to `url` until `shutdown`.
pub async fn run(channel: OneBotChannel, url: String, shutdown: Shutdown) {
    let mut pause = FIRST_PAUSE;
    while !shutdown.is_cancelled() {
        match connect(&channel, &url).await {
            Ok(socket) => {
                pause = FIRST_PAUSE;
                serve(&channel, socket, shutdown.clone()).await;
            }
            Err(err) => {
                tracing::warn!(%url, error = %err, "cannot connect to the OneBot implementation")
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(
    channel: &OneBotChannel,
    url: &str,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut request = url.into_client_request()?;
    if let Some(token) = &channel.settings().access_token {
        let value = format!("Bearer {token}").parse().map_err(|_| {
            tokio_tungstenite::tungstenite::Error::Url(
                tokio_tungstenite::tungstenite::error::UrlError::UnableToConnect(
                    "access token is not a header value".into(),
                ),
            )
        })?;
        request.headers_mut().insert("authorization", value);
    }
    let (socket, _) = tokio_tungstenite::connect_async(request).await?;
    Ok(socket)
}

async fn serve(channel: &OneBotChannel, socket: Socket, shutdown: Shutdown) {
    pump::run(
        channel,
        socket,
        frame,
        |text| Message::Text(text.into()),
        None,
        shutdown,
    )
    .await;
}

fn frame(message: Message) -> Frame {
    match message {
        Message::Text(t) => Frame::Text(t.to_string()),
        Message::Binary(b) => Frame::Text(String::from_utf8_lossy(&b).into_owned()),
        Message::Close(_) => Frame::Close,
        _ => Frame::Other,
    }
}
