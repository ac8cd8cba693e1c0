//! One connection's frames, whichever side opened it: received text frames go to the channel's session in
//! order, the session's outgoing frames are written as text, and the connection ends when either side does.

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use supportbot_chat::Shutdown;
use tokio::sync::mpsc;

use crate::channel::OneBotChannel;

/// Frames waiting to be handled before the socket stops being read.
const INCOMING: usize = 256;

/// What a received frame carries.
pub(crate) enum Frame {
    /// A text (or UTF-8 binary) frame.
    Text(String),
    /// The other side closed the connection.
    Close,
    /// Ping, pong and the like: nothing for the session.
    Other,
}

/// Runs `channel`'s session over `socket` (frames of type `M`, read with `read` and made with `text`) until the
/// connection ends or `shutdown`.
pub(crate) async fn run<S, M, E>(
    channel: &OneBotChannel,
    socket: S,
    read: fn(M) -> Frame,
    text: fn(String) -> M,
    self_id: Option<String>,
    shutdown: Shutdown,
) where
    S: Stream<Item = Result<M, E>> + Sink<M> + Send + 'static,
    M: Send + 'static,
    E: Send + 'static,
{
    let (mut write, mut reader_half) = socket.split();
    let (in_tx, in_rx) = mpsc::channel(INCOMING);
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(async move {
        while let Some(frame) = out_rx.recv().await {
            if write.send(text(frame)).await.is_err() {
                break;
            }
        }
    });
    let reader = tokio::spawn(async move {
        while let Some(Ok(message)) = reader_half.next().await {
            match read(message) {
                Frame::Text(frame) => {
                    if in_tx.send(frame).await.is_err() {
                        break;
                    }
                }
                Frame::Close => break,
                Frame::Other => {}
            }
        }
    });
    channel.session(in_rx, out_tx, self_id, shutdown).await;
    reader.abort();
    writer.abort();
}
