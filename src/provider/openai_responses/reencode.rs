//! A recorded response served in the other mode: a `response` body as the event stream the
//! API sends for it, and a recorded stream as the body the API would have returned.
//!
//! The stream follows the API's sequence (protocol notes §B4): `response.created` and
//! `response.in_progress` with the response `in_progress` and no output, then per output item
//! `response.output_item.added` (a call with empty `arguments`, a message with no content),
//! its deltas (`response.function_call_arguments.delta`/`.done`, or for a message
//! `response.content_part.added`, `response.output_text.delta`/`.done`,
//! `response.content_part.done`), `response.output_item.done` with the whole item, and
//! `response.completed` with the whole response; every event has an `event:` line and an
//! increasing `sequence_number`, and there is no `[DONE]`.

use serde_json::{Map, Value, json};

use super::stream::decode_response_sse;
use crate::provider::ResponseError;
use crate::provider::sse::{self, Event};

/// How many characters of arguments or text one delta carries.
const FRAGMENT: usize = 8;

struct Frames {
    frames: Vec<String>,
    sequence: u64,
}

impl Frames {
    fn push(&mut self, kind: &str, fields: Value) {
        let mut data = Map::new();
        data.insert("type".into(), json!(kind));
        if let Value::Object(fields) = fields {
            data.extend(fields);
        }
        data.insert("sequence_number".into(), json!(self.sequence));
        self.sequence += 1;
        self.frames
            .push(format!("event: {kind}\ndata: {}\n\n", Value::Object(data)));
    }
}

/// The event stream the API sends for the recorded JSON `body`.
///
/// # Errors
/// The body is not a `response` object.
pub fn json_to_sse(body: &str) -> Result<Vec<String>, ResponseError> {
    super::decode_response_json(body)?;
    let response: Value =
        serde_json::from_str(body).map_err(|e| ResponseError::new("", e.to_string()))?;
    let output = response
        .get("output")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut opening = response.clone();
    opening["status"] = json!("in_progress");
    opening["output"] = json!([]);
    if opening.get("usage").is_some() {
        opening["usage"] = Value::Null;
    }
    let mut out = Frames {
        frames: Vec::new(),
        sequence: 0,
    };
    out.push("response.created", json!({"response": opening}));
    out.push("response.in_progress", json!({"response": opening}));
    for (index, item) in output.iter().enumerate() {
        let id = item.get("id").cloned().unwrap_or(Value::Null);
        let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
        let mut added = item.clone();
        if item.get("status").is_some() {
            added["status"] = json!("in_progress");
        }
        match kind {
            "function_call" => {
                added["arguments"] = json!("");
                out.push(
                    "response.output_item.added",
                    json!({"output_index": index, "item": added}),
                );
                let arguments = item.get("arguments").and_then(Value::as_str).unwrap_or("");
                for piece in sse::fragments(FRAGMENT, arguments) {
                    out.push(
                        "response.function_call_arguments.delta",
                        json!({"item_id": id, "output_index": index, "delta": piece}),
                    );
                }
                out.push(
                    "response.function_call_arguments.done",
                    json!({"item_id": id, "output_index": index, "arguments": arguments}),
                );
            }
            "message" => {
                added["content"] = json!([]);
                out.push(
                    "response.output_item.added",
                    json!({"output_index": index, "item": added}),
                );
                let parts = item
                    .get("content")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for (content_index, part) in parts.iter().enumerate() {
                    let mut empty = part.clone();
                    let text = part.get("text").and_then(Value::as_str).unwrap_or("");
                    if part.get("text").is_some() {
                        empty["text"] = json!("");
                    }
                    let at = json!({"item_id": id, "output_index": index, "content_index": content_index});
                    let with = |extra: Value| {
                        let mut v = at.clone();
                        if let (Some(v), Value::Object(extra)) = (v.as_object_mut(), extra) {
                            v.extend(extra);
                        }
                        v
                    };
                    out.push("response.content_part.added", with(json!({"part": empty})));
                    if part.get("type").and_then(Value::as_str) == Some("output_text") {
                        for piece in sse::fragments(FRAGMENT, text) {
                            out.push("response.output_text.delta", with(json!({"delta": piece})));
                        }
                        out.push("response.output_text.done", with(json!({"text": text})));
                    }
                    out.push("response.content_part.done", with(json!({"part": part})));
                }
            }
            _ => out.push(
                "response.output_item.added",
                json!({"output_index": index, "item": added}),
            ),
        }
        out.push(
            "response.output_item.done",
            json!({"output_index": index, "item": item}),
        );
    }
    let terminal = match response.get("status").and_then(Value::as_str) {
        Some("incomplete") => "response.incomplete",
        _ => "response.completed",
    };
    out.push(terminal, json!({"response": response}));
    Ok(out.frames)
}

/// The JSON body the API returns for a recorded stream: the terminal event's `response`, with
/// the streamed items as its `output` when the terminal event left it empty.
///
/// # Errors
/// The stream does not decode.
pub fn sse_to_json(frames: &[String]) -> Result<String, ResponseError> {
    let events: Vec<Event> = sse::parse_frames(frames);
    decode_response_sse(&events)?;
    let mut items: Vec<(u64, Value)> = Vec::new();
    let mut response = Value::Null;
    for event in &events {
        let Ok(data) = serde_json::from_str::<Value>(&event.data) else {
            continue;
        };
        match data.get("type").and_then(Value::as_str) {
            Some("response.output_item.done") => {
                let index = data
                    .get("output_index")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                items.retain(|(i, _)| *i != index);
                items.push((index, data["item"].clone()));
            }
            Some("response.completed" | "response.incomplete") => {
                response = data["response"].clone();
            }
            _ => {}
        }
    }
    let empty = response
        .get("output")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    if empty && !items.is_empty() {
        items.sort_by_key(|(i, _)| *i);
        response["output"] = Value::Array(items.into_iter().map(|(_, v)| v).collect());
    }
    Ok(response.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"id":"resp_1","object":"response","status":"completed","model":"gpt-4o","output":[{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"enc"},{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Let me add.","annotations":[]}]},{"type":"function_call","id":"fc_1","call_id":"call_a","name":"add","arguments":"{\"a\":2,\"b\":3}","status":"completed"}],"usage":{"input_tokens":1,"output_tokens":2,"total_tokens":3}}"#;

    #[test]
    fn a_body_re_encoded_as_a_stream_says_the_same_and_comes_back() {
        let frames = json_to_sse(BODY).unwrap();
        assert!(frames[0].starts_with("event: response.created\n"));
        assert!(
            frames
                .last()
                .unwrap()
                .starts_with("event: response.completed\n")
        );
        assert!(!frames.concat().contains("[DONE]"));
        let streamed = decode_response_sse(&sse::parse_frames(&frames)).unwrap();
        let body = super::super::decode_response_json(BODY).unwrap();
        assert!(streamed.same_as(&body));
        let back = sse_to_json(&frames).unwrap();
        assert!(
            super::super::decode_response_json(&back)
                .unwrap()
                .same_as(&body)
        );
    }
}
