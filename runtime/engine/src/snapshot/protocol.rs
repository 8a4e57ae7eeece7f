//! What the server and a snapshot copy say to each other over the copy's Unix socket: one
//! request down, its response and host calls up. Each frame is a little-endian `u32` length
//! and a postcard-encoded [`Down`] or [`Up`].

use std::io::Read;

use bytes::Bytes;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::host_call::{BackendHead, BackendRequest, HostCall, HostReply, SendError};
use crate::instance::{AppSettings, BootError, HandleError};
use crate::limits::{Limit, Limits};
use crate::web::body_stream::Chunk;

/// A body in a frame that starts one (a response head, a backend request).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum FrameBody {
    /// Complete, here.
    Full(Bytes),
    /// Follows as body frames.
    Frames,
    /// A body the server holds (the upload, a backend response), passed on unread: the
    /// server uses it directly.
    Held(u64),
}

/// The id of the request's own upload among the bodies the server holds for a copy.
pub(crate) const UPLOAD: u64 = u64::MAX;

/// How many chunks of one backend response body may be on their way to a copy: the
/// socket is shared, so one unread body must not stall the frames behind it.
pub(crate) const SEND_WINDOW: usize = crate::web::body_stream::CHANNEL_CHUNKS;

/// Frames larger than this are refused (a request or response body travels in chunks).
const MAX_FRAME: usize = 64 * 1024 * 1024;

/// Server to copy.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Down {
    /// The request to serve. `body` is `None` when the server holds it ([`UPLOAD`]): it
    /// follows as [`Down::Body`] frames once the copy pulls it.
    Request {
        method: String,
        url: String,
        headers: Vec<(String, String)>,
        body: Option<Bytes>,
        pop: usize,
        client: Option<std::net::SocketAddr>,
        limits: Limits,
    },
    Body(Chunk),
    Reply {
        id: u64,
        reply: HostReply,
    },
    /// The answer to [`Up::Send`] `id`: the response head, whose body follows as
    /// [`Down::SentBody`] frames, at most [`SEND_WINDOW`] ahead of the copy's [`Up::Ack`]s.
    Sent {
        id: u64,
        result: Result<BackendHead, SendError>,
    },
    SentBody {
        id: u64,
        chunk: Chunk,
    },
}

/// Copy to server.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Up {
    /// A new copy, ready for a request; `cpu`: the CPU time it has used so far.
    Hello {
        pid: u32,
        cpu: std::time::Duration,
    },
    /// The first frame of a copy's second connection, which carries its blocking host calls
    /// ([`Up::Call`] up, [`Down::Reply`] down, one at a time).
    BlockingCalls,
    /// The response head; [`FrameBody::Frames`]: the body follows as [`Up::Body`] frames.
    Head {
        status: u16,
        headers: Vec<(String, String)>,
        body: FrameBody,
    },
    Body(Chunk),
    /// No response: why.
    Failed(HandleError),
    Call {
        id: u64,
        call: HostCall,
    },
    /// A request to a backend (`fetch()`); [`FrameBody::Frames`]: the body follows as
    /// [`Up::SendBody`] frames.
    Send {
        id: u64,
        request: BackendRequest,
        body: FrameBody,
    },
    SendBody {
        id: u64,
        chunk: Chunk,
    },
    /// The copy took one [`Down::SentBody`] chunk of `id` off the socket: one more may come.
    Ack {
        id: u64,
    },
    /// The copy reads the held body `id` ([`UPLOAD`], or a backend response): send it over.
    Pull {
        id: u64,
    },
    /// The request went over the heap limit; the copy has ended.
    Limit {
        limit: Limit,
        at: Option<String>,
    },
    /// The request is over, `waitUntil` work included.
    Done,
    /// A line for a log endpoint (`Logger.log`); the copy's stdout is closed.
    EndpointLog {
        endpoint: String,
        message: Vec<u8>,
    },
    /// A log line of the app (`console.*`) or the engine, to log in the request's span.
    Log {
        level: LogLevel,
        target: String,
        message: String,
    },
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// How the server starts the snapshot process (JSON in [`CONFIG_ENV`]).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ProcessConfig {
    pub app: std::path::PathBuf,
    pub store_names: Vec<String>,
    pub settings: AppSettings,
    /// Where copies connect.
    pub socket: std::path::PathBuf,
}

