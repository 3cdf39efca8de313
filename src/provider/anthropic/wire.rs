//! The wire types of responses and stream events.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The `request_id` of every error body we render. Real ones vary per request (`req_011C…`);
/// a fixed one keeps replies, snapshots and reports deterministic.
pub(super) const REQUEST_ID: &str = "req_011tooltape0replay000000";

pub(super) const THINKING: &str = "thinking";
pub(super) const REDACTED_THINKING: &str = "redacted_thinking";

// ---------------------------------------------------------------------------------------------
// Wire types: responses

/// The only field every block and stream event shares.
#[derive(Deserialize)]
pub(super) struct Tagged {
    #[serde(rename = "type")]
    pub(super) kind: String,
}

/// A `message` response body. Other fields (`id`, `model`, `usage`, …) are not needed.
#[derive(Deserialize)]
pub(super) struct WireResponse {
    pub(super) content: Vec<Box<RawValue>>,
    #[serde(default)]
    pub(super) stop_reason: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct TextBlock {
    pub(super) text: String,
}

#[derive(Deserialize)]
pub(super) struct ThinkingBlock {
    pub(super) thinking: String,
    pub(super) signature: String,
}

#[derive(Deserialize)]
pub(super) struct RedactedThinkingBlock {
    pub(super) data: String,
}

#[derive(Deserialize)]
pub(super) struct ToolUseBlock {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) input: Map<String, Value>,
}

// ---------------------------------------------------------------------------------------------
// Wire types: stream events

#[derive(Deserialize)]
pub(super) struct MessageStart {
    pub(super) message: StartedMessage,
}

#[derive(Deserialize)]
pub(super) struct StartedMessage {
    #[serde(default)]
    pub(super) stop_reason: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ContentBlockStart {
    pub(super) index: usize,
    pub(super) content_block: Box<RawValue>,
}

/// A `thinking` block as a stream opens it: the text and signature come in deltas.
#[derive(Deserialize)]
pub(super) struct StartedThinking {
    #[serde(default)]
    pub(super) thinking: String,
    #[serde(default)]
    pub(super) signature: String,
}

/// A `tool_use` block as a stream opens it: `input` is `{}` and the arguments come in deltas.
#[derive(Deserialize)]
pub(super) struct StartedToolUse {
    pub(super) id: String,
    pub(super) name: String,
    #[serde(default)]
    pub(super) input: Map<String, Value>,
}

#[derive(Deserialize)]
pub(super) struct ContentBlockDelta {
    pub(super) index: usize,
    pub(super) delta: Box<RawValue>,
}

#[derive(Deserialize)]
pub(super) struct TextDelta {
    pub(super) text: String,
}

#[derive(Deserialize)]
pub(super) struct InputJsonDelta {
    pub(super) partial_json: String,
}

#[derive(Deserialize)]
pub(super) struct ThinkingDelta {
    pub(super) thinking: String,
}

#[derive(Deserialize)]
pub(super) struct SignatureDelta {
    pub(super) signature: String,
}

#[derive(Deserialize)]
pub(super) struct ContentBlockStop {
    pub(super) index: usize,
}

#[derive(Deserialize)]
pub(super) struct MessageDelta {
    pub(super) delta: MessageDeltaBody,
}

#[derive(Deserialize)]
pub(super) struct MessageDeltaBody {
    #[serde(default)]
    pub(super) stop_reason: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ErrorEvent {
    pub(super) error: ErrorEventBody,
}

#[derive(Deserialize)]
pub(super) struct ErrorEventBody {
    #[serde(rename = "type")]
    pub(super) kind: String,
    pub(super) message: String,
}
