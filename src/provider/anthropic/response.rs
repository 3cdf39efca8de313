//! A `message` body into an assistant turn.

use serde_json::Value;
use serde_json::value::RawValue;

use super::wire::*;
use crate::provider::ResponseError;
use crate::provider::json::read;
use crate::transcript::{AssistantTurn, Block, StopReason, Thinking, ToolCall};

/// Decodes a JSON response body (a `message` object).
///
/// # Errors
/// The body is not a message, or a block lacks a field or has one of the wrong type; the error
/// names the JSON path (`content[2].input`).
pub fn decode_response_json(body: &str) -> Result<AssistantTurn, ResponseError> {
    let WireResponse {
        content,
        stop_reason,
    } = read(body, "")?;
    let blocks = content
        .iter()
        .enumerate()
        .map(|(i, raw)| response_block(raw, &format!("content[{i}]")))
        .collect::<Result<_, _>>()?;
    Ok(AssistantTurn {
        blocks,
        stop: stop_reason_of(stop_reason.as_deref()),
    })
}

pub(super) fn response_block(raw: &RawValue, at: &str) -> Result<Block, ResponseError> {
    let Tagged { kind } = read(raw.get(), at)?;
    Ok(match kind.as_str() {
        "text" => {
            let TextBlock { text } = read(raw.get(), at)?;
            Block::Text { text }
        }
        THINKING => {
            let ThinkingBlock {
                thinking,
                signature,
            } = read(raw.get(), at)?;
            Block::Thinking(Thinking {
                kind,
                text: thinking,
                signature: Some(signature),
                id: None,
            })
        }
        REDACTED_THINKING => {
            let RedactedThinkingBlock { data } = read(raw.get(), at)?;
            Block::Thinking(Thinking {
                kind,
                text: data,
                signature: None,
                id: None,
            })
        }
        "tool_use" => {
            let ToolUseBlock { id, name, input } = read(raw.get(), at)?;
            Block::ToolCall(ToolCall {
                id,
                name,
                arguments: Value::Object(input).to_string(),
                item_id: None,
            })
        }
        _ => Block::Other { kind },
    })
}

pub(super) fn stop_reason_of(wire: Option<&str>) -> StopReason {
    match wire {
        Some("tool_use") => StopReason::ToolUse,
        Some("end_turn" | "stop_sequence") => StopReason::EndTurn,
        Some("max_tokens") => StopReason::MaxTokens,
        _ => StopReason::Other,
    }
}

#[cfg(test)]
mod tests {

    use crate::transcript::{Block, StopReason, Thinking};

    use super::*;
    use crate::provider::anthropic::test_support::*;

    // -- JSON responses -----------------------------------------------------------------------

    /// Response #0 of `fantasy-sonnet-4-parallel2-followup.yaml` (charmbracelet/fantasy,
    /// Apache-2.0, "Copyright 2025-2026 Charmbracelet, Inc."), with `caller` and `inference_geo`.
    const FANTASY_RESPONSE: &str = r#"{"model":"claude-sonnet-4-20250514","id":"msg_01SKkVkB84yWcweNDwx31xBd","type":"message","role":"assistant","content":[{"type":"text","text":"I'll add and multiply the numbers 2 and 3 for you."},{"type":"tool_use","id":"toolu_01StBeRxDEwsqcc3arbDgpS9","name":"add","input":{"a":2,"b":3},"caller":{"type":"direct"}},{"type":"tool_use","id":"toolu_01AC6WQhj2iRkdYHgTAGMpVQ","name":"multiply","input":{"a":2,"b":3},"caller":{"type":"direct"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":507,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":137,"service_tier":"standard","inference_geo":"not_available"}}"#;