/// The environment variable carrying [`ProcessConfig`].
pub(crate) const CONFIG_ENV: &str = "EDGESHIM_SNAPSHOT_CONFIG";

/// What the snapshot process prints on stdout once its top level has run.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Status {
    Ready,
    Failed(BootError),
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum FrameError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("malformed frame: {0}")]
    Decode(#[from] postcard::Error),
    #[error("a frame of {0} bytes is over the limit")]
    TooLarge(usize),
}

/// One frame, length prefix included.
pub(crate) fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, FrameError> {
    let mut frame = postcard::to_extend(message, vec![0; 4])?;
    let len = u32::try_from(frame.len() - 4).map_err(|_| FrameError::TooLarge(frame.len()))?;
    frame[..4].copy_from_slice(&len.to_le_bytes());
    Ok(frame)
}

fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, FrameError> {
    Ok(postcard::from_bytes(payload)?)
}

fn checked_len(prefix: [u8; 4]) -> Result<usize, FrameError> {
    let len = u32::from_le_bytes(prefix) as usize;
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    Ok(len)
}

/// Reads one frame, blocking; `None` at a clean end of stream.
pub(crate) fn read_blocking<T: DeserializeOwned>(
    reader: &mut impl Read,
) -> Result<Option<T>, FrameError> {
    let mut prefix = [0; 4];
    match reader.read_exact(&mut prefix) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let mut payload = vec![0; checked_len(prefix)?];
    reader.read_exact(&mut payload)?;
    decode(&payload).map(Some)
}

/// Writes one frame, blocking.
pub(crate) fn write_blocking<T: Serialize>(
    writer: &mut impl std::io::Write,
    message: &T,
) -> Result<(), FrameError> {
    writer.write_all(&encode(message)?)?;
    Ok(())
}

/// Reads one frame; `None` at a clean end of stream.
pub(crate) async fn read<T: DeserializeOwned>(
    reader: &mut (impl tokio::io::AsyncRead + Unpin),
) -> Result<Option<T>, FrameError> {
    let mut prefix = [0; 4];
    match reader.read_exact(&mut prefix).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let mut payload = vec![0; checked_len(prefix)?];
    reader.read_exact(&mut payload).await?;
    decode(&payload).map(Some)
}

/// Writes one frame.
pub(crate) async fn write<T: Serialize>(
    writer: &mut (impl tokio::io::AsyncWrite + Unpin),
    message: &T,
) -> Result<(), FrameError> {
    writer.write_all(&encode(message)?).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn frames_round_trip() {
        let frame = encode(&Up::Head {
            status: 201,
            headers: vec![("a".into(), "b".into())],
            body: FrameBody::Full(Bytes::from_static(b"hi")),
        })
        .unwrap();
        let mut reader = std::io::Cursor::new([frame.clone(), frame].concat());
        for _ in 0..2 {
            let Some(Up::Head {
                status,
                body: FrameBody::Full(body),
                ..
            }) = read_blocking(&mut reader).unwrap()
            else {
                panic!("not a head");
            };
            assert_eq!((status, &body[..]), (201, &b"hi"[..]));
        }
        assert!(read_blocking::<Up>(&mut reader).unwrap().is_none());
    }

    #[test]
    fn oversized_frames_are_refused() {
        let mut reader = std::io::Cursor::new(u32::MAX.to_le_bytes());
        assert!(matches!(
            read_blocking::<Up>(&mut reader),
            Err(FrameError::TooLarge(_))
        ));
    }
}
