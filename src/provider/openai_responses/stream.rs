//! `response.*` events accumulated the way a careful client must: by `output_index` and
//! `item_id`, never by arrival order.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use super::response::{WireResponse, turn_of};
use crate::provider::ResponseError;
use crate::provider::sse::Event;
use crate::transcript::AssistantTurn;

/// The items of a stream being accumulated.
#[derive(Debug, Default)]
struct Accumulator {
    /// Each output item as last announced (`added`, then `done`), by `output_index`.
    items: BTreeMap<u64, Value>,
    /// Which output index an item id designates.
    index_of: HashMap<String, u64>,
    /// Argument and text fragments per output index, for items never sent whole.
    arguments: HashMap<u64, String>,
    text: HashMap<u64, String>,
    last_sequence: Option<u64>,
}

impl Accumulator {
    fn index(&self, data: &Value, at: &str) -> Result<u64, ResponseError> {
        if let Some(id) = data.get("item_id").and_then(Value::as_str) {
            return self.index_of.get(id).copied().ok_or_else(|| {
                ResponseError::new(
                    at,
                    format!(
                        "a delta for item `{id}`, which no `response.output_item.added` announced"
                    ),
                )
            });
        }
        data.get("output_index")
            .and_then(Value::as_u64)
            .filter(|i| self.items.contains_key(i))
            .ok_or_else(|| ResponseError::new(at, "a delta for an output item never announced"))
    }

    fn announce(&mut self, data: &Value, at: &str) -> Result<(), ResponseError> {
        let index = data
            .get("output_index")
            .and_then(Value::as_u64)
            .ok_or_else(|| ResponseError::new(at, "an output item event without `output_index`"))?;
        let item = data
            .get("item")
            .filter(|i| i.is_object())
            .ok_or_else(|| ResponseError::new(at, "an output item event without `item`"))?;
        if let Some(id) = item.get("id").and_then(Value::as_str) {
            self.index_of.insert(id.to_owned(), index);
        }
        self.items.insert(index, item.clone());
        Ok(())
    }

    /// The items in output order, with streamed fragments filled into items that were never
    /// sent whole.
    fn finish(mut self) -> Vec<Value> {
        for (index, item) in &mut self.items {
            let kind = item
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            if kind == "function_call"
                && item.get("arguments").and_then(Value::as_str) == Some("")
                && let Some(args) = self.arguments.get(index)
            {
                item["arguments"] = json!(args);
            }
            let empty = item
                .get("content")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty);
            if kind == "message"
                && empty
                && let Some(text) = self.text.get(index)
            {
                item["content"] = json!([{"type": "output_text", "text": text}]);
            }
        }
        self.items.into_values().collect()
    }
}

