//! What the server answers a model request: a recorded body, a stream, or a fault.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::provider::{Provider, Rejection};

/// What the server answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A JSON body with a status.
    Json {
        /// HTTP status.
        status: u16,
        /// The body.
        body: Bytes,
    },
    /// A server-sent event stream, written frame by frame.
    Sse {
        /// The frames, each with its trailing blank line.
        frames: Arc<[Bytes]>,
    },
    /// An API error a fault serves: a JSON body with the provider's headers.
    Fault {
        /// HTTP status.
        status: u16,
        /// Headers beside the content type, lowercase names.
        headers: Arc<[(&'static str, String)]>,
        /// The body.
        body: Bytes,
    },
    /// A stream written with a delay before each frame (`delays[i]` before frame `i`).
    Paced {
        /// The frames.
        frames: Arc<[Bytes]>,
        /// The delay before each frame.
        delays: Arc<[Duration]>,
    },
    /// A stream whose connection is closed after these frames, before the body ends.
    Cut {
        /// The frames sent before the cut.
        frames: Arc<[Bytes]>,
    },
    /// `reply`, its first byte sent after `delay`.
    Delayed {
        /// How long the server waits before answering.
        delay: Duration,
        /// What it answers then.
        reply: Box<Reply>,
    },
}

impl Reply {
    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Reply::Json { status, .. } | Reply::Fault { status, .. } => *status,
            Reply::Sse { .. } | Reply::Cut { .. } | Reply::Paced { .. } => 200,
            Reply::Delayed { reply, .. } => reply.status(),
        }
    }

    /// The whole body as bytes (frames concatenated).
    #[must_use]
    pub fn body_bytes(&self) -> Bytes {
        match self {
            Reply::Json { body, .. } | Reply::Fault { body, .. } => body.clone(),
            Reply::Sse { frames } | Reply::Cut { frames } | Reply::Paced { frames, .. } => {
                frames.iter().flat_map(|f| f.iter().copied()).collect()
            }
            Reply::Delayed { reply, .. } => reply.body_bytes(),
        }
    }

    /// Whether the body is a stream.
    #[must_use]
    pub fn is_stream(&self) -> bool {
        match self {
            Reply::Sse { .. } | Reply::Cut { .. } | Reply::Paced { .. } => true,
            Reply::Json { .. } | Reply::Fault { .. } => false,
            Reply::Delayed { reply, .. } => reply.is_stream(),
        }
    }

    pub(super) fn error(provider: Provider, rejection: &Rejection, status: Option<u16>) -> Self {
        let reply = provider.render_rejection(rejection);
        Reply::Json {
            status: status.unwrap_or(reply.status),
            body: Bytes::from(reply.body),
        }
    }
}
