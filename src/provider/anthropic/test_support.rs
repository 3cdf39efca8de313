//! Helpers shared by this codec's unit tests.

#![cfg(test)]

use serde_json::json;

use crate::provider::sse::{Event, parse_frames, split_frames};
use crate::transcript::{Block, ToolCall};

pub(super) fn events(body: &str) -> Vec<Event> {
    parse_frames(&split_frames(body))
}

/// A stream from frames written as `(event, data)` pairs.
pub(super) fn stream(frames: &[(&str, &str)]) -> Vec<Event> {
    frames
        .iter()
        .map(|(event, data)| Event {
            event: Some((*event).to_owned()),
            data: (*data).to_owned(),
        })
        .collect()
}

pub(super) fn call(id: &str, name: &str, arguments: &str) -> Block {
    Block::ToolCall(ToolCall {
        id: id.to_owned(),
        name: name.to_owned(),
        arguments: arguments.to_owned(),
        item_id: None,
    })
}

pub(super) fn text(text: &str) -> Block {
    Block::Text {
        text: text.to_owned(),
    }
}

pub(super) fn error_body(message: &str) -> String {
    json!({
        "type": "error",
        "error": {"type": "invalid_request_error", "message": message},
        "request_id": "req_011tooltape0replay000000",
    })
    .to_string()
}

/// Frames of response #0 of `fantasy-sonnet-4-parallel2-followup.stream.yaml`
/// (charmbracelet/fantasy, Apache-2.0), text deltas shortened: the data lines are padded
/// with spaces before their closing brace, and a ping sits between two blocks.
pub(super) const FANTASY_STREAM: &str = concat!(
    "event: message_start\n",
    r#"data: {"type":"message_start","message":{"model":"claude-sonnet-4-20250514","id":"msg_01PSvJdjd5keNSD63VHjYzex","type":"message","role":"assistant","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":502,"output_tokens":4,"service_tier":"standard","inference_geo":"not_available"}}}"#,
    "\n\nevent: content_block_start\n",
    r#"data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}           }"#,
    "\n\nevent: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"I'll add and"}               }"#,
    "\n\nevent: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" multiply."}           }"#,
    "\n\nevent: content_block_stop\n",
    r#"data: {"type":"content_block_stop","index":0            }"#,
    "\n\nevent: ping\n",
    r#"data: {"type": "ping"}"#,
    "\n\nevent: content_block_start\n",
    r#"data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01UYxUYC2zRPY8wiutnF48eP","name":"add","input":{},"caller":{"type":"direct"}}     }"#,
    "\n\nevent: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}               }"#,
    "\n\nevent: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\": 2"}}"#,
    "\n\nevent: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":", \"b\""}             }"#,
    "\n\nevent: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":": 3}"}}"#,
    "\n\nevent: content_block_stop\n",
    r#"data: {"type":"content_block_stop","index":1}"#,
    "\n\nevent: content_block_start\n",
    r#"data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01VaRx1jpWCvPhi7L4kywAcd","name":"multiply","input":{},"caller":{"type":"direct"}}               }"#,
    "\n\nevent: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a\": 2, \"b\": 3}"}          }"#,
    "\n\nevent: content_block_stop\n",
    r#"data: {"type":"content_block_stop","index":2         }"#,
    "\n\nevent: message_delta\n",
    r#"data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":502,"output_tokens":137}  }"#,
    "\n\nevent: message_stop\n",
    r#"data: {"type":"message_stop"             }"#,
    "\n\n",
);
