//! A cassette ready to serve: its recorded replies built once, the turns the codec encodes
//! afresh for what a loop asked (the other mode, or a stream shape the request did not turn
//! on), and the ledger its verdict is read from.

use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use serde_json::Value;

use super::ledger::Ledger;
use super::model_faults;
use super::reply::Reply;
use crate::cassette::{Cassette, ResponseBody};
use crate::fault::{ModelFault, TurnFault};
use crate::provider::{DecodedRequest, Rejection};

/// One cassette with its replies and its session's ledger.
#[derive(Debug)]
pub(super) struct Served {
    pub(super) cassette: Arc<Cassette>,
    pub(super) replies: Vec<Reply>,
    /// The model faults the cassette is served with (already in `cassette`).
    pub(super) model_faults: Vec<ModelFault>,
    /// Model faults that could not be served, and why.
    model_notes: Vec<String>,
    ledger: Mutex<Ledger>,
    /// Per turn, the (resolved) request this session last answered with it: the history the
    /// provider keeps for the turn's response id, which a stateful continuation names. Kept
    /// only in a session served with model faults, the one place the served turns differ from
    /// the recorded ones; elsewhere the recorded requests stand in, so loops that share a
    /// session never see one another's history.
    answered: Mutex<Vec<Option<DecodedRequest>>>,
}

impl Served {
    /// `cassette` ready to serve, with the model faults of its turns and of `cli` applied
    /// (see [`model_faults`]).
    pub(super) fn with_faults(cassette: &Arc<Cassette>, cli: &[TurnFault]) -> Self {
        let (cassette, faults, notes) = model_faults::apply(cassette, cli);
        let mut served = Self::new(cassette);
        served.model_faults = faults;
        served.model_notes = notes;
        served
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
        let answered = Mutex::new(vec![None; cassette.turns.len()]);
        Self {
            cassette,
            replies,
            model_faults: Vec::new(),
            model_notes: Vec::new(),
            ledger: Mutex::default(),
            answered,
        }
    }

    /// Keeps `request` as the history turn `t` answered, when the session has model faults
    /// and the turn a response id a continuation can name (the request is moved, not copied).
    pub(super) fn answered(&self, t: usize, request: DecodedRequest) {
        let named = self
            .cassette
            .turns
            .get(t)
            .is_some_and(|turn| turn.response_id.is_some());
        if self.model_faults.is_empty() || !named {
            return;
        }
        let mut answered = self
            .answered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(slot) = answered.get_mut(t) {
            *slot = Some(request);
        }
    }

    /// `request` with the history it continues (if it names a served response) put before
    /// what it sent: the request this session answered with that response, else the recorded
    /// one (see [`crate::cassette::resolve_continuation_from`]).
    pub(super) fn resolve_continuation(&self, request: DecodedRequest) -> DecodedRequest {
        if request.continues.is_none() {
            return request;
        }
        let answered = self
            .answered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        crate::cassette::resolve_continuation_from(&self.cassette.turns, request, |t| {
            answered.get(t).and_then(Option::as_ref)
        })
    }

    pub(super) fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Turn `t` encoded by the codec from the recorded response when the recording does not
    /// fit what the loop asked for (`asks_stream`; `request` is what it sent, for stream
    /// options): recorded in the other mode, or streamed in a shape the request did not turn
    /// on. `None`: the recorded reply goes out verbatim.
    /// `request` is called only where the answer depends on it: a JSON recording sent as a
    /// stream, or a recorded stream in a shape that only some requests turn on
    /// ([`crate::provider::Codec::restream`]); a stream served as recorded never parses the body.
    pub(super) fn reencoded_for<'v>(
        &self,
        t: usize,
        asks_stream: bool,
        request: impl Fn() -> Option<&'v Value>,
    ) -> Option<Reply> {
        let codec = self.cassette.provider().codec();
        let request = || request().unwrap_or(&Value::Null);
        let response = &self.cassette.turns[t].response;
        let sse = |frames: Vec<String>| Reply::Sse {
            frames: frames.into_iter().map(Bytes::from).collect(),
        };
        let encoded = match (&response.body, asks_stream) {
            (ResponseBody::Json { text }, true) if response.status == 200 => {
                codec.json_to_sse(text, request()).map(sse)
            }
            (ResponseBody::Json { .. }, _) => return None,
            (ResponseBody::Sse { frames }, false) => {
                codec.sse_to_json(frames).map(|text| Reply::Json {
                    status: 200,
                    body: Bytes::from(text),
                })
            }
            (ResponseBody::Sse { frames }, true) => codec.restream(frames, &request)?.map(sse),
        };
        Some(encoded.unwrap_or_else(|e| {
            Reply::error(
                self.cassette.provider(),
                &Rejection::Harness {
                    message: format!(
                        "tooltape: turn {} of cassette `{}` cannot be served as the loop asked: {e}",
                        t + 1,
                        self.cassette.name()
                    ),
                },
                Some(500),
            )
        }))
    }

    /// What the report should mention about how the session was served: turns re-encoded by
    /// the codec, and synthetic responses (made up by the import of a recording that ends
    /// with tool calls).
    pub(super) fn notes(&self) -> Vec<String> {
        let ledger = self.ledger();
        let recorded_stream = |t: usize| {
            self.cassette
                .turns
                .get(t)
                .is_some_and(|turn| matches!(turn.response.body, ResponseBody::Sse { .. }))
        };
        let synthetic = ledger
            .served
            .iter()
            .filter(|t| {
                self.cassette
                    .turns
                    .get(**t)
                    .is_some_and(|turn| turn.response.synthetic)
            })
            .map(|t| {
                format!(
                    "turn {} was answered with a synthetic response: the recording ends before it, so its final answer is made up (the request was judged all the same)",
                    t + 1
                )
            });
        let reencoded = ledger.reencoded.iter().map(|&(t, streamed)| {
            let (asked, recorded) = match (streamed, recorded_stream(t)) {
                (true, true) => {
                    return format!(
                        "turn {} was recorded as a stream in a shape the request did not turn on (e.g. streamed call arguments) and served as the stream the API sends for it, re-encoded from the recording",
                        t + 1
                    );
                }
                (true, false) => ("a stream", "JSON"),
                (false, _) => ("JSON", "a stream"),
            };
            format!(
                "turn {} was recorded as {recorded} and served as {asked}, re-encoded from the recording",
                t + 1
            )
        });
        let model = self
            .model_faults
            .iter()
            .filter(|f| ledger.served.contains(&f.turn))
            .map(ModelFault::note);
        synthetic
            .chain(reencoded)
            .chain(model)
            .chain(self.model_notes.iter().cloned())
            .collect()
    }
}
