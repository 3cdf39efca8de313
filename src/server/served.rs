//! A cassette ready to serve: its replies built once, and its session's ledger.

use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use serde_json::Value;

use super::ledger::Ledger;
use super::reply::Reply;
use crate::cassette::{Cassette, ResponseBody};
use crate::provider::Rejection;

/// A cassette ready to serve: its replies built once, and the ledger its verdict is read from.
#[derive(Debug)]
pub(super) struct Served {
    pub(super) cassette: Arc<Cassette>,
    pub(super) replies: Vec<Reply>,
    ledger: Mutex<Ledger>,
}

impl Served {
    /// Turn `t` in the mode its recording does not have, encoded by the codec from the
    /// recorded response (`request` is what the loop sent, for stream options).
    pub(super) fn in_other_mode(&self, t: usize, request: Option<&Value>) -> Reply {
        let codec = self.cassette.provider().codec();
        let encoded = match &self.cassette.turns[t].response.body {
            ResponseBody::Json { text } => codec
                .json_to_sse(text, request.unwrap_or(&Value::Null))
                .map(|frames| Reply::Sse {
                    frames: frames.into_iter().map(Bytes::from).collect(),
                }),
            ResponseBody::Sse { frames } => codec.sse_to_json(frames).map(|text| Reply::Json {
                status: 200,
                body: Bytes::from(text),
            }),
        };
        encoded.unwrap_or_else(|e| {
            Reply::error(
                self.cassette.provider(),
                &Rejection::Harness {
                    message: format!(
                        "tooltape: turn {} of cassette `{}` cannot be served in the other mode: {e}",
                        t + 1,
                        self.cassette.name()
                    ),
                },
                Some(500),
            )
        })
    }

    pub(super) fn new(cassette: Arc<Cassette>) -> Self {
        let replies = cassette
            .turns
            .iter()
            .map(|t| match &t.response.body {
                ResponseBody::Json { text } => Reply::Json {
                    status: t.response.status,
                    body: Bytes::from(text.clone()),
                },
                ResponseBody::Sse { frames } => Reply::Sse {
                    frames: frames.iter().map(|f| Bytes::from(f.clone())).collect(),
                },
            })
            .collect();
        Self {
            cassette,
            replies,
            ledger: Mutex::default(),
        }
    }

    pub(super) fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
