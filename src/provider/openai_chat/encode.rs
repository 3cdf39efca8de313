//! The follow-up messages a correct loop sends.

use serde_json::{Map, Value, json};

use crate::transcript::{AssistantTurn, ToolResult};

/// The assistant message that echoes `turn` back: text (or `null`) and its tool calls.
#[must_use]
pub fn encode_assistant(turn: &AssistantTurn) -> Value {
    let text = turn.text();
    let mut message = Map::new();
    message.insert("role".to_owned(), json!("assistant"));
    message.insert(
        "content".to_owned(),
        if text.is_empty() {
            Value::Null
        } else {
            Value::String(text)
        },
    );
    let calls: Vec<Value> = turn
        .tool_calls()
        .map(|call| {
            json!({
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            })
        })
        .collect();
    if !calls.is_empty() {
        message.insert("tool_calls".to_owned(), Value::Array(calls));
    }
    Value::Object(message)
}

/// One `tool` message per result, in the order given, content as given. Chat Completions has
/// no error flag: a failure is told in the content.
#[must_use]
pub fn encode_results(results: &[ToolResult]) -> Vec<Value> {
    results
        .iter()
        .map(|result| {
            json!({
                "role": "tool",
                "tool_call_id": result.call_id,
                "content": result.content,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::provider::Provider;
    use crate::provider::openai_chat::test_support::*;
    use crate::transcript::{AssistantTurn, Block, Role, StopReason, ToolResult};

    #[test]
    fn encoded_turn_and_results_decode_back_to_the_same_calls_and_results() {
        let turn = AssistantTurn {
            blocks: vec![
                Block::Text {
                    text: "Looking.".to_owned(),
                },
                Block::ToolCall(call("call_a", "get_weather", r#"{"city": "Edinburgh"}"#)),
                Block::ToolCall(call("call_b", "get_stock_price", "")),
            ],
            stop: StopReason::ToolUse,
        };
        let results = vec![
            ToolResult {
                call_id: "call_a".to_owned(),
                content: json!("12C, rain"),
                is_error: false,
            },
            ToolResult {
                call_id: "call_b".to_owned(),
                content: json!([{"type": "text", "text": "227.1"}]),
                is_error: false,
            },
        ];
        let mut wire = vec![encode_assistant(&turn)];
        wire.extend(encode_results(&results));
        let messages = Provider::OpenAiChat.decode_messages(&wire).unwrap();
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[0].role, Role::Assistant);
        assert_eq!(messages[0].blocks, turn.blocks);
        for (message, result) in messages[1..].iter().zip(&results) {
            assert_eq!(message.role, Role::Tool);
            assert_eq!(message.blocks, vec![Block::ToolResult(result.clone())]);
        }
    }

    #[test]
    fn an_assistant_turn_without_text_or_calls_encodes_null_content_and_no_tool_calls() {
        let wire = encode_assistant(&AssistantTurn {
            blocks: vec![Block::ToolCall(call("call_a", "f", "{}"))],
            stop: StopReason::ToolUse,
        });
        assert_eq!(
            wire.to_string(),
            r#"{"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"f","arguments":"{}"}}]}"#
        );
        let wire = encode_assistant(&AssistantTurn {
            blocks: vec![Block::Text {
                text: "Done.".to_owned(),
            }],
            stop: StopReason::EndTurn,
        });
        assert_eq!(
            wire.to_string(),
            r#"{"role":"assistant","content":"Done."}"#
        );
    }
}
