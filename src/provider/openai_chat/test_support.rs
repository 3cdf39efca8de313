//! Helpers shared by this codec's unit tests.

#![cfg(test)]

use serde_json::{Value, json};

use super::render_rejection;
use crate::provider::sse::{self, Event};
use crate::provider::{Malformed, MalformedKind, Rejection};
use crate::transcript::{AssistantTurn, ToolCall};

pub(super) fn call(id: &str, name: &str, arguments: &str) -> ToolCall {
    ToolCall {
        id: id.to_owned(),
        name: name.to_owned(),
        arguments: arguments.to_owned(),
        item_id: None,
    }
}

pub(super) fn calls(turn: &AssistantTurn) -> Vec<ToolCall> {
    turn.tool_calls().cloned().collect()
}

pub(super) fn events(body: &str) -> Vec<Event> {
    sse::parse_frames(&sse::split_frames(body))
}

/// A `chat.completion.chunk` whose first choice carries `delta` and `finish_reason`.
pub(super) fn chunk(delta: &Value, finish_reason: Option<&str>) -> String {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
    })
    .to_string()
}

pub(super) fn opens(index: u64, id: &str, name: &str, arguments: &str) -> Value {
    json!({"tool_calls": [{"index": index, "id": id, "type": "function",
        "function": {"name": name, "arguments": arguments}}]})
}

pub(super) fn continues(index: u64, fragment: &str) -> Value {
    json!({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
}

/// Events with these data payloads, in order.
pub(super) fn stream(data: &[String]) -> Vec<Event> {
    data.iter()
        .map(|d| Event {
            event: None,
            data: d.clone(),
        })
        .collect()
}

pub(super) fn done() -> String {
    "[DONE]".to_owned()
}

pub(super) fn rejection_body(rejection: Rejection) -> (u16, String) {
    let reply = render_rejection(&rejection);
    (reply.status, reply.body)
}

pub(super) fn malformed(path: &str, problem: MalformedKind) -> (u16, String) {
    rejection_body(Rejection::Malformed(Malformed::new(path, problem)))
}