    #[test]
    fn a_recorded_parallel_response_decodes_in_block_order() {
        let turn = decode_response_json(FANTASY_RESPONSE).unwrap();
        assert_eq!(
            turn.blocks,
            vec![
                text("I'll add and multiply the numbers 2 and 3 for you."),
                call("toolu_01StBeRxDEwsqcc3arbDgpS9", "add", r#"{"a":2,"b":3}"#),
                call(
                    "toolu_01AC6WQhj2iRkdYHgTAGMpVQ",
                    "multiply",
                    r#"{"a":2,"b":3}"#
                ),
            ]
        );
        assert_eq!(turn.stop, StopReason::ToolUse);
    }

    /// Response #0 of `pydantic-ai-haiku-4.5-parallel4-followup.yaml` (pydantic/pydantic-ai,
    /// MIT, "Copyright (c) Pydantic Services Inc. 2024 to present"), its `parsed_body` written
    /// as JSON in the recording's key order (`type` last), two of the four calls kept.
    #[test]
    fn blocks_with_their_type_last_decode_too() {
        let body = r#"{"content":[{"text":"I'll help you find out who is the youngest by retrieving information about each family member. I'll retrieve their entity information to compare their ages.","type":"text"},{"id":"toolu_0167cfEnoQaPviGdVXA95zcu","input":{"name":"Alice"},"name":"retrieve_entity_info","type":"tool_use"},{"id":"toolu_01EEe2V5HD1Ac4rKiUR4HD2T","input":{"name":"Bob"},"name":"retrieve_entity_info","type":"tool_use"}],"id":"msg_011S3wxtqL5CVescWqS3zeg2","model":"claude-haiku-4-5-20251001","role":"assistant","stop_reason":"tool_use","stop_sequence":null,"type":"message","usage":{"cache_creation":{"ephemeral_1h_input_tokens":0,"ephemeral_5m_input_tokens":0},"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"input_tokens":423,"output_tokens":202,"service_tier":"standard"}}"#;
        let turn = decode_response_json(body).unwrap();
        let calls: Vec<_> = turn.tool_calls().map(|c| c.arguments.as_str()).collect();
        assert_eq!(calls, [r#"{"name":"Alice"}"#, r#"{"name":"Bob"}"#]);
        assert!(turn.text().starts_with("I'll help you"));
    }

    #[test]
    fn thinking_redacted_thinking_and_server_tool_blocks_keep_their_place() {
        let body = r#"{"type":"message","content":[
            {"type":"thinking","thinking":"Two lookups.","signature":"EqQBCgIYAhIM"},
            {"type":"redacted_thinking","data":"EmwKAhgBEgy3"},
            {"type":"server_tool_use","id":"srvtoolu_01","name":"web_search","input":{"query":"x"}},
            {"type":"web_search_tool_result","tool_use_id":"srvtoolu_01","content":[]},
            {"type":"tool_use","id":"toolu_01","name":"lookup","input":{"z":1,"a":{"y":2,"b":3}}}],
            "stop_reason":"max_tokens","stop_details":null}"#;
        let turn = decode_response_json(body).unwrap();
        assert_eq!(
            turn.blocks,
            vec![
                Block::Thinking(Thinking {
                    kind: "thinking".to_owned(),
                    text: "Two lookups.".to_owned(),
                    signature: Some("EqQBCgIYAhIM".to_owned()),
                    id: None,
                }),
                Block::Thinking(Thinking {
                    kind: "redacted_thinking".to_owned(),
                    text: "EmwKAhgBEgy3".to_owned(),
                    signature: None,
                    id: None,
                }),
                Block::Other {
                    kind: "server_tool_use".to_owned()
                },
                Block::Other {
                    kind: "web_search_tool_result".to_owned()
                },
                call("toolu_01", "lookup", r#"{"z":1,"a":{"y":2,"b":3}}"#),
            ]
        );
        assert_eq!(turn.stop, StopReason::MaxTokens);
    }

    #[test]
    fn stop_reasons_map_to_neutral_ones() {
        for (wire, stop) in [
            ("\"tool_use\"", StopReason::ToolUse),
            ("\"end_turn\"", StopReason::EndTurn),
            ("\"stop_sequence\"", StopReason::EndTurn),
            ("\"max_tokens\"", StopReason::MaxTokens),
            ("\"pause_turn\"", StopReason::Other),
            ("null", StopReason::Other),
        ] {
            let body = format!(r#"{{"content":[],"stop_reason":{wire}}}"#);
            assert_eq!(decode_response_json(&body).unwrap().stop, stop, "{wire}");
        }
    }

    #[test]
    fn a_tool_use_input_that_is_not_an_object_is_reported_at_its_path() {
        let body = r#"{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"},
            {"type":"tool_use","id":"toolu_01","name":"f","input":"{\"a\":1}"}],"stop_reason":"tool_use"}"#;
        let err = decode_response_json(body).unwrap_err();
        assert_eq!(err.at, "content[2].input");
        assert!(err.message.contains("expected a map"), "{}", err.message);
    }

    #[test]
    fn a_block_missing_a_field_is_reported_at_the_block() {
        let err =
            decode_response_json(r#"{"content":[{"type":"tool_use","name":"f","input":{}}]}"#)
                .unwrap_err();
        assert_eq!(err.at, "content[0]");
        assert!(
            err.message.contains("missing field `id`"),
            "{}",
            err.message
        );
    }
}
