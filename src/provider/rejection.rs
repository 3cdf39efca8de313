//! What a provider refuses, in provider-neutral terms, and the reply that carries it.
//!
//! Conformance rules produce a [`Rejection`] with message and block indices; each codec renders
//! it as the provider's own error body, byte for byte where the real text is known.

use std::sync::Arc;

use serde::Serialize;

use super::Malformed;
use super::codec::ResultPlacement;

/// A request the real provider would answer with an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rejection {
    /// Calls of the assistant message at index `assistant` have no result where the provider
    /// looks for them (right after it; for Anthropic, first in the next message).
    MissingResults {
        /// Index of the assistant message in the request's `messages`.
        assistant: usize,
        /// The unanswered call ids, in call order. Shared: every finding about the same
        /// assistant message carries this one list, so a request with N unanswered calls costs
        /// memory linear in N, not N².
        ids: Arc<[String]>,
    },
    /// A result where no call can be answered: an OpenAI `tool` message that does not follow an
    /// assistant message with `tool_calls`, or an Anthropic `tool_result` whose previous message
    /// has no `tool_use`.
    OrphanResult {
        /// Index of the message holding the result.
        message: usize,
        /// Index of the result block within it.
        block: usize,
        /// The id it names.
        id: String,
    },
    /// A result whose id no call of the previous assistant message has.
    UnknownResult {
        /// Index of the message holding the result.
        message: usize,
        /// Index of the result block within it.
        block: usize,
        /// The id it names.
        id: String,
    },
    /// An id answered more than once.
    DuplicateResult {
        /// The id.
        id: String,
        /// Message index of the first answer.
        first_message: usize,
        /// Message index of the second answer.
        second_message: usize,
        /// Block index of the second answer within its message.
        second_block: usize,
    },
    /// The request is malformed.
    Malformed(Malformed),
    /// tooltape itself cannot answer (the conversation left the cassette, or ran past its end).
    /// The message starts with `tooltape:` so nobody mistakes it for the provider's words.
    Harness {
        /// What happened and what to do.
        message: String,
    },
    /// A replayed item (a call) that the model produced after a reasoning block is sent
    /// without that block.
    MissingReasoning {
        /// Index of the message holding the item.
        message: usize,
        /// Index of the item's block within it.
        block: usize,
        /// The item's id (`fc_…`).
        item: String,
        /// The id of the reasoning block it needs (`rs_…`).
        reasoning: String,
    },
    /// A reasoning block is sent without the item that followed it when it was served.
    ReasoningWithoutFollower {
        /// Index of the message holding the block.
        message: usize,
        /// Index of the block within it.
        block: usize,
        /// The reasoning block's id.
        reasoning: String,
    },
    /// A stateful continuation names a response the provider does not know (or no longer
    /// keeps).
    UnknownContinuation {
        /// The id it names.
        id: String,
    },
}

impl Rejection {
    /// Where the provider would notice the problem first: requests are read front to back, so
    /// of several problems the one with the lowest position is the one reported.
    #[must_use]
    pub fn position(&self) -> (usize, usize) {
        match self {
            Rejection::MissingResults { assistant, .. } => (*assistant, usize::MAX),
            Rejection::OrphanResult { message, block, .. }
            | Rejection::UnknownResult { message, block, .. }
            | Rejection::MissingReasoning { message, block, .. }
            | Rejection::ReasoningWithoutFollower { message, block, .. } => (*message, *block),
            Rejection::DuplicateResult {
                second_message,
                second_block,
                ..
            } => (*second_message, *second_block),
            Rejection::Malformed(_) | Rejection::UnknownContinuation { .. } => (0, 0),
            Rejection::Harness { .. } => (usize::MAX, usize::MAX),
        }
    }
}

impl Rejection {
    /// [`Rejection::position`] for a provider that wants results at `placement`: where
    /// results may come anywhere later in the input, a call can only be found unanswered once
    /// the whole input is read, so every other problem is reported first.
    #[must_use]
    pub fn position_in(&self, placement: ResultPlacement) -> (usize, usize) {
        match (self, placement) {
            (Rejection::MissingResults { .. }, ResultPlacement::AnyLaterItem) => {
                (usize::MAX - 1, 0)
            }
            _ => self.position(),
        }
    }
}

/// An error reply: HTTP status and the exact body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorReply {
    /// The HTTP status.
    pub status: u16,
    /// The body, JSON text.
    pub body: String,
}
