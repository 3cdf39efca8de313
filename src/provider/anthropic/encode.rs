//! The follow-up messages a correct loop sends.

use serde_json::{Value, json};

use super::wire::*;
use crate::transcript::{AssistantTurn, Block, Thinking, ToolResult};

/// The assistant message that echoes a served turn: every block as served, in order.
#[must_use]
pub fn encode_assistant(turn: &AssistantTurn) -> Value {
    let content: Vec<Value> = turn.blocks.iter().map(encode_block).collect();
    json!({"role": "assistant", "content": content})
}

/// One `user` message carrying every result as a `tool_result` block, in the order given; no
/// message at all for no results.
#[must_use]
pub fn encode_results(results: &[ToolResult]) -> Vec<Value> {
    if results.is_empty() {
        return Vec::new();
    }
    let content: Vec<Value> = results.iter().map(encode_result).collect();
    vec![json!({"role": "user", "content": content})]
}

pub(super) fn encode_block(block: &Block) -> Value {
    match block {
        Block::Text { text } => json!({"type": "text", "text": text}),
        Block::Thinking(Thinking {
            kind,
            text,
            signature,
            id: _,
        }) => {
            // A `thinking` block without a signature is sent without one: the API refuses
            // it, which is the truth about such a turn.
            if kind == REDACTED_THINKING {
                json!({"type": REDACTED_THINKING, "data": text})
            } else {
                let mut block = json!({"type": THINKING, "thinking": text});
                if let Some(signature) = signature {
                    block["signature"] = json!(signature);
                }
                block
            }
        }
        Block::ToolCall(call) => {
            // Arguments that are not JSON (cut off at `max_tokens`) cannot become an object;
            // sending the text makes the problem visible instead of inventing arguments.
            let input = call
                .arguments_value()
                .unwrap_or_else(|| Value::String(call.arguments.clone()));
            json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input})
        }
        Block::ToolResult(result) => encode_result(result),
        Block::Other { kind } => json!({ "type": kind }),
    }
}