/// Decodes a streamed response from its events.
///
/// Handles what the API sends: `event:` lines naming the type, `sequence_number` on every
/// event, `obfuscation` padding, `content_part` and reasoning-summary events, and a terminal
/// `response.completed` (or `.incomplete`) whose `response` holds the full output; a trailing
/// `data: [DONE]` that some proxies add is tolerated.
///
/// # Errors
/// An event is not JSON, a `sequence_number` does not increase, a delta names an item never
/// announced, the stream carries an `error` event or a `response.failed`, or it has no
/// terminal event. Positions are `frame N`, the event's index.
pub fn decode_response_sse(events: &[Event]) -> Result<AssistantTurn, ResponseError> {
    let mut acc = Accumulator::default();
    let mut terminal: Option<(WireResponse, String)> = None;
    for (frame, event) in events.iter().enumerate() {
        let at = format!("frame {frame}");
        if event.data.trim() == "[DONE]" {
            if terminal.is_some() {
                continue;
            }
            return Err(ResponseError::new(
                at,
                "`data: [DONE]` before a terminal event",
            ));
        }
        let data: Value = serde_json::from_str(&event.data)
            .map_err(|e| ResponseError::new(&at, format!("the event is not JSON: {e}")))?;
        if let Some(n) = data.get("sequence_number").and_then(Value::as_u64) {
            if acc.last_sequence.is_some_and(|last| n <= last) {
                return Err(ResponseError::new(
                    at,
                    format!("`sequence_number` {n} does not increase"),
                ));
            }
            acc.last_sequence = Some(n);
        }
        let kind = data
            .get("type")
            .and_then(Value::as_str)
            .or(event.event.as_deref())
            .unwrap_or("");
        match kind {
            "response.output_item.added" | "response.output_item.done" => {
                acc.announce(&data, &at)?;
            }
            "response.function_call_arguments.delta" => {
                let index = acc.index(&data, &at)?;
                let delta = data.get("delta").and_then(Value::as_str).unwrap_or("");
                acc.arguments.entry(index).or_default().push_str(delta);
            }
            "response.function_call_arguments.done" => {
                let index = acc.index(&data, &at)?;
                if let Some(args) = data.get("arguments").and_then(Value::as_str) {
                    acc.arguments.insert(index, args.to_owned());
                }
            }
            "response.output_text.delta" => {
                let index = acc.index(&data, &at)?;
                let delta = data.get("delta").and_then(Value::as_str).unwrap_or("");
                acc.text.entry(index).or_default().push_str(delta);
            }
            "error" => {
                let message = data
                    .get("message")
                    .or_else(|| data.get("error").and_then(|e| e.get("message")))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                return Err(ResponseError::new(
                    at,
                    format!("the stream carries an error: `{message}`"),
                ));
            }
            "response.completed" | "response.incomplete" | "response.failed" => {
                let response = data.get("response").cloned().unwrap_or(Value::Null);
                let wire: WireResponse =
                    serde_path_to_error::deserialize(&response).map_err(|e| {
                        ResponseError::new(&at, format!("`response.{}`: {}", e.path(), e.inner()))
                    })?;
                terminal = Some((wire, at));
            }
            _ => {}
        }
    }
    let Some((response, at)) = terminal else {
        return Err(ResponseError::new(
            format!("frame {}", events.len()),
            "stream ends without `response.completed`: truncated?",
        ));
    };
    let streamed = acc.finish();
    let response = if streamed.is_empty() {
        response
    } else {
        WireResponse {
            output: Some(streamed),
            ..response
        }
    };
    turn_of(response, &format!("{at}: response"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::sse::{parse_frames, split_frames};
    use crate::transcript::StopReason;

    fn frame(n: u64, data: Value) -> String {
        let mut data = data;
        data["sequence_number"] = json!(n);
        format!(
            "event: {}\ndata: {data}\n\n",
            data["type"].as_str().unwrap()
        )
    }

    fn call(id: &str, call: &str, name: &str, args: &str) -> Value {
        json!({"type": "function_call", "id": id, "call_id": call, "name": name, "arguments": args, "status": "completed"})
    }

    fn decode(frames: &[String]) -> Result<AssistantTurn, ResponseError> {
        decode_response_sse(&parse_frames(&split_frames(&frames.concat())))
    }

    #[test]
    fn interleaved_argument_deltas_are_joined_by_item_id_in_output_order() {
        let frames = vec![
            frame(
                0,
                json!({"type": "response.created", "response": {"id": "resp_1", "status": "in_progress", "output": []}}),
            ),
            frame(
                1,
                json!({"type": "response.output_item.added", "output_index": 1, "item": call("fc_2", "call_b", "mul", "")}),
            ),
            frame(
                2,
                json!({"type": "response.output_item.added", "output_index": 0, "item": call("fc_1", "call_a", "add", "")}),
            ),
            frame(
                3,
                json!({"type": "response.function_call_arguments.delta", "item_id": "fc_2", "output_index": 1, "delta": "{\"b\""}),
            ),
            frame(
                4,
                json!({"type": "response.function_call_arguments.delta", "item_id": "fc_1", "output_index": 0, "delta": "{\"a\":1}"}),
            ),
            frame(
                5,
                json!({"type": "response.function_call_arguments.delta", "item_id": "fc_2", "output_index": 1, "delta": ":2}"}),
            ),
            frame(
                6,
                json!({"type": "response.completed", "response": {"id": "resp_1", "status": "completed", "output": []}}),
            ),
        ];
        let turn = decode(&frames).unwrap();
        let calls: Vec<(&str, &str)> = turn
            .tool_calls()
            .map(|c| (c.id.as_str(), c.arguments.as_str()))
            .collect();
        assert_eq!(calls, [("call_a", "{\"a\":1}"), ("call_b", "{\"b\":2}")]);
        assert_eq!(turn.stop, StopReason::ToolUse);
    }

    #[test]
    fn a_stream_without_a_terminal_event_is_truncated() {
        let frames = vec![frame(
            0,
            json!({"type": "response.output_item.added", "output_index": 0, "item": call("fc_1", "call_a", "add", "")}),
        )];
        let err = decode(&frames).unwrap_err();
        assert!(err.message.contains("truncated"), "{err}");
    }

    #[test]
    fn a_delta_for_an_unannounced_item_and_a_sequence_going_back_are_refused() {
        let unknown = vec![frame(
            0,
            json!({"type": "response.function_call_arguments.delta", "item_id": "fc_9", "output_index": 0, "delta": "{}"}),
        )];
        assert_eq!(decode(&unknown).unwrap_err().at, "frame 0");
        let back = vec![
            frame(
                3,
                json!({"type": "response.created", "response": {"output": []}}),
            ),
            frame(
                2,
                json!({"type": "response.in_progress", "response": {"output": []}}),
            ),
        ];
        assert!(
            decode(&back)
                .unwrap_err()
                .message
                .contains("sequence_number")
        );
    }

    #[test]
    fn text_deltas_become_the_message_text() {
        let frames = vec![
            frame(
                0,
                json!({"type": "response.output_item.added", "output_index": 0, "item": {"type": "message", "id": "msg_1", "role": "assistant", "content": []}}),
            ),
            frame(
                1,
                json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": "Hel"}),
            ),
            frame(
                2,
                json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": "lo"}),
            ),
            frame(
                3,
                json!({"type": "response.completed", "response": {"status": "completed", "output": []}}),
            ),
            "data: [DONE]\n\n".to_owned(),
        ];
        let turn = decode(&frames).unwrap();
        assert_eq!(
            (turn.text().as_str(), turn.stop),
            ("Hello", StopReason::EndTurn)
        );
    }

    #[test]
    fn an_error_event_is_reported_in_both_shapes() {
        for data in [
            json!({"type": "error", "code": "server_error", "message": "boom", "param": null}),
            json!({"type": "error", "error": {"type": "server_error", "message": "boom"}}),
        ] {
            let err = decode(&[frame(0, data)]).unwrap_err();
            assert!(err.message.contains("boom"), "{err}");
        }
    }
}
