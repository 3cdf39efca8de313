//! `chat.completion.chunk` deltas accumulated the way a careful client must.

use super::response::error_text;
use super::response::stop_reason;
use crate::provider::json::path_error;
use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

use crate::provider::ResponseError;
use crate::provider::sse::Event;
use crate::transcript::{AssistantTurn, Block, ToolCall};

/// One `chat.completion.chunk`, or an error object sent in its place.
#[derive(Debug, Deserialize)]
pub(super) struct Chunk {
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    choices: Option<Vec<ChunkChoice>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ChunkChoice {
    #[serde(default)]
    index: u64,
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ToolCallDelta {
    index: u64,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Debug, Deserialize)]
pub(super) struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

/// Tool calls being accumulated from deltas, in order of first appearance.
#[derive(Debug, Default)]
pub(super) struct Accumulator {
    text: String,
    calls: Vec<ToolCall>,
    /// For each `index`, the position in `calls` of the call it currently designates.
    open: HashMap<u64, usize>,
    finish: Option<String>,
}

impl Accumulator {
    fn apply(&mut self, frame: usize, delta: ToolCallDelta) -> Result<(), ResponseError> {
        let ToolCallDelta {
            index,
            id,
            function,
        } = delta;
        let (name, arguments) = function.map_or((None, None), |f| (f.name, f.arguments));
        let id = id.filter(|id| !id.is_empty());
        let current = self.open.get(&index).copied();
        let position = match (current, id) {
            (Some(pos), Some(id)) if self.calls[pos].id != id => self.start(index, id),
            (Some(pos), _) => pos,
            (None, Some(id)) => self.start(index, id),
            (None, None) => {
                return Err(ResponseError::new(
                    format!("frame {frame}"),
                    format!(
                        "a delta for tool call index {index}, which no earlier delta opened \
                         (the first delta of a call must carry its `id`)"
                    ),
                ));
            }
        };
        let call = &mut self.calls[position];
        if let Some(name) = name.filter(|n| !n.is_empty()) {
            if call.name.is_empty() {
                call.name = name;
            } else if call.name != name {
                return Err(ResponseError::new(
                    format!("frame {frame}"),
                    format!(
                        "tool call `{}` is renamed from `{}` to `{name}`",
                        call.id, call.name
                    ),
                ));
            }
        }
        if let Some(fragment) = arguments {
            call.arguments.push_str(&fragment);
        }
        Ok(())
    }

    fn start(&mut self, index: u64, id: String) -> usize {
        self.calls.push(ToolCall {
            id,
            name: String::new(),
            arguments: String::new(),
            item_id: None,
        });
        let position = self.calls.len() - 1;
        self.open.insert(index, position);
        position
    }