pub(super) fn encode_result(result: &ToolResult) -> Value {
    let ToolResult {
        call_id,
        content,
        is_error,
    } = result;
    let mut block = json!({"type": "tool_result", "tool_use_id": call_id});
    if !content.is_null() {
        block["content"] = content.clone();
    }
    if *is_error {
        block["is_error"] = json!(true);
    }
    block
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use crate::provider::anthropic::*;

    use crate::transcript::{
        AssistantTurn, Block, Role, StopReason, Thinking, ToolCall, ToolResult,
    };
    use proptest::prelude::*;

    use super::*;
    use crate::provider::anthropic::test_support::*;

    // -- encoding -----------------------------------------------------------------------------

    #[test]
    fn an_assistant_turn_is_echoed_as_served() {
        let turn = AssistantTurn {
            blocks: vec![
                Block::Thinking(Thinking {
                    kind: "thinking".to_owned(),
                    text: "hmm".to_owned(),
                    signature: Some("sig".to_owned()),
                    id: None,
                }),
                Block::Thinking(Thinking {
                    kind: "redacted_thinking".to_owned(),
                    text: "opaque".to_owned(),
                    signature: None,
                    id: None,
                }),
                text("Checking."),
                call("toolu_1", "f", r#"{"z": 1, "a": 2}"#),
                call("toolu_2", "now", ""),
            ],
            stop: StopReason::ToolUse,
        };
        assert_eq!(
            encode_assistant(&turn).to_string(),
            r#"{"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"sig"},{"type":"redacted_thinking","data":"opaque"},{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_1","name":"f","input":{"z":1,"a":2}},{"type":"tool_use","id":"toolu_2","name":"now","input":{}}]}"#
        );
    }

    #[test]
    fn results_travel_in_one_user_message_with_is_error_only_when_set() {
        let results = [
            ToolResult {
                call_id: "toolu_1".to_owned(),
                content: json!("12C"),
                is_error: false,
            },
            ToolResult {
                call_id: "toolu_2".to_owned(),
                content: json!([{"type": "text", "text": "boom"}]),
                is_error: true,
            },
        ];
        let wire = encode_results(&results);
        assert_eq!(wire.len(), 1);
        assert_eq!(
            wire[0].to_string(),
            r#"{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"12C"},{"type":"tool_result","tool_use_id":"toolu_2","content":[{"type":"text","text":"boom"}],"is_error":true}]}"#
        );
        assert!(encode_results(&[]).is_empty());
    }

    #[test]
    fn encoded_turns_and_results_decode_back() {
        let turn = decode_response_sse(&events(FANTASY_STREAM)).unwrap();
        let results = vec![
            ToolResult {
                call_id: "toolu_01UYxUYC2zRPY8wiutnF48eP".to_owned(),
                content: json!("5"),
                is_error: false,
            },
            ToolResult {
                call_id: "toolu_01VaRx1jpWCvPhi7L4kywAcd".to_owned(),
                content: Value::Null,
                is_error: true,
            },
        ];
        let mut messages = vec![json!({"role": "user", "content": "Add and multiply 2 and 3"})];
        messages.push(encode_assistant(&turn));
        messages.extend(encode_results(&results));
        let body = json!({"model": "m", "max_tokens": 1, "tools": [{"name": "t", "input_schema": {"type": "object"}}], "messages": messages});
        let decoded = decode_request(&body).unwrap().conversation.messages;
        assert_eq!(decoded.len(), 3);
        assert_eq!(decoded[1].role, Role::Assistant);
        assert_eq!(decoded[1].blocks.len(), turn.blocks.len());
        for (sent, served) in decoded[1].tool_calls().zip(turn.tool_calls()) {
            assert_eq!((&sent.id, &sent.name), (&served.id, &served.name));
            assert!(
                sent.same_arguments(served),
                "{} vs {}",
                sent.arguments,
                served.arguments
            );
        }
        assert_eq!(decoded[1].text(), turn.text());
        let back: Vec<ToolResult> = decoded[2].tool_results().map(|(_, r)| r.clone()).collect();
        assert_eq!(back, results);
    }

    fn arbitrary_call() -> impl Strategy<Value = ToolCall> {
        (
            "toolu_[A-Za-z0-9]{4,24}",
            "[a-z_]{1,12}",
            prop::collection::vec(("[a-z]{1,6}", any::<i32>()), 0..4),
        )
            .prop_map(|(id, name, fields)| {
                let input: Map<String, Value> =
                    fields.into_iter().map(|(k, v)| (k, json!(v))).collect();
                ToolCall {
                    id,
                    name,
                    arguments: Value::Object(input).to_string(),
                    item_id: None,
                }
            })
    }

    proptest::proptest! {
        #[test]
        fn any_turn_and_its_results_survive_the_wire(
            prose in proptest::option::of(".{0,40}"),
            calls in prop::collection::vec(arbitrary_call(), 1..8),
            failing in prop::collection::vec(any::<bool>(), 8),
        ) {
            let mut blocks: Vec<Block> = prose.map(|text| Block::Text { text }).into_iter().collect();
            blocks.extend(calls.iter().cloned().map(Block::ToolCall));
            let turn = AssistantTurn { blocks, stop: StopReason::ToolUse };
            let results: Vec<ToolResult> = calls
                .iter()
                .zip(&failing)
                .map(|(c, &is_error)| ToolResult {
                    call_id: c.id.clone(),
                    content: json!(format!("result of {}", c.name)),
                    is_error,
                })
                .collect();
            let mut messages = vec![json!({"role": "user", "content": "go"}), encode_assistant(&turn)];
            messages.extend(encode_results(&results));
            let body = json!({"model": "m", "max_tokens": 1, "tools": [{"name": "t", "input_schema": {"type": "object"}}], "messages": messages});
            let decoded = decode_request(&body).unwrap().conversation.messages;
            prop_assert_eq!(decoded.len(), 3);
            prop_assert_eq!(&decoded[1].blocks, &turn.blocks);
            let back: Vec<ToolResult> = decoded[2].tool_results().map(|(_, r)| r.clone()).collect();
            prop_assert_eq!(back, results);
        }
    }
}
