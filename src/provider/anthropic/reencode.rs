//! A recorded response served in the other mode: a `message` body as the event stream the API
//! sends for it, and a recorded stream as the body the API would have returned.
//!
//! The stream follows the API's sequence (protocol notes §C2): `message_start` with the message
//! and empty content, a `ping`, then per block `content_block_start` (text empty, `tool_use`
//! with `input: {}`, thinking empty with an empty signature), its deltas (`text_delta`,
//! `input_json_delta` starting with an empty fragment, `thinking_delta`, `signature_delta`)
//! and `content_block_stop`, then `message_delta` with the stop reason and usage, and
//! `message_stop`. Blocks of other types (redacted thinking, server tools) start whole.

use serde_json::{Map, Value, json};

use super::decode_response_json;
use super::stream::decode_response_sse;
use crate::provider::ResponseError;
use crate::provider::sse;

/// How many characters one delta carries.
const FRAGMENT: usize = 8;

fn frame(event: &str, data: &Value) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

/// The event stream the API sends for the recorded JSON `body`.
///
/// # Errors
/// The body is not a `message`.
pub fn json_to_sse(body: &str) -> Result<Vec<String>, ResponseError> {
    decode_response_json(body)?;
    let value: Value =
        serde_json::from_str(body).map_err(|e| ResponseError::new("", e.to_string()))?;
    let mut message = value
        .as_object()
        .cloned()
        .ok_or_else(|| ResponseError::new("", "the body is not an object"))?;
    let content = message
        .insert("content".into(), json!([]))
        .and_then(|c| c.as_array().cloned())
        .unwrap_or_default();
    let stop_reason = message.insert("stop_reason".into(), Value::Null);
    let stop_sequence = message.insert("stop_sequence".into(), Value::Null);
    let usage = message.get("usage").cloned().unwrap_or(json!({}));
    let mut frames = vec![
        frame(
            "message_start",
            &json!({"type": "message_start", "message": message}),
        ),
        frame("ping", &json!({"type": "ping"})),
    ];
    for (index, block) in content.iter().enumerate() {
        let delta = |d: Value| {
            frame(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index, "delta": d}),
            )
        };
        let start = |b: Value| {
            frame(
                "content_block_start",
                &json!({"type": "content_block_start", "index": index, "content_block": b}),
            )
        };
        let text_of = |key: &str| block.get(key).and_then(Value::as_str).unwrap_or_default();
        match block.get("type").and_then(Value::as_str) {
            Some("text") => {
                let mut empty = block.clone();
                empty["text"] = json!("");
                frames.push(start(empty));
                for p in sse::fragments(FRAGMENT, text_of("text")) {
                    frames.push(delta(json!({"type": "text_delta", "text": p})));
                }
            }
            Some("tool_use") => {
                let mut empty = block.clone();
                empty["input"] = json!({});
                frames.push(start(empty));
                let input = block.get("input").cloned().unwrap_or(json!({})).to_string();
                frames.push(delta(
                    json!({"type": "input_json_delta", "partial_json": ""}),
                ));
                for p in sse::fragments(FRAGMENT, &input) {
                    frames.push(delta(
                        json!({"type": "input_json_delta", "partial_json": p}),
                    ));
                }
            }
            Some("thinking") => {
                frames.push(start(
                    json!({"type": "thinking", "thinking": "", "signature": ""}),
                ));
                for p in sse::fragments(FRAGMENT, text_of("thinking")) {
                    frames.push(delta(json!({"type": "thinking_delta", "thinking": p})));
                }
                if let Some(signature) = block.get("signature") {
                    frames.push(delta(
                        json!({"type": "signature_delta", "signature": signature}),
                    ));
                }
            }
            _ => frames.push(start(block.clone())),
        }
        frames.push(frame(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": index}),
        ));
    }
    frames.push(frame(
        "message_delta",
        &json!({"type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
            "usage": usage}),
    ));
    frames.push(frame("message_stop", &json!({"type": "message_stop"})));
    Ok(frames)
}