    fn finish(self) -> Result<AssistantTurn, ResponseError> {
        let mut blocks = Vec::with_capacity(self.calls.len() + 1);
        if !self.text.is_empty() {
            blocks.push(Block::Text { text: self.text });
        }
        for call in self.calls {
            if call.name.is_empty() {
                return Err(ResponseError::new(
                    "end of stream",
                    format!("tool call `{}` never got a `function.name`", call.id),
                ));
            }
            blocks.push(Block::ToolCall(call));
        }
        Ok(AssistantTurn {
            blocks,
            stop: stop_reason(self.finish.as_deref()),
        })
    }
}

/// Decodes a streamed response from its `data:` events, accumulating tool calls by `index`.
///
/// Handles what real servers send: calls whose deltas interleave, every call at `index` 0 with
/// distinct ids (Ollama), the first call in the same chunk as the role, the last fragment in the
/// chunk that carries `finish_reason` (vLLM), a usage chunk with no choices, and empty deltas.
///
/// # Errors
/// A chunk is not JSON or not a chunk, the stream carries an error object, a delta continues a
/// call never opened, or the stream does not end with exactly one `data: [DONE]`. Positions are
/// `frame N`, the event's index.
pub fn decode_response_sse(events: &[Event]) -> Result<AssistantTurn, ResponseError> {
    let mut acc = Accumulator::default();
    let mut done = false;
    for (frame, event) in events.iter().enumerate() {
        let at = || format!("frame {frame}");
        if done {
            return Err(ResponseError::new(at(), "an event after `data: [DONE]`"));
        }
        if event.data.trim() == "[DONE]" {
            done = true;
            continue;
        }
        let mut de = serde_json::Deserializer::from_str(&event.data);
        let chunk: Chunk = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let inner = path_error(&e);
            ResponseError::new(at(), format!("`{}`: {}", inner.at, inner.message))
        })?;
        let Chunk { error, choices } = chunk;
        if let Some(error) = error {
            return Err(ResponseError::new(
                at(),
                format!("the stream carries an error: {}", error_text(&error)),
            ));
        }
        let Some(choices) = choices else {
            return Err(ResponseError::new(at(), "the chunk has no `choices`"));
        };
        for choice in choices.into_iter().filter(|c| c.index == 0) {
            let ChunkChoice {
                index: _,
                delta,
                finish_reason,
            } = choice;
            if let Some(Delta {
                content,
                tool_calls,
            }) = delta
            {
                if let Some(text) = content {
                    acc.text.push_str(&text);
                }
                for call in tool_calls.unwrap_or_default() {
                    acc.apply(frame, call)?;
                }
            }
            if finish_reason.is_some() {
                acc.finish = finish_reason;
            }
        }
    }
    if !done {
        return Err(ResponseError::new(
            format!("frame {}", events.len()),
            "stream ends without `data: [DONE]`: truncated?",
        ));
    }
    acc.finish()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::provider::openai_chat::test_support::*;
    use crate::transcript::{Block, StopReason};

    // -- streams ------------------------------------------------------------------------------

    /// Frames 0, 1, 2, 3, 13, 14, 24, 25 and [DONE] of
    /// reference/recordings/openai-chat/openai-python-parse-multiple-tools.stream.sse
    /// (openai/openai-python, Apache-2.0): the fragments between them are left out.
    const RECORDED_STREAM_EXCERPT: &str = concat!(
        r#"data: {"id":"chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63","object":"chat.completion.chunk","created":1727346178,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"role":"assistant","content":null},"logprobs":null,"finish_reason":null}]}"#,
        "\n\n",
        r#"data: {"id":"chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63","object":"chat.completion.chunk","created":1727346178,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_JMW1whyEaYG438VE1OIflxA2","type":"function","function":{"name":"GetWeatherArgs","arguments":""}}]},"logprobs":null,"finish_reason":null}]}"#,
        "\n\n",
        r#"data: {"id":"chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63","object":"chat.completion.chunk","created":1727346178,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]},"logprobs":null,"finish_reason":null}]}"#,
        "\n\n",
        r#"data: {"id":"chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63","object":"chat.completion.chunk","created":1727346178,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ty\": "}}]},"logprobs":null,"finish_reason":null}]}"#,
        "\n\n",
        r#"data: {"id":"chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63","object":"chat.completion.chunk","created":1727346178,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_DNYTawLBoN8fj3KN6qU9N1Ou","type":"function","function":{"name":"get_stock_price","arguments":""}}]},"logprobs":null,"finish_reason":null}]}"#,
        "\n\n",
        r#"data: {"id":"chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63","object":"chat.completion.chunk","created":1727346178,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"ti"}}]},"logprobs":null,"finish_reason":null}]}"#,
        "\n\n",
        r#"data: {"id":"chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63","object":"chat.completion.chunk","created":1727346178,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}"#,
        "\n\n",
        r#"data: {"id":"chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63","object":"chat.completion.chunk","created":1727346178,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[],"usage":{"prompt_tokens":149,"completion_tokens":60,"total_tokens":209,"completion_tokens_details":{"reasoning_tokens":0}}}"#,
        "\n\n",
        "data: [DONE]\n\n",
    );

    #[test]
    fn recorded_stream_excerpt_accumulates_each_call_by_index() {
        let turn = decode_response_sse(&events(RECORDED_STREAM_EXCERPT)).unwrap();
        assert_eq!(turn.stop, StopReason::ToolUse);
        assert_eq!(
            turn.blocks,
            vec![
                Block::ToolCall(call(
                    "call_JMW1whyEaYG438VE1OIflxA2",
                    "GetWeatherArgs",
                    r#"{"city": "#
                )),
                Block::ToolCall(call(
                    "call_DNYTawLBoN8fj3KN6qU9N1Ou",
                    "get_stock_price",
                    r#"{"ti"#
                )),
            ]
        );
    }

    #[test]
    fn sequential_streamed_calls_with_id_only_in_the_first_delta_are_accumulated() {
        let turn = decode_response_sse(&stream(&[
            chunk(&json!({"role": "assistant", "content": null}), None),
            chunk(&opens(0, "call_a", "get_weather", ""), None),
            chunk(&continues(0, "{\"city\":"), None),
            chunk(&continues(0, "\"Paris\"}"), None),
            chunk(&opens(1, "call_b", "get_time", ""), None),
            chunk(&continues(1, "{\"tz\":\"CET\"}"), None),
            chunk(&json!({}), Some("tool_calls")),
            done(),
        ]))
        .unwrap();
        assert_eq!(
            calls(&turn),
            vec![
                call("call_a", "get_weather", r#"{"city":"Paris"}"#),
                call("call_b", "get_time", r#"{"tz":"CET"}"#),
            ]
        );
        assert_eq!(turn.stop, StopReason::ToolUse);
    }

    #[test]
    fn interleaved_deltas_are_joined_per_index_in_order_of_first_appearance() {
        let turn = decode_response_sse(&stream(&[
            chunk(&opens(0, "call_a", "a", "{\"x\""), None),
            chunk(&opens(1, "call_b", "b", "{\"y\""), None),
            chunk(&continues(0, ":1"), None),
            chunk(&opens(2, "call_c", "c", "{}"), None),
            chunk(&continues(1, ":2}"), None),
            chunk(&continues(0, "}"), None),
            chunk(&json!({}), Some("tool_calls")),
            done(),
        ]))
        .unwrap();
        assert_eq!(
            calls(&turn),
            vec![
                call("call_a", "a", r#"{"x":1}"#),
                call("call_b", "b", r#"{"y":2}"#),
                call("call_c", "c", "{}"),
            ]
        );
    }

    #[test]
    fn ollama_calls_all_at_index_zero_with_distinct_ids_stay_separate() {
        let turn = decode_response_sse(&stream(&[
            chunk(
                &opens(0, "call_k2f8x0qa", "get_weather", r#"{"city":"Paris"}"#),
                None,
            ),
            chunk(
                &opens(0, "call_9zq1m3bd", "get_weather", r#"{"city":"Rome"}"#),
                None,
            ),
            chunk(&json!({}), Some("tool_calls")),
            done(),
        ]))
        .unwrap();
        assert_eq!(
            calls(&turn),
            vec![
                call("call_k2f8x0qa", "get_weather", r#"{"city":"Paris"}"#),
                call("call_9zq1m3bd", "get_weather", r#"{"city":"Rome"}"#),
            ]
        );
    }

    #[test]
    fn a_repeated_id_at_the_same_index_continues_the_call() {
        let turn = decode_response_sse(&stream(&[
            chunk(&opens(0, "call_a", "f", "{\"x\":"), None),
            chunk(&opens(0, "call_a", "f", "1}"), None),
            done(),
        ]))
        .unwrap();
        assert_eq!(calls(&turn), vec![call("call_a", "f", r#"{"x":1}"#)]);
    }

    #[test]
    fn the_last_fragment_may_arrive_with_finish_reason() {
        let turn = decode_response_sse(&stream(&[
            chunk(
                &opens(
                    0,
                    "chatcmpl-tool-0123456789abcdef0123456789abcdef",
                    "f",
                    "{\"x\":",
                ),
                None,
            ),
            chunk(&continues(0, "1}"), Some("tool_calls")),
            done(),
        ]))
        .unwrap();
        assert_eq!(
            calls(&turn),
            vec![call(
                "chatcmpl-tool-0123456789abcdef0123456789abcdef",
                "f",
                r#"{"x":1}"#
            )]
        );
        assert_eq!(turn.stop, StopReason::ToolUse);
    }

    #[test]
    fn the_first_chunk_may_carry_role_and_the_first_call() {
        let mut first = opens(0, "call_a", "f", "");
        first["role"] = json!("assistant");
        first["content"] = Value::Null;
        let turn = decode_response_sse(&stream(&[
            chunk(&first, None),
            chunk(&continues(0, "{}"), None),
            chunk(&json!({}), Some("stop")),
            done(),
        ]))
        .unwrap();
        assert_eq!(calls(&turn), vec![call("call_a", "f", "{}")]);
        assert_eq!(turn.stop, StopReason::EndTurn);
    }

    #[test]
    fn text_deltas_become_one_text_block_before_the_calls() {
        let mut with_obfuscation: Value =
            serde_json::from_str(&chunk(&json!({"content": "Let me "}), None)).unwrap();
        with_obfuscation["obfuscation"] = json!("x7Qa");
        let turn = decode_response_sse(&stream(&[
            with_obfuscation.to_string(),
            chunk(&json!({}), None),
            chunk(&opens(0, "call_a", "f", "{}"), None),
            chunk(&json!({"content": "check."}), None),
            chunk(&json!({}), Some("tool_calls")),
            done(),
        ]))
        .unwrap();
        assert_eq!(
            turn.blocks,
            vec![
                Block::Text {
                    text: "Let me check.".to_owned()
                },
                Block::ToolCall(call("call_a", "f", "{}")),
            ]
        );
    }

    #[test]
    fn a_stream_without_done_is_reported_as_truncated() {
        let err = decode_response_sse(&stream(&[
            chunk(&opens(0, "call_a", "f", "{}"), None),
            chunk(&json!({}), Some("tool_calls")),
        ]))
        .unwrap_err();
        assert_eq!(err.at, "frame 2");
        assert_eq!(
            err.message,
            "stream ends without `data: [DONE]`: truncated?"
        );
    }

    #[test]
    fn an_event_after_done_is_refused() {
        let err = decode_response_sse(&stream(&[
            chunk(&opens(0, "call_a", "f", "{}"), None),
            done(),
            chunk(&json!({}), Some("tool_calls")),
        ]))
        .unwrap_err();
        assert_eq!(err.at, "frame 2");
    }

    #[test]
    fn an_error_chunk_in_the_stream_is_reported_with_its_message() {
        let err = decode_response_sse(&stream(&[
            chunk(&opens(0, "call_a", "f", "{"), None),
            r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}"#.to_owned(),
            done(),
        ]))
        .unwrap_err();
        assert_eq!(err.at, "frame 1");
        assert!(err.message.contains("The server had an error"), "{err}");
    }

    #[test]
    fn a_fragment_for_an_index_never_opened_names_its_frame() {
        let err = decode_response_sse(&stream(&[
            chunk(&opens(0, "call_a", "f", "{}"), None),
            chunk(&continues(1, "{\"x\":1}"), None),
            done(),
        ]))
        .unwrap_err();
        assert_eq!(err.at, "frame 1");
        assert!(err.message.contains("index 1"), "{err}");
    }

    #[test]
    fn a_chunk_that_is_not_json_names_its_frame() {
        let err = decode_response_sse(&stream(&["{\"choices\":".to_owned(), done()])).unwrap_err();
        assert_eq!(err.at, "frame 0");
    }
}
