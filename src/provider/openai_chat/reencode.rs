//! A recorded response served in the other mode: a `chat.completion` body as the chunk stream
//! the API sends for it, and a recorded stream as the body the API would have returned.
//!
//! The stream follows the API's sequence (protocol notes §A2): a first chunk with
//! `role: "assistant"`, text deltas, then for each call one chunk with its `index`, `id`,
//! `type` and `name` and empty `arguments` followed by argument fragments at that index, a
//! last chunk with an empty delta and the `finish_reason`, a usage chunk with no choices when
//! the request asked for it (`stream_options.include_usage`), and `data: [DONE]`.

use serde_json::{Map, Value, json};

use super::stream::decode_response_sse;
use crate::provider::ResponseError;
use crate::provider::sse::{self, Event};
use crate::transcript::{AssistantTurn, Block};

/// How many characters of arguments or text one chunk carries.
const FRAGMENT: usize = 8;

/// The fields every chunk repeats, taken from the recorded body.
fn envelope(body: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for key in [
        "id",
        "created",
        "model",
        "service_tier",
        "system_fingerprint",
    ] {
        if let Some(v) = body.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    out.insert("object".into(), json!("chat.completion.chunk"));
    out
}

fn frame(data: &Value) -> String {
    format!("data: {data}\n\n")
}

fn chunk(envelope: &Map<String, Value>, delta: Value, finish_reason: &Value) -> String {
    let mut c = envelope.clone();
    c.insert(
        "choices".into(),
        json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}]),
    );
    frame(&Value::Object(c))
}

/// The chunk stream the API sends for the recorded JSON `body`.
///
/// # Errors
/// The body is not a `chat.completion` with one choice.
pub fn json_to_sse(body: &str, request: &Value) -> Result<Vec<String>, ResponseError> {
    let turn = super::decode_response_json(body)?;
    let value: Value =
        serde_json::from_str(body).map_err(|e| ResponseError::new("", e.to_string()))?;
    let fields = value
        .as_object()
        .ok_or_else(|| ResponseError::new("", "the body is not an object"))?;
    let choice = &value["choices"][0];
    let finish = choice
        .get("finish_reason")
        .cloned()
        .unwrap_or(json!("stop"));
    let env = envelope(fields);
    let text = turn.text();
    let mut frames = vec![chunk(
        &env,
        json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { json!("") }}),
        &Value::Null,
    )];
    for piece in sse::fragments(FRAGMENT, &text) {
        frames.push(chunk(&env, json!({"content": piece}), &Value::Null));
    }
    for (index, call) in turn.tool_calls().enumerate() {
        frames.push(chunk(
            &env,
            json!({"tool_calls": [{"index": index, "id": call.id, "type": "function",
                "function": {"name": call.name, "arguments": ""}}]}),
            &Value::Null,
        ));
        for piece in sse::fragments(FRAGMENT, &call.arguments) {
            frames.push(chunk(
                &env,
                json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                &Value::Null,
            ));
        }
    }
    frames.push(chunk(&env, json!({}), &finish));
    let wants_usage = request
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if wants_usage && let Some(usage) = fields.get("usage") {
        let mut c = env.clone();
        c.insert("choices".into(), json!([]));
        c.insert("usage".into(), usage.clone());
        frames.push(frame(&Value::Object(c)));
    }
    frames.push("data: [DONE]\n\n".to_owned());
    Ok(frames)
}

/// The `chat.completion` body the API returns for the recorded stream `frames`.
///
/// # Errors
/// The stream does not decode.
pub fn sse_to_json(frames: &[String]) -> Result<String, ResponseError> {
    let events: Vec<Event> = sse::parse_frames(frames);
    let turn = decode_response_sse(&events)?;
    let mut envelope = Map::new();
    let mut finish = Value::Null;
    let mut usage = Value::Null;
    for event in &events {
        let Ok(Value::Object(chunk)) = serde_json::from_str::<Value>(&event.data) else {
            continue;
        };
        if envelope.is_empty() {
            envelope = self::envelope(&chunk);
        }
        if let Some(u) = chunk.get("usage").filter(|u| !u.is_null()) {
            usage = u.clone();
        }
        if let Some(f) = chunk
            .get("choices")
            .and_then(|c| c.get(0))
            .and_then(|c| c.get("finish_reason"))
            .filter(|f| !f.is_null())
        {
            finish = f.clone();
        }
    }
    envelope.insert("object".into(), json!("chat.completion"));
    envelope.insert(
        "choices".into(),
        json!([{"index": 0, "message": message(&turn), "logprobs": null, "finish_reason": finish}]),
    );
    if !usage.is_null() {
        envelope.insert("usage".into(), usage);
    }
    Ok(Value::Object(envelope).to_string())
}

fn message(turn: &AssistantTurn) -> Value {
    let text: String = turn
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let mut m = json!({
        "role": "assistant",
        "content": if text.is_empty() { Value::Null } else { json!(text) },
        "refusal": null,
    });
    let calls: Vec<Value> = turn
        .tool_calls()
        .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
        .collect();
    if !calls.is_empty() {
        m["tool_calls"] = Value::Array(calls);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::openai_chat::decode_response_json;

    const BODY: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":7,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Let me check ü.","tool_calls":[{"id":"call_a","type":"function","function":{"name":"add","arguments":"{\"a\": 2, \"b\": 3}"}},{"id":"call_b","type":"function","function":{"name":"mul","arguments":"{}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":6,"total_tokens":11}}"#;

    fn decode_frames(frames: &[String]) -> AssistantTurn {
        decode_response_sse(&sse::parse_frames(frames)).unwrap()
    }

    #[test]
    fn a_json_body_streams_as_the_same_turn() {
        let frames = json_to_sse(BODY, &json!({})).unwrap();
        assert_eq!(decode_frames(&frames), decode_response_json(BODY).unwrap());
        assert_eq!(frames.last().unwrap(), "data: [DONE]\n\n");
        assert!(frames.iter().all(|f| f.ends_with("\n\n")));
    }

    #[test]
    fn usage_is_streamed_only_when_the_request_asks_for_it() {
        let plain = json_to_sse(BODY, &json!({})).unwrap();
        assert!(!plain.iter().any(|f| f.contains("\"usage\"")));
        let asked = json_to_sse(BODY, &json!({"stream_options": {"include_usage": true}})).unwrap();
        let usage = &asked[asked.len() - 2];
        assert!(usage.contains(r#""choices":[]"#), "{usage}");
        assert!(usage.contains(r#""total_tokens":11"#), "{usage}");
    }

    #[test]
    fn a_stream_and_its_body_decode_to_the_same_turn_both_ways() {
        let frames =
            json_to_sse(BODY, &json!({"stream_options": {"include_usage": true}})).unwrap();
        let body = sse_to_json(&frames).unwrap();
        assert_eq!(
            decode_response_json(&body).unwrap(),
            decode_response_json(BODY).unwrap()
        );
        let back: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(back["id"], "chatcmpl-1");
        assert_eq!(back["model"], "gpt-4o");
        assert_eq!(back["usage"]["total_tokens"], 11);
        assert_eq!(back["choices"][0]["finish_reason"], "tool_calls");
    }
}
