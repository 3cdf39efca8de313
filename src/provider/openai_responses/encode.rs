//! The follow-up items a correct loop sends.

use serde_json::{Map, Value, json};

use crate::transcript::{AssistantTurn, Block, ToolResult};

/// The items that echo `turn` back, in response order, as one JSON array: each reasoning
/// item with its id, summary and `encrypted_content`, each text as an assistant message, each
/// call as a `function_call` with its `call_id` and, when served with one, its item id.
#[must_use]
pub fn encode_assistant(turn: &AssistantTurn) -> Value {
    let items = turn
        .blocks
        .iter()
        .filter_map(|block| match block {
            Block::Thinking(thinking) => {
                let mut item = Map::new();
                item.insert("type".into(), json!("reasoning"));
                if let Some(id) = &thinking.id {
                    item.insert("id".into(), json!(id));
                }
                let summary: Vec<Value> = if thinking.text.is_empty() {
                    Vec::new()
                } else {
                    vec![json!({"type": "summary_text", "text": thinking.text})]
                };
                item.insert("summary".into(), Value::Array(summary));
                if let Some(signature) = &thinking.signature {
                    item.insert("encrypted_content".into(), json!(signature));
                }
                Some(Value::Object(item))
            }
            Block::Text { text } => Some(json!({"type": "message", "role": "assistant",
                "content": [{"type": "output_text", "text": text}]})),
            Block::ToolCall(call) => {
                let mut item = Map::new();
                item.insert("type".into(), json!("function_call"));
                if let Some(id) = &call.item_id {
                    item.insert("id".into(), json!(id));
                }
                item.insert("call_id".into(), json!(call.id));
                item.insert("name".into(), json!(call.name));
                item.insert("arguments".into(), json!(call.arguments));
                Some(Value::Object(item))
            }
            Block::Other { kind } => Some(json!({ "type": kind })),
            Block::ToolResult(_) => None,
        })
        .collect();
    Value::Array(items)
}

/// One `function_call_output` per result, in the order given. The output is a string or a
/// list of content parts; anything else is sent as its JSON text. There is no error flag: a
/// failure is told in the output.
#[must_use]
pub fn encode_results(results: &[ToolResult]) -> Vec<Value> {
    results
        .iter()
        .map(|result| {
            let output = match &result.content {
                Value::String(_) | Value::Array(_) => result.content.clone(),
                other => Value::String(other.to_string()),
            };
            json!({"type": "function_call_output", "call_id": result.call_id, "output": output})
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Provider;
    use crate::transcript::{Role, StopReason, Thinking, ToolCall};

    #[test]
    fn a_served_turn_and_its_results_decode_back_to_the_same_blocks() {
        let turn = AssistantTurn {
            blocks: vec![
                Block::Thinking(Thinking {
                    kind: "reasoning".into(),
                    text: String::new(),
                    signature: Some("enc".into()),
                    id: Some("rs_1".into()),
                }),
                Block::ToolCall(ToolCall {
                    id: "call_a".into(),
                    name: "add".into(),
                    arguments: "{}".into(),
                    item_id: Some("fc_1".into()),
                }),
            ],
            stop: StopReason::ToolUse,
        };
        let results = [ToolResult {
            call_id: "call_a".into(),
            content: json!(5),
            is_error: false,
        }];
        let mut wire = vec![encode_assistant(&turn)];
        wire.extend(encode_results(&results));
        let messages = Provider::OpenAiResponses.decode_messages(&wire).unwrap();
        assert_eq!(messages[0].role, Role::Assistant);
        assert_eq!(messages[0].blocks, turn.blocks);
        let (_, result) = messages[1].tool_results().next().unwrap();
        assert_eq!(result.content, json!("5"));
    }
}
