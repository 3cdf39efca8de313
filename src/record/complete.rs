//! What a recording lacks, made up and marked synthetic: the first request of a recording that
//! has only its response, and the follow-up and final answer of one that ends with tool calls
//! (so the loop's follow-up is still judged). Every part is written by the provider's codec.

use serde_json::{Map, Value, json};

use crate::cassette::{RecordedResponse, ResponseBody};
use crate::provider::Provider;
use crate::transcript::{AssistantTurn, ToolCall, ToolDefinition, ToolResult};

/// The user message of a synthetic first request.
pub const PLACEHOLDER_PROMPT: &str =
    "(tooltape import: the recording has no request; this prompt stands in for the one sent)";

/// The text of a synthetic final answer.
pub const FINAL_TEXT: &str =
    "Synthetic final answer (tooltape import): the recording ends with tool calls.";

/// The JSON body of a recorded response: the text itself, or the body the API would have
/// sent for the stream.
fn like(provider: Provider, response: &RecordedResponse) -> Result<String, String> {
    match &response.body {
        ResponseBody::Json { text } => Ok(text.clone()),
        ResponseBody::Sse { frames } => provider
            .codec()
            .sse_to_json(frames)
            .map_err(|e| format!("the stream does not decode: {e}")),
    }
}

/// The tools a turn calls, with argument schemas inferred from the arguments.
#[must_use]
pub fn tools_called(turn: &AssistantTurn) -> Vec<ToolDefinition> {
    let mut tools: Vec<ToolDefinition> = Vec::new();
    for call in turn.tool_calls() {
        if tools.iter().any(|t| t.name == call.name) {
            continue;
        }
        let mut properties = Map::new();
        let mut required = Vec::new();
        if let Some(Value::Object(args)) = call.arguments_value() {
            for (key, value) in args {
                properties.insert(key.clone(), json!({"type": json_type(&value)}));
                required.push(Value::String(key));
            }
        }
        tools.push(ToolDefinition {
            name: call.name.clone(),
            description: String::new(),
            parameters: json!({"type": "object", "properties": properties, "required": required}),
        });
    }
    tools
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A first request for a response recorded alone: the placeholder prompt, the tools it calls,
/// its model, and a stream when it streams.
///
/// # Errors
/// The codec cannot write one, or the response does not decode.
pub fn opening(
    provider: Provider,
    response: &RecordedResponse,
    turn: &AssistantTurn,
) -> Result<Value, String> {
    let like = like(provider, response)?;
    provider
        .codec()
        .opening_request(
            &like,
            PLACEHOLDER_PROMPT,
            &tools_called(turn),
            response.body.is_stream(),
        )
        .ok_or_else(|| {
            format!("the `{provider}` codec cannot write a first request for a response recorded alone; pass the request with --request FILE")
        })
}

/// The follow-up a correct loop sends after `request` got `turn`: its history, the turn
/// echoed, and one made-up result per call in call order (each names its call, so results
/// stay distinct).
#[must_use]
pub fn follow_up(provider: Provider, request: &Value, turn: &AssistantTurn) -> Value {
    let codec = provider.codec();
    let results: Vec<ToolResult> = turn
        .tool_calls()
        .map(|call| ToolResult {
            call_id: call.id.clone(),
            content: Value::String(format!(
                "synthetic result of {} (call {}): the recording ends before the tool ran",
                call.name, call.id
            )),
            is_error: false,
        })
        .collect();
    let mut history = codec.history(request);
    history.push(codec.encode_assistant(turn));
    let calls: Vec<ToolCall> = turn.tool_calls().cloned().collect();
    history.extend(codec.encode_answers(&calls, &results));
    codec.with_history(request, history)
}

/// A final text answer in the envelope of `last` and in its mode (streamed when it streamed),
/// for the synthetic `follow_up`.
///
/// # Errors
/// The codec cannot write one.
pub fn final_answer(
    provider: Provider,
    last: &RecordedResponse,
    follow_up: &Value,
) -> Result<RecordedResponse, String> {
    let codec = provider.codec();
    let like = like(provider, last)?;
    let text = codec.final_answer(&like, FINAL_TEXT).ok_or_else(|| {
        format!("the `{provider}` codec cannot write a synthetic final answer, so a recording that ends with tool calls cannot be completed")
    })?;
    let body = if last.body.is_stream() {
        let frames = codec
            .json_to_sse(&text, follow_up)
            .map_err(|e| format!("the synthetic final answer does not stream: {e}"))?;
        ResponseBody::Sse { frames }
    } else {
        ResponseBody::Json { text }
    };
    Ok(RecordedResponse {
        status: 200,
        body,
        synthetic: true,
        frame_delays_ms: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::{Block, StopReason, ToolCall};

    fn turn() -> AssistantTurn {
        AssistantTurn {
            blocks: vec![
                Block::ToolCall(ToolCall {
                    id: "c1".into(),
                    name: "add".into(),
                    arguments: r#"{"a": 1, "b": 2.5, "s": "x"}"#.into(),
                    item_id: None,
                }),
                Block::ToolCall(ToolCall {
                    id: "c2".into(),
                    name: "add".into(),
                    arguments: "{}".into(),
                    item_id: None,
                }),
            ],
            stop: StopReason::ToolUse,
        }
    }

    #[test]
    fn called_tools_are_declared_once_with_inferred_argument_types() {
        let tools = tools_called(&turn());
        assert_eq!(tools.len(), 1);
        assert_eq!(
            tools[0].parameters,
            json!({"type": "object", "properties": {"a": {"type": "integer"},
                "b": {"type": "number"}, "s": {"type": "string"}}, "required": ["a", "b", "s"]})
        );
    }

    #[test]
    fn every_provider_answers_each_call_once_in_the_follow_up() {
        for provider in Provider::ALL {
            let codec = provider.codec();
            let opening = codec
                .opening_request(r#"{"model": "m"}"#, "go", &tools_called(&turn()), false)
                .unwrap_or_else(|| panic!("{provider}: no opening request"));
            let body = follow_up(provider, &opening, &turn());
            let decoded = codec
                .decode_request(&crate::provider::Route::default(), &body)
                .unwrap_or_else(|e| panic!("{provider}: {e}"));
            let ids: Vec<String> = decoded
                .conversation
                .messages
                .iter()
                .flat_map(|m| m.tool_results().map(|(_, r)| r.call_id.clone()))
                .collect();
            let called: Vec<String> = decoded
                .conversation
                .messages
                .iter()
                .flat_map(|m| m.tool_calls().map(|c| c.id.clone()))
                .collect();
            assert_eq!(ids, called, "{provider}");
            assert_eq!(ids.len(), 2, "{provider}");
            assert_eq!(decoded.conversation.assistant_turns(), 1, "{provider}");
        }
    }
}
