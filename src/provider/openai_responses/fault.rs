//! The end of a Responses stream, which a `no-terminal-event` fault leaves out. Error replies
//! are OpenAI's one envelope, written by `openai_chat`.

use serde_json::{Value, json};

use crate::provider::rewrite_calls;
use crate::provider::sse::parse_frame;
use crate::transcript::ToolCall;

/// The frames from the response's last event (`response.completed`, or `response.incomplete`
/// or `response.failed`) to the end.
#[must_use]
pub fn terminal_frames(frames: &[&str]) -> usize {
    frames
        .iter()
        .position(|f| {
            parse_frame(f).is_some_and(|e| {
                let kind = e.event.clone().or_else(|| {
                    serde_json::from_str::<Value>(&e.data)
                        .ok()
                        .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_owned))
                });
                matches!(
                    kind.as_deref(),
                    Some("response.completed" | "response.incomplete" | "response.failed")
                )
            })
        })
        .map_or(0, |i| frames.len() - i)
}

/// The recorded `response` `body` with its `function_call` items replaced by `calls` (a model
/// fault): `call_id`, `name` and `arguments` (text) rewritten; an added call is a new item with
/// its own item id.
///
/// # Errors
/// The body is not a response with calls.
pub fn with_calls(body: &str, calls: &[ToolCall]) -> Result<String, String> {
    let mut value: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
    let Some(Value::Array(items)) = value.get_mut("output") else {
        return Err("the recorded response has no `output` to change".to_owned());
    };
    let is_call = |v: &Value| v.get("type").and_then(Value::as_str) == Some("function_call");
    rewrite_calls(items, is_call, calls, |entry, call, _| {
        entry["call_id"] = json!(call.id);
        entry["name"] = json!(call.name);
        entry["arguments"] = json!(call.arguments);
        if let Some(id) = &call.item_id {
            entry["id"] = json!(id);
        }
        Ok(())
    })?;
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_of_a_stream_is_its_completed_event() {
        let frames = [
            "event: response.created\ndata: {\"type\":\"response.created\"}\n\n",
            "event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\"}\n\n",
            "event: response.completed\ndata: {\"type\":\"response.completed\"}\n\n",
        ];
        assert_eq!(terminal_frames(&frames), 1);
        assert_eq!(terminal_frames(&frames[..2]), 0);
    }
}
