//! PLACEHOLDER: the codec is being written; every function refuses.

use serde_json::Value;

use super::sse::Event;
use super::{DecodedRequest, ErrorReply, Malformed, MalformedKind, Rejection, ResponseError};
use crate::transcript::{AssistantTurn, ToolResult};

/// Decodes a JSON response body.
pub fn decode_response_json(_body: &str) -> Result<AssistantTurn, ResponseError> {
    Err(ResponseError::new("", "codec not written yet"))
}

/// Decodes a streamed response.
pub fn decode_response_sse(_events: &[Event]) -> Result<AssistantTurn, ResponseError> {
    Err(ResponseError::new("", "codec not written yet"))
}

/// Decodes a request.
pub fn decode_request(_body: &Value) -> Result<DecodedRequest, Malformed> {
    Err(Malformed::new("", MalformedKind::Missing))
}

/// Echoes an assistant turn.
#[must_use]
pub fn encode_assistant(_turn: &AssistantTurn) -> Value {
    Value::Null
}

/// Carries results.
#[must_use]
pub fn encode_results(_results: &[ToolResult]) -> Vec<Value> {
    Vec::new()
}

/// Renders a rejection.
#[must_use]
pub fn render_rejection(_rejection: &Rejection) -> ErrorReply {
    ErrorReply {
        status: 400,
        body: String::new(),
    }
}