/// The `message` body the API returns for the recorded stream `frames`.
///
/// # Errors
/// The stream does not decode.
pub fn sse_to_json(frames: &[String]) -> Result<String, ResponseError> {
    let events = sse::parse_frames(frames);
    decode_response_sse(&events)?;
    let mut message = Map::new();
    let mut blocks: Vec<(Value, String)> = Vec::new();
    for event in &events {
        let Ok(data) = serde_json::from_str::<Value>(&event.data) else {
            continue;
        };
        let index = data.get("index").and_then(Value::as_u64).unwrap_or(0);
        let index = usize::try_from(index).unwrap_or(usize::MAX);
        match data.get("type").and_then(Value::as_str) {
            Some("message_start") => {
                if let Some(m) = data.get("message").and_then(Value::as_object) {
                    message = m.clone();
                }
            }
            Some("content_block_start") => {
                let block = data.get("content_block").cloned().unwrap_or(json!({}));
                blocks.push((block, String::new()));
            }
            Some("content_block_delta") => {
                let Some((block, json_input)) = blocks.get_mut(index) else {
                    continue;
                };
                let d = &data["delta"];
                let append = |block: &mut Value, key: &str, piece: &Value| {
                    let before = block.get(key).and_then(Value::as_str).unwrap_or_default();
                    block[key] = json!(format!("{before}{}", piece.as_str().unwrap_or_default()));
                };
                match d.get("type").and_then(Value::as_str) {
                    Some("text_delta") => append(block, "text", &d["text"]),
                    Some("thinking_delta") => append(block, "thinking", &d["thinking"]),
                    Some("signature_delta") => block["signature"] = d["signature"].clone(),
                    Some("input_json_delta") => {
                        json_input.push_str(d["partial_json"].as_str().unwrap_or_default());
                    }
                    _ => {}
                }
            }
            Some("message_delta") => {
                if let Some(delta) = data.get("delta").and_then(Value::as_object) {
                    for (k, v) in delta {
                        message.insert(k.clone(), v.clone());
                    }
                }
                if let Some(Value::Object(usage)) = data.get("usage") {
                    let mut merged = message
                        .get("usage")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    for (k, v) in usage {
                        merged.insert(k.clone(), v.clone());
                    }
                    message.insert("usage".into(), Value::Object(merged));
                }
            }
            _ => {}
        }
    }
    let content: Vec<Value> = blocks
        .into_iter()
        .map(|(mut block, json_input)| {
            if !json_input.is_empty() {
                block["input"] = serde_json::from_str(&json_input).unwrap_or(json!({}));
            }
            block
        })
        .collect();
    message.insert("content".into(), Value::Array(content));
    Ok(Value::Object(message).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::anthropic::test_support::FANTASY_STREAM;

    const BODY: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4","content":[{"type":"thinking","thinking":"Two tools.","signature":"c2ln"},{"type":"text","text":"I'll add ü and multiply."},{"type":"tool_use","id":"toolu_a","name":"add","input":{"a":2,"b":3}},{"type":"tool_use","id":"toolu_b","name":"mul","input":{}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":9}}"#;

    #[test]
    fn a_json_body_streams_as_the_same_turn() {
        let frames = json_to_sse(BODY).unwrap();
        let turn = decode_response_sse(&sse::parse_frames(&frames)).unwrap();
        assert_eq!(turn, decode_response_json(BODY).unwrap());
        assert!(frames[0].starts_with("event: message_start\n"));
        assert_eq!(
            frames.last().unwrap(),
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
        );
    }

    #[test]
    fn a_body_round_trips_through_its_stream_with_ids_usage_and_stop_reason() {
        let body = sse_to_json(&json_to_sse(BODY).unwrap()).unwrap();
        let back: Value = serde_json::from_str(&body).unwrap();
        let original: Value = serde_json::from_str(BODY).unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn a_recorded_stream_becomes_a_body_of_the_same_turn() {
        let frames = sse::split_frames(FANTASY_STREAM);
        let body = sse_to_json(&frames).unwrap();
        let streamed = decode_response_sse(&sse::parse_frames(&frames)).unwrap();
        assert!(
            decode_response_json(&body).unwrap().same_as(&streamed),
            "{body}"
        );
        let back: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(back["id"], "msg_01PSvJdjd5keNSD63VHjYzex");
        assert_eq!(back["stop_reason"], "tool_use");
        assert_eq!(back["usage"]["output_tokens"], 137);
    }
}
