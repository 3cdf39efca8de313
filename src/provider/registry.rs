//! The providers a cassette can name, and the one lookup from a provider to its codec.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::codec::{Codec, DecodedRequest, Route};
use super::rejection::{ErrorReply, Rejection};
use super::sse::Event;
use super::{Malformed, ResponseError, anthropic, gemini, openai_chat, openai_responses};
use crate::transcript::{AssistantTurn, Message, ToolResult};

/// A wire format: the cassette's serde and schema id for its codec.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub enum Provider {
    /// OpenAI Chat Completions, `POST /v1/chat/completions`.
    #[serde(rename = "openai-chat")]
    OpenAiChat,
    /// Anthropic Messages, `POST /v1/messages`.
    #[serde(rename = "anthropic")]
    Anthropic,
    /// OpenAI Responses, `POST /v1/responses`.
    #[serde(rename = "openai-responses")]
    OpenAiResponses,
    /// Google Gemini, `POST /v1beta/models/{model}:generateContent`.
    #[serde(rename = "gemini")]
    Gemini,
}

impl Provider {
    /// Every provider, in display order.
    pub const ALL: [Provider; 4] = [
        Provider::OpenAiChat,
        Provider::Anthropic,
        Provider::OpenAiResponses,
        Provider::Gemini,
    ];

    /// The provider's codec.
    #[must_use]
    pub fn codec(self) -> &'static dyn Codec {
        match self {
            Provider::OpenAiChat => &openai_chat::OpenAiChat,
            Provider::Anthropic => &anthropic::Anthropic,
            Provider::OpenAiResponses => &openai_responses::OpenAiResponses,
            Provider::Gemini => &gemini::Gemini,
        }
    }

    /// The codec that serves `method` on `path` (without any session prefix), with what the
    /// route says about the request.
    #[must_use]
    pub fn route(method: &str, path: &str, query: Option<&str>) -> Option<(Provider, Route)> {
        Provider::ALL
            .into_iter()
            .find_map(|p| p.codec().route(method, path, query).map(|r| (p, r)))
    }

    /// The provider whose API `path` (served by no codec) looks like, with what to tell the
    /// loop; `None` when it looks like none.
    #[must_use]
    pub fn advise(path: &str, root: &str) -> Option<(Provider, String)> {
        Provider::ALL
            .into_iter()
            .find_map(|p| p.codec().advise(path, root).map(|a| (p, a)))
    }

    /// The name used in cassettes, reports and on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        self.codec().facts().name
    }

    /// The request path the provider serves, below the base URL's host.
    #[must_use]
    pub fn endpoint(self) -> &'static str {
        self.codec().facts().endpoint
    }

    /// The provider whose endpoint is `path` (without any session prefix), for a `POST`.
    #[must_use]
    pub fn for_endpoint(path: &str) -> Option<Provider> {
        Provider::route("POST", path, None).map(|(p, _)| p)
    }

    /// [`Codec::decode_response_json`] of this provider's codec.
    ///
    /// # Errors
    /// The body is not a response of this provider.
    pub fn decode_response_json(self, body: &str) -> Result<AssistantTurn, ResponseError> {
        self.codec().decode_response_json(body)
    }

    /// [`Codec::decode_response_sse`] of this provider's codec.
    ///
    /// # Errors
    /// An event is not JSON, refers to a call or block never opened, or the stream has no end.
    pub fn decode_response_sse(self, events: &[Event]) -> Result<AssistantTurn, ResponseError> {
        self.codec().decode_response_sse(events)
    }

    /// [`Codec::decode_request`] of this provider's codec, for a request on its endpoint.
    ///
    /// # Errors
    /// The request is malformed the way the provider would reject it (TT011).
    pub fn decode_request(self, body: &Value) -> Result<DecodedRequest, Malformed> {
        self.codec().decode_request(&Route::default(), body)
    }

    /// [`Codec::encode_assistant`] of this provider's codec.
    #[must_use]
    pub fn encode_assistant(self, turn: &AssistantTurn) -> Value {
        self.codec().encode_assistant(turn)
    }

    /// [`Codec::encode_results`] of this provider's codec.
    #[must_use]
    pub fn encode_results(self, results: &[ToolResult]) -> Vec<Value> {
        self.codec().encode_results(results)
    }

    /// [`Codec::decode_messages`] of this provider's codec.
    ///
    /// # Errors
    /// As [`Provider::decode_request`].
    pub fn decode_messages(self, messages: &[Value]) -> Result<Vec<Message>, Malformed> {
        self.codec().decode_messages(messages)
    }

    /// [`Codec::render_rejection`] of this provider's codec.
    #[must_use]
    pub fn render_rejection(self, rejection: &Rejection) -> ErrorReply {
        self.codec().render_rejection(rejection)
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
