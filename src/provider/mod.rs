//! Provider codecs: wire JSON in, transcript out, and the provider's own error bodies.
//!
//! Each codec module (`openai_chat`, `anthropic`) offers the same free functions; [`Provider`]
//! dispatches to them. Only these modules know JSON field names.

pub mod anthropic;
pub mod openai_chat;
mod rejection;
pub mod sse;

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

pub use rejection::{ErrorReply, Rejection};

use crate::transcript::{AssistantTurn, Conversation, Message, ToolResult};

/// A wire format.
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
}

impl Provider {
    /// Every provider, in display order.
    pub const ALL: [Provider; 2] = [Provider::OpenAiChat, Provider::Anthropic];

    /// The name used in cassettes, reports and on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Provider::OpenAiChat => "openai-chat",
            Provider::Anthropic => "anthropic",
        }
    }

    /// The request path the provider serves, below the base URL's host.
    #[must_use]
    pub fn endpoint(self) -> &'static str {
        match self {
            Provider::OpenAiChat => "/v1/chat/completions",
            Provider::Anthropic => "/v1/messages",
        }
    }

    /// The provider whose endpoint is `path` (without any session prefix).
    #[must_use]
    pub fn for_endpoint(path: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.endpoint() == path)
    }

    /// Decodes a recorded or served JSON response body.
    ///
    /// # Errors
    /// The body is not a response of this provider.
    pub fn decode_response_json(self, body: &str) -> Result<AssistantTurn, ResponseError> {
        match self {
            Provider::OpenAiChat => openai_chat::decode_response_json(body),
            Provider::Anthropic => anthropic::decode_response_json(body),
        }
    }

    /// Decodes a streamed response from its events, accumulating tool calls as a careful
    /// client must.
    ///
    /// # Errors
    /// An event is not JSON, refers to a call or block never opened, or the stream has no end.
    pub fn decode_response_sse(
        self,
        events: &[sse::Event],
    ) -> Result<AssistantTurn, ResponseError> {
        match self {
            Provider::OpenAiChat => openai_chat::decode_response_sse(events),
            Provider::Anthropic => anthropic::decode_response_sse(events),
        }
    }

    /// Decodes the conversation a request carries.
    ///
    /// # Errors
    /// The request is malformed the way the provider would reject it (TT011).
    pub fn decode_request(self, body: &Value) -> Result<DecodedRequest, Malformed> {
        match self {
            Provider::OpenAiChat => openai_chat::decode_request(body),
            Provider::Anthropic => anthropic::decode_request(body),
        }
    }

    /// The wire message that echoes an assistant turn back, exactly as served.
    #[must_use]
    pub fn encode_assistant(self, turn: &AssistantTurn) -> Value {
        match self {
            Provider::OpenAiChat => openai_chat::encode_assistant(turn),
            Provider::Anthropic => anthropic::encode_assistant(turn),
        }
    }

    /// The wire messages that carry one turn's results, in the container the provider requires
    /// (OpenAI: one `tool` message per result; Anthropic: one `user` message of `tool_result`s).
    #[must_use]
    pub fn encode_results(self, results: &[ToolResult]) -> Vec<Value> {
        match self {
            Provider::OpenAiChat => openai_chat::encode_results(results),
            Provider::Anthropic => anthropic::encode_results(results),
        }
    }

    /// Decodes wire messages (as [`Provider::encode_assistant`] and
    /// [`Provider::encode_results`] make them) back into transcript messages.
    ///
    /// # Errors
    /// As [`Provider::decode_request`].
    pub fn decode_messages(self, messages: &[Value]) -> Result<Vec<Message>, Malformed> {
        let body = match self {
            Provider::OpenAiChat => serde_json::json!({"model": "m", "messages": messages}),
            Provider::Anthropic => {
                serde_json::json!({"model": "m", "max_tokens": 1, "messages": messages})
            }
        };
        Ok(self.decode_request(&body)?.conversation.messages)
    }

    /// The provider's error body for a rejected request.
    #[must_use]
    pub fn render_rejection(self, rejection: &Rejection) -> ErrorReply {
        match self {
            Provider::OpenAiChat => openai_chat::render_rejection(rejection),
            Provider::Anthropic => anthropic::render_rejection(rejection),
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a request carried, after decoding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecodedRequest {
    /// The conversation.
    pub conversation: Conversation,
    /// Whether it asked for a streamed response.
    pub stream: bool,
    /// The `model` field.
    pub model: String,
    /// The names of the tools it declared, in order.
    pub tool_names: Vec<String>,
}

/// A request the provider would refuse before looking at the conversation (TT011).
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[error("{problem} at `{path}`")]
pub struct Malformed {
    /// Where: a JSON path such as `messages[2].tool_calls[0].function.arguments`, or `` for
    /// the whole body.
    pub path: String,
    /// What is wrong.
    pub problem: MalformedKind,
}

/// The ways a request can be malformed.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MalformedKind {
    /// The body is not JSON.
    #[error("the body is not JSON ({detail})")]
    NotJson {
        /// The parser's message.
        detail: String,
    },
    /// A required field is missing.
    #[error("a required field is missing")]
    Missing,
    /// A field has the wrong JSON type.
    #[error("expected {expected}, but got {found} instead")]
    WrongType {
        /// What the provider expects, e.g. `a string`.
        expected: String,
        /// What was sent, e.g. `an object`.
        found: String,
    },
    /// A string is longer than the provider allows.
    #[error("string too long: at most {max} characters, got {found}")]
    TooLong {
        /// The limit.
        max: usize,
        /// The length sent.
        found: usize,
    },
    /// A required header is missing (`x-api-key`, `anthropic-version`, `Authorization`).
    #[error("the `{header}` header is missing")]
    MissingHeader {
        /// The header name, lowercase.
        header: String,
    },
    /// A field has a value the provider does not accept.
    #[error("invalid value: {detail}")]
    Invalid {
        /// What is wrong with it.
        detail: String,
    },
}

impl Malformed {
    /// A malformed request at `path`.
    #[must_use]
    pub fn new(path: impl Into<String>, problem: MalformedKind) -> Self {
        Self {
            path: path.into(),
            problem,
        }
    }

    /// A wrong JSON type at `path`, naming what `found` is the way OpenAI does (`an object`).
    #[must_use]
    pub fn wrong_type(path: impl Into<String>, expected: &str, found: &Value) -> Self {
        Self::new(
            path,
            MalformedKind::WrongType {
                expected: expected.to_owned(),
                found: json_kind(found).to_owned(),
            },
        )
    }
}

/// `a string`, `an object`, … for error messages.
#[must_use]
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A recorded response that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message} (at {at})")]
pub struct ResponseError {
    /// Where: a JSON path, or `frame N` for a stream.
    pub at: String,
    /// What is wrong.
    pub message: String,
}

impl ResponseError {
    /// An error at `at`.
    #[must_use]
    pub fn new(at: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            at: at.into(),
            message: message.into(),
        }
    }
}
